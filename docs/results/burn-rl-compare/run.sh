#!/bin/bash
# Interleaved: per seed, burn-train's RLTraining (example) then rl-train, same config and budget.
cd /work/main
for s in 0 1 2; do
  target/release/examples/rltraining --seed $s --out runs/burn-rl-compare/rltraining-seed-$s > runs/burn-rl-compare/rltraining-seed-$s.txt 2>&1
  target/release/rl-train --env Pendulum --opt ps-da-sgd --seed-list $s --jobs 1 --out runs/burn-rl-compare/rl-train-seed-$s > runs/burn-rl-compare/rl-train-seed-$s.txt 2>&1
done
echo finished > runs/burn-rl-compare/done
