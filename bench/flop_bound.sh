#!/bin/bash
# The Adam SAC update against its FLOP bound on this machine: each round measures the
# single-core gemm peak (`gemm_rate`, best shape) and right after it times the update at Hopper
# and Humanoid sizes (`update_bench`), all pinned to one CPU, so the VM's drift affects both.
# FLOPs per update (batch 256, hidden [256, 256]): Hopper 0.564 GFLOP, Humanoid 1.172 GFLOP.
#
#   bench/flop_bound.sh [ROUNDS] [CPU]      (defaults: 5 rounds, the last CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
cpu=${2:-$(($(nproc) - 1))}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "flop_bound: ROUNDS must be a positive integer, not '$rounds'" >&2; exit 2; }
[[ $cpu =~ ^[0-9]+$ ]] && ((cpu < $(nproc))) || { echo "flop_bound: CPU must be one of 0..$(($(nproc) - 1)), not '$cpu'" >&2; exit 2; }
cargo build --release -q -p lrfree-nn --example gemm_rate
cargo build --release -q -p lrfree-agents --example update_bench
bin=target/release/examples
for _ in $(seq "$rounds"); do
  peak=$(taskset -c "$cpu" "$bin/gemm_rate" | awk 'NR > 1 && $4 > m { m = $4 } END { print m }')
  hopper=$(taskset -c "$cpu" "$bin/update_bench" adam 300 hopper | awk '$1 == "hopper" { print $4 }')
  humanoid=$(taskset -c "$cpu" "$bin/update_bench" adam 200 humanoid | awk '$1 == "humanoid" { print $4 }')
  awk -v p="$peak" -v h="$hopper" -v u="$humanoid" 'BEGIN {
    hb = 0.564 / p * 1000; ub = 1.172 / p * 1000
    printf "peak %.1f GFLOP/s  hopper %.3f ms (bound %.3f, %.2fx)  humanoid %.3f ms (bound %.3f, %.2fx)\n",
      p, h, hb, h / hb, u, ub, u / ub }'
done
