#!/usr/bin/env bash
# What --jobs buys: one seed alone, two seeds with --jobs 2 and two seeds with --jobs 1, run
# back to back in each round so that the machine's drifting speed hits all three alike.
# Prints one row per round (wall seconds, and the two-seed runs' ratio to one seed) and each
# run's closing line (wall time, environment steps per second in all).
#
#   bench/jobs_scaling.sh [ROUNDS] [rl-train flags]     # default: 3 rounds of the README quick
#                                                       # start (Pendulum, ps-da-sgd, 20k steps)
#   bench/jobs_scaling.sh 2 --env Hopper --opt adam --steps 5000
#
# With the seeds trained at once, "2 seeds, --jobs 2" should take little more than one seed on
# a machine with 2 free cores, and "--jobs 1" about twice as long.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
case $ROUNDS in
    '' | *[!0-9]* | 0) echo "usage: $0 [ROUNDS >= 1] [rl-train flags]" >&2; exit 2 ;;
esac
shift || true
FLAGS=("$@")
[ ${#FLAGS[@]} -gt 0 ] || FLAGS=(--env Pendulum --opt ps-da-sgd)
RL_TRAIN=${RL_TRAIN:-target/release/rl-train}
[ -x "$RL_TRAIN" ] || cargo build --release --bin rl-train
WORK=$(mktemp -d /tmp/jobs-scaling.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Wall seconds of one rl-train run with seeds $1 and jobs $2; its closing line to $3.
run() {
    local out=$WORK/s$1-j$2-$RANDOM start end
    start=$(date +%s.%N)
    "$RL_TRAIN" "${FLAGS[@]}" --seeds "$1" --jobs "$2" --out "$out" --no-plots --no-progress \
        > "$out.log" 2>&1 || { echo "rl-train failed:" >&2; tail -3 "$out.log" >&2; exit 1; }
    end=$(date +%s.%N)
    grep '^wall time' "$out.log" >> "$3"
    rm -rf "$out"
    echo "$end - $start" | bc -l
}

echo "# $(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# rl-train ${FLAGS[*]}"
printf '%-6s %10s %14s %8s %14s %8s\n' round "1 seed s" "2 seeds -j2 s" ratio "2 seeds -j1 s" ratio
for r in $(seq 1 "$ROUNDS"); do
    one=$(run 1 1 "$WORK/lines")
    par=$(run 2 2 "$WORK/lines")
    ser=$(run 2 1 "$WORK/lines")
    printf '%-6s %10.1f %14.1f %8.3f %14.1f %8.3f\n' "$r" "$one" "$par" \
        "$(echo "$par / $one" | bc -l)" "$ser" "$(echo "$ser / $one" | bc -l)"
done
echo "# closing lines, in run order (1 seed, -j2, -j1 per round):"
sed 's/^/#   /' "$WORK/lines"
