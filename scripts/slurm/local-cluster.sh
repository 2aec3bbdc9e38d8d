#!/bin/bash
# Start a single-node Slurm cluster on this machine (Debian's slurm-wlm and munge, as root):
# munged, slurmctld and slurmd with a generated slurm.conf under $SLURM_LOCAL (default
# /tmp/slurm-local). Prints the `export SLURM_CONF=...` line that sbatch/squeue/scontrol need.
# Idempotent: a cluster already answering is left as it is. For tests and trying things out,
# not for production. Stop it with: scripts/slurm/local-cluster.sh stop
#
#   apt-get install -y slurm-wlm munge      # once
#   eval "$(scripts/slurm/local-cluster.sh)"
set -euo pipefail
DIR=${SLURM_LOCAL:-/tmp/slurm-local}
CONF=$DIR/slurm.conf
say() { echo "local-cluster: $*" >&2; }

if [ "${1:-}" = stop ]; then
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    say "stopped slurmd and slurmctld ($DIR)"
    exit 0
fi
for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { say "$tool not found: apt-get install -y slurm-wlm munge"; exit 2; }
done
[ "$(id -u)" = 0 ] || { say "run as root (slurmd must)"; exit 2; }

# munge: the key, then the daemon as its own user.
if ! munge -n </dev/null >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || mungekey --create --force
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- munged
    say "munged started"
fi

if [ -f "$CONF" ] && SLURM_CONF=$CONF timeout 10 sinfo -h >/dev/null 2>&1; then
    say "already running ($CONF)"
else
    mkdir -p "$DIR/state" "$DIR/spool"
    HOST=$(hostname -s)
    # This node as slurmd sees it (CPUs, memory), then the rest of a minimal configuration.
    NODE=$(slurmd -C | sed -n 1p)
    cat > "$CONF" <<CONFIG
ClusterName=local
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
JobRequeue=1
SchedulerType=sched/backfill
$NODE State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONFIG
    slurmctld -f "$CONF"
    slurmd -f "$CONF"
    up() {
        local state
        state=$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null || true)
        case "$state" in idle* | mixed* | allocated*) return 0 ;; *) return 1 ;; esac
    }
    for _ in $(seq 1 60); do
        up && break
        sleep 1
    done
    up || { say "the node did not come up; see $DIR/slurmctld.log and $DIR/slurmd.log"; exit 1; }
    say "slurmctld and slurmd up: $NODE"
fi
echo "export SLURM_CONF=$CONF"
