# What the Slurm and Kubernetes suite tests share; source it from the repository root with
# the test's name:  . scripts/suite-test-common.sh "slurm suite test"
# Sets ROOT, START, RL_TRAIN and RL_REPORT (built if missing), WORK (a fresh temporary
# directory), and defines fail (message, files kept, exit 1) and same_records.
ROOT=$PWD
START=$SECONDS
SUITE_TEST_NAME=$1
RL_TRAIN=${RL_TRAIN:-$ROOT/target/release/rl-train}
RL_REPORT=${RL_REPORT:-$ROOT/target/release/rl-report}
if [ ! -x "$RL_TRAIN" ] || [ ! -x "$RL_REPORT" ]; then
    cargo build --release --bin rl-train --bin rl-report
fi
WORK=$(mktemp -d "/tmp/${SUITE_TEST_NAME// /-}.XXXXXX")
fail() { echo "$SUITE_TEST_NAME: FAILED: $*" >&2; echo "(files in $WORK)" >&2; exit 1; }

# same_records LOCAL OTHER: fails unless the adam/ps-da-sgd × 2 seeds test suite has the same
# records in both run directories: each cell's metrics.csv and summary.json byte for byte,
# then rl-report's table (paths replaced) and report.csv.
same_records() {
    local cell file
    for cell in adam/seed-0 adam/seed-1 ps-da-sgd/seed-0 ps-da-sgd/seed-1; do
        for file in metrics.csv summary.json; do
            cmp -s "$1/$cell/$file" "$2/$cell/$file" || fail "$cell/$file differs from the local run"
        done
    done
    "$RL_REPORT" "$1" | sed "s#$1#RUN#g" > "$WORK/report-local.txt"
    "$RL_REPORT" "$2" | sed "s#$2#RUN#g" > "$WORK/report-other.txt"
    cmp -s "$WORK/report-local.txt" "$WORK/report-other.txt" || fail "rl-report differs"
    cmp -s "$1/report.csv" "$2/report.csv" || fail "report.csv differs"
}
