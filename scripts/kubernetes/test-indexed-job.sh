#!/bin/bash
# The Kubernetes Indexed Job of docs/cluster.md, played on this machine: the manifest
# (suite-job.yaml) is rendered with envsubst, and its container's workingDir, command and args
# are run as the Job controller would run them: one "pod" per index with JOB_COMPLETION_INDEX
# and LRFREE_JOB_ID set, at most `parallelism` at once, each in its own UTS and PID namespace
# (host name <job>-<index>, rl-train as PID 1, as in a pod). The pod of index 1 is killed once it
# has a checkpoint and replaced by a new pod of the same index (same host name, its own PID 1,
# so only the Job uid and index prove the old lock is its own); it must resume. Then the shared
# directory's records and rl-report must equal those of one process. Needs root (unshare) and
# envsubst; CI runs it (.ci/run). Exit 0 and one OK line, or the first difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/suite-test-common.sh "kubernetes suite test"
command -v envsubst >/dev/null || fail "envsubst is missing (Debian's gettext-base)"
unshare --uts --pid --fork --mount-proc true 2>/dev/null || fail "unshare needs root here"

# The shared volume: the "repository checkout" (its binary, a suite and its base config).
SHARED=$WORK/volume
REPO=$SHARED/lrfree-rl
mkdir -p "$REPO/target/release" "$REPO/configs"
ln -s "$RL_TRAIN" "$REPO/target/release/rl-train"
cp configs/pendulum.toml "$REPO/configs/"
cat > "$REPO/configs/suite-k8s.toml" <<SUITE
[suite]
env = "Pendulum"
base = "pendulum.toml"
steps = 2000
seeds = 2
jobs = 1
out = "runs/suite-k8s"
optimizers = ["adam", "ps-da-sgd"]
SUITE
FLAGS=(--checkpoint-every 400 --eval-every 1000)
TASKS=$("$RL_TRAIN" --config "$REPO/configs/suite-k8s.toml" --list-tasks | grep -vc '^#')

export NAME=rl-suite-test TASKS PARALLEL=2 SUITE=configs/suite-k8s.toml IMAGE=local CLAIM=local
envsubst < scripts/kubernetes/suite-job.yaml > "$WORK/job.yaml"
# The fields the controller uses, read from the rendered manifest.
field() { sed -n "s/^ *$1: *//p" "$WORK/job.yaml" | head -1; }
WORKDIR=$(field workingDir)
PODS=$(field parallelism)
[ "$(field completions)" = "$TASKS" ] || fail "completions is not the task count"
[ "$(field completionMode)" = Indexed ] || fail "not an Indexed Job"
grep -q "name: LRFREE_JOB_ID" "$WORK/job.yaml" || fail "the manifest passes no LRFREE_JOB_ID"
mapfile -t ARGV < <(python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
get = lambda key: next(json.loads(l.split(":", 1)[1]) for l in lines if l.strip().startswith(key + ":"))
print("\n".join(get("command") + get("args")))' "$WORK/job.yaml")
[ "${WORKDIR:0:8}" = /shared/ ] || fail "workingDir $WORKDIR is not on the shared volume"
POD_DIR=$SHARED/${WORKDIR#/shared/}
UID_=job-uid-$RANDOM

# One pod: index $1, its log in $WORK/pod-$1-$2.log ($2: attempt). Run it in the background:
# the pod is then its own process group (setsid), `kill -9 -- -$!` kills all of it.
pod() {
    cd "$POD_DIR"
    export JOB_COMPLETION_INDEX=$1 LRFREE_JOB_ID=$UID_
    exec setsid unshare --uts --pid --fork --mount-proc \
        sh -c 'hostname "$0"; exec "$@"' "$NAME-$1" "${ARGV[@]}" "${FLAGS[@]}" \
        > "$WORK/pod-$1-$2.log" 2>&1
}

# The reference: the same suite by one process.
"$RL_TRAIN" --config "$REPO/configs/suite-k8s.toml" "${FLAGS[@]}" --out "$WORK/local" \
    --no-plots --no-progress > "$WORK/local.log" 2>&1 || fail "the local run failed"

# Index 1 (adam seed 1) first, killed after its first checkpoint, lock left behind.
pod 1 0 &
VICTIM=$!
MARKER=$POD_DIR/runs/suite-k8s/adam/seed-1/checkpoint/counters.json
for _ in $(seq 1 600); do [ -f "$MARKER" ] && break; sleep 0.2; done
[ -f "$MARKER" ] || fail "pod 1 wrote no checkpoint within 120 s"
kill -9 -- "-$VICTIM" 2>/dev/null || true
wait "$VICTIM" 2>/dev/null || true
INTERRUPTED=no
[ -f "$POD_DIR/runs/suite-k8s/adam/seed-1/summary.json" ] || INTERRUPTED=yes
[ -f "$POD_DIR/runs/suite-k8s/adam/.seed-1.lock" ] || INTERRUPTED=no

# The controller: every index, at most $PODS at once, the killed one replaced (attempt 1).
running=0
for k in $(seq 0 $((TASKS - 1))); do
    attempt=0
    [ "$k" = 1 ] && attempt=1
    pod "$k" "$attempt" &
    running=$((running + 1))
    if [ "$running" -ge "$PODS" ]; then wait -n || fail "a pod failed: $(tail -2 "$WORK"/pod-*.log)"; running=$((running - 1)); fi
done
while [ "$running" -gt 0 ]; do
    wait -n || fail "a pod failed: $(tail -n 2 "$WORK"/pod-*.log)"
    running=$((running - 1))
done
if [ $INTERRUPTED = yes ]; then
    grep -q "resuming at step" "$WORK/pod-1-1.log" \
        || fail "the replacement pod of index 1 did not resume ($WORK/pod-1-1.log)"
fi

same_records "$WORK/local" "$POD_DIR/runs/suite-k8s"
echo "kubernetes suite test: OK ($TASKS indices, $PODS pods at a time, index 1's pod killed and" \
    "replaced mid-run: $INTERRUPTED; records and report equal to one process) in $((SECONDS - START)) s"
rm -rf "$WORK"
