#!/bin/bash
# A suite on a real Slurm (docs/cluster.md): a small Pendulum suite (2 optimizers ×
# 2 seeds × 2000 steps) submitted as a job array to a single-node cluster on this machine
# (scripts/slurm/local-cluster.sh), one task requeued while it runs (killed, queued again, and
# continued from its checkpoint); then the shared directory's records and rl-report must equal
# those of the same suite run by one process. Needs root and `apt-get install -y slurm-wlm
# munge`; CI runs it (.ci/run). Exit 0 and one OK line, or the first difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/suite-test-common.sh "slurm suite test"
export RL_TRAIN
eval "$(scripts/slurm/local-cluster.sh)"
cat > "$WORK/suite.toml" <<SUITE
[suite]
env = "Pendulum"
base = "$ROOT/configs/pendulum.toml"
steps = 2000
seeds = 2
jobs = 2
out = "$WORK/shared"
optimizers = ["adam", "ps-da-sgd"]
SUITE
FLAGS=(--checkpoint-every 400 --eval-every 1000)

# The reference: the same suite by one process.
"$RL_TRAIN" --config "$WORK/suite.toml" "${FLAGS[@]}" --out "$WORK/local" --no-plots --no-progress \
    > "$WORK/local.log" 2>&1 || fail "the local run failed: $(tail -1 "$WORK/local.log")"

N=$("$RL_TRAIN" --config "$WORK/suite.toml" "${FLAGS[@]}" --list-tasks | grep -vc '^#')
JOB=$(sbatch --parsable --array=0-$((N - 1)) --mem=1G --output="$WORK/slurm-%A_%a.out" \
    scripts/slurm/suite.sbatch "$WORK/suite.toml" "${FLAGS[@]}")
JOB=${JOB%%;*}

# Requeue task 1 (adam seed 1) once it has a checkpoint, while it still runs.
MARKER=$WORK/shared/adam/seed-1/checkpoint/counters.json
for _ in $(seq 1 600); do [ -f "$MARKER" ] && break; sleep 0.2; done
[ -f "$MARKER" ] || fail "task 1 wrote no checkpoint within 120 s"
INTERRUPTED=no
[ -f "$WORK/shared/adam/seed-1/summary.json" ] || INTERRUPTED=yes
# (Should the task have finished in between, there is nothing to requeue: the check below is
# then only that records match.)
scontrol requeue "${JOB}_1" 2>/dev/null || INTERRUPTED=no

for _ in $(seq 1 600); do
    [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
    sleep 1
done
[ -z "$(squeue -h -j "$JOB")" ] || fail "the array did not finish within 10 minutes"
if [ $INTERRUPTED = yes ]; then
    grep -q "resuming at step" "$WORK"/slurm-"${JOB}"_1.out \
        || fail "the requeued task 1 did not resume from its checkpoint ($WORK/slurm-${JOB}_1.out)"
fi

same_records "$WORK/local" "$WORK/shared"
echo "slurm suite test: OK ($N tasks as array job $JOB, task 1 requeued mid-run: $INTERRUPTED;" \
    "records and report equal to one process) in $((SECONDS - START)) s"
rm -rf "$WORK"
