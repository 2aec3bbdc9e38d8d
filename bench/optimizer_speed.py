"""rl-train's training speed with every RL optimizer, interleaved with Adam's.

For each repetition every optimizer runs once, each run followed by an Adam run, all in fresh
processes pinned to one CPU with one thread (as `sb3_side_by_side.py` runs rl-train). An
optimizer's ratio in a repetition is its steps/s over the mean of the Adam runs just before and
just after it, so the VM's drift cancels; the reported figure is the median over repetitions.
Prints one line per run, then per optimizer:

    speed_ratio <env> <opt> <median ratio> (min .. max) <median steps/s>

Usage (after `cargo build --release --bin rl-train`):

    python3 bench/optimizer_speed.py --env Hopper-v5 --steps 3000 --learning-starts 500 --reps 3
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from sb3_side_by_side import ONE_THREAD_ENV, REPO, names, pin_cpu, run_rl_train

# rl-train's RL optimizers (SPS and PS-SPS need the optimal loss and are refused in RL).
RL_OPTIMIZERS = ("sgd", "dog", "dadapt-sgd", "cocob", "ldog", "dadapt-adam", "prodigy", "ps-da-sgd")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Hopper-v5", help="rl-train name or Gymnasium id (default Hopper-v5)")
    parser.add_argument("--steps", type=int, default=3000, help="env steps per run (default 3000)")
    parser.add_argument("--learning-starts", type=int, default=500, help="random steps before the first update (default 500)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions; ratios are medians over them (default 3)")
    parser.add_argument("--opts", default=",".join(RL_OPTIMIZERS), help="comma-separated optimizers compared with adam")
    parser.add_argument("--rl-train", type=Path, default=REPO / "target" / "release" / "rl-train")
    parser.add_argument("--cpu", type=int, default=None, help="CPU every run is pinned to (default: the last one allowed)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin runs to one CPU")
    args = parser.parse_args()
    if not (0 < args.learning_starts < args.steps):
        parser.error("need 0 < --learning-starts < --steps")
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if not (args.rl_train.is_file() and os.access(args.rl_train, os.X_OK)):
        sys.exit(f"optimizer_speed: {args.rl_train} not found: build it with `cargo build --release --bin rl-train`")
    opts = [o for o in args.opts.split(",") if o]
    cpu = pin_cpu(args, "optimizer_speed")
    rl_env, gym_id = names(args.env)
    env = {**os.environ, **ONE_THREAD_ENV}
    print(f"# {gym_id}: {args.steps} steps ({args.learning_starts} random), {args.reps} rep(s), "
          f"{'CPU ' + str(cpu) if cpu is not None else 'unpinned'}", flush=True)
    ratios = {o: [] for o in opts}
    rates = {o: [] for o in ["adam", *opts]}
    work = Path(tempfile.mkdtemp(prefix="optimizer-speed-"))

    def timed(opt, rep):
        timing, _ = run_rl_train(args, rl_env, rep, work, cpu, env, opt=opt)
        sps = timing["train_steps_per_second"]
        rates[opt].append(sps)
        print(f"rep {rep + 1} {opt:<12} {sps:8.1f} steps/s", flush=True)
        return sps

    try:
        for rep in range(args.reps):
            before = timed("adam", rep)
            for opt in opts:
                sps = timed(opt, rep)
                after = timed("adam", rep)
                ratios[opt].append(sps / ((before + after) / 2))
                before = after
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"median adam {statistics.median(rates['adam']):.1f} steps/s over {len(rates['adam'])} runs")
    for opt in opts:
        r = ratios[opt]
        print(f"speed_ratio {gym_id} {opt} {statistics.median(r):.3f} ({min(r):.3f} .. {max(r):.3f}) "
              f"{statistics.median(rates[opt]):.1f} steps/s")


if __name__ == "__main__":
    main()
