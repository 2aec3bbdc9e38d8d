#!/usr/bin/env bash
# Keep the per-seed records of finished rl-train runs under docs/results/ (issue 25): each
# seed's metrics.csv, diagnostics.csv (if any), summary.json and timing.json, without the
# checkpoints and final agents; the first run's config.toml (if it has one: bench/sbx_returns.py's
# runs do not), and its run.json with `seeds`
# the union of the runs' seeds, so that the kept directory is one run directory that
# rl-report and rl-plot read like the original ones.
#
#   scripts/keep-records.sh DEST RUN_DIR...      (several runs of one config: their seeds merge)
#   scripts/keep-records.sh DEST RUN_DIR/OPT/seed-N ...   (only those seeds of a run)
#
# Refuses, keeping nothing, when a seed is not finished (no summary.json) or already kept in DEST.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 DEST RUN_DIR..." >&2
    exit 2
fi
dest=$1
shift
# Each argument is a run directory (all its seeds) or one seed's directory in a run
# (RUN_DIR/OPT/seed-N: that seed only, e.g. while the run's other tasks still train).
runs=()
pairs=()
for arg in "$@"; do
    arg=${arg%/}
    case $(basename "$arg") in
        seed-*) run=$(dirname "$(dirname "$arg")"); seeds=("$arg") ;;
        *) run=$arg; seeds=("$run"/*/seed-*) ;;
    esac
    if [ ! -f "$run/run.json" ]; then
        echo "$0: $run is not an rl-train run directory (no run.json)" >&2
        exit 2
    fi
    runs+=("$run")
    for seed_dir in "${seeds[@]}"; do
        [ -d "$seed_dir" ] && pairs+=("$run" "$seed_dir")
    done
done
# Check every seed before copying any, so that a refusal keeps nothing.
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    run=${pairs[i]} seed_dir=${pairs[i + 1]}
    rel=${seed_dir#"$run"/}
    if [ ! -f "$seed_dir/summary.json" ]; then
        echo "$0: $seed_dir has not finished (no summary.json)" >&2
        exit 2
    fi
    if [ -e "$dest/$rel" ]; then
        echo "$0: $dest/$rel is already kept" >&2
        exit 2
    fi
done
# The merged run.json is computed (and a config mismatch refused) before anything is copied.
merged=$(python3 - "$dest" "${runs[@]}" <<'EOF'
import json, sys
dest, runs = sys.argv[1], sys.argv[2:]
def config(plan):
    # Keys added to rl-train's config after a run was made, with the value it ran with.
    c = dict(plan["config"])
    c.setdefault("agent", "sac")
    return c

try:
    with open(f"{dest}/run.json") as f:
        plan = json.load(f)
except FileNotFoundError:
    with open(f"{runs[0]}/run.json") as f:
        plan = json.load(f)
for run in runs:
    with open(f"{run}/run.json") as f:
        other = json.load(f)
    if config(other) != config(plan):
        sys.exit(f"{run}: its config differs from the kept runs'; keep it apart")
    plan["seeds"] = sorted(set(plan["seeds"]) | set(other["seeds"]))
    plan["optimizers"] = plan["optimizers"] + [o for o in other["optimizers"] if o not in plan["optimizers"]]
print(json.dumps(plan, indent=2))
EOF
)
mkdir -p "$dest"
for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    run=${pairs[i]} seed_dir=${pairs[i + 1]}
    rel=${seed_dir#"$run"/}
    mkdir -p "$dest/$rel"
    for f in metrics.csv diagnostics.csv summary.json timing.json; do
        if [ -f "$seed_dir/$f" ]; then cp "$seed_dir/$f" "$dest/$rel/"; fi
    done
done
if [ ! -f "$dest/config.toml" ] && [ -f "${runs[0]}/config.toml" ]; then cp "${runs[0]}/config.toml" "$dest/"; fi
printf '%s\n' "$merged" > "$dest/run.json"
