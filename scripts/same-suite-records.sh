#!/bin/bash
# Whether two run directories of the adam/ps-da-sgd × 2 seeds test suite hold the same records:
# each cell's metrics.csv and summary.json byte for byte, then rl-report's table (paths
# replaced) and report.csv. Shared by the Slurm and Kubernetes suite tests.
#   scripts/same-suite-records.sh LOCAL OTHER WORKDIR    (RL_REPORT: the rl-report binary)
# Exit 0 silently, or 1 with the first difference on stderr.
set -euo pipefail
LOCAL=$1 OTHER=$2 WORK=$3
RL_REPORT=${RL_REPORT:-target/release/rl-report}
for cell in adam/seed-0 adam/seed-1 ps-da-sgd/seed-0 ps-da-sgd/seed-1; do
    for file in metrics.csv summary.json; do
        cmp -s "$LOCAL/$cell/$file" "$OTHER/$cell/$file" \
            || { echo "$cell/$file differs from the local run" >&2; exit 1; }
    done
done
"$RL_REPORT" "$LOCAL" | sed "s#$LOCAL#RUN#g" > "$WORK/report-local.txt"
"$RL_REPORT" "$OTHER" | sed "s#$OTHER#RUN#g" > "$WORK/report-other.txt"
cmp -s "$WORK/report-local.txt" "$WORK/report-other.txt" || { echo "rl-report differs" >&2; exit 1; }
cmp -s "$LOCAL/report.csv" "$OTHER/report.csv" || { echo "report.csv differs" >&2; exit 1; }
