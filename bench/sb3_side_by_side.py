"""SAC training throughput of rl-train against Stable-Baselines3 and SBX, side by side.

For each repetition the three trainers run one after the other (the order rotates from one
repetition to the next, so slow drift in machine load is shared), each in a fresh process,
pinned to the same single CPU, with the same SAC hyperparameters: the resolved config of
`rl-train`'s run (its `config.toml`) is read back and handed to the peers. Prints each run's
env steps per second, then one line per peer:

    sps_ratio <env> <peer> <median rl-train steps/s / median peer steps/s>

The driver needs only the standard library; the peers run under `--python` (default
`bench/.venv/bin/python`, see bench/README.md). Usage:

    python3 bench/sb3_side_by_side.py --env Hopper-v5 --steps 20000 --learning-starts 5000 --reps 3
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# rl-train's environment name <-> Gymnasium id.
ENV_IDS = {"Pendulum": "Pendulum-v1", "Hopper": "Hopper-v5", "Humanoid": "Humanoid-v5"}
PEERS = ("sb3", "sbx")
# Steps after learning starts whose excess over the median step counts as one-off cost.
ONE_OFF_STEPS = 5
# One thread everywhere: BLAS/OpenMP pools, PyTorch, XLA's CPU client.
ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
    "JAX_PLATFORMS": "cpu",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


# ---------------------------------------------------------------------------------------------
# Worker: one peer's timed training run (runs under --python, in its own process).
# ---------------------------------------------------------------------------------------------

def worker(peer, spec):
    """Train `peer` SAC on `spec["env_id"]` for `spec["steps"]` steps; return a result dict.

    Timed: `model.learn(total_timesteps=steps)` of a freshly built model, i.e. `steps` env steps
    including the `learning_starts` random ones, with one gradient step per env step after them.
    Not timed: imports, env and model construction. A callback stamps the time after every env
    step; the steps just after learning starts carry one-off costs (SBX compiles its update and
    its action sampling with XLA there, on first use: seconds; PyTorch initialises lazily:
    milliseconds). `one_off_seconds` is what the first ONE_OFF_STEPS steps after learning starts
    took beyond the median step after learning starts; `steps_per_second` leaves it out,
    `raw_steps_per_second` does not.
    """
    try:
        import gymnasium as gym
        if peer == "sb3":
            import torch
            torch.set_num_threads(1)
            torch.set_num_interop_threads(1)
            from stable_baselines3 import SAC
            import stable_baselines3 as lib
            versions = {"stable_baselines3": lib.__version__, "torch": torch.__version__}
        else:
            import jax
            jax.config.update("jax_platforms", "cpu")
            import jaxlib
            import sbx as lib
            from sbx import SAC
            versions = {"sbx": lib.__version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__}
    except ImportError as e:
        return {"skipped": f"{e.name or e} not installed under {sys.executable}"}

    def build(seed, learning_starts):
        env = gym.make(spec["env_id"])
        alpha = spec["init_alpha"]
        kwargs = dict(
            learning_rate=spec["lr"],
            buffer_size=spec["buffer_size"],
            learning_starts=learning_starts,
            batch_size=spec["batch_size"],
            tau=spec["tau"],
            gamma=spec["gamma"],
            train_freq=1,
            gradient_steps=1,
            ent_coef="auto" if alpha == 1.0 else f"auto_{alpha}",
            target_entropy="auto" if spec["target_entropy"] is None else spec["target_entropy"],
            policy_kwargs=dict(net_arch=list(spec["hidden"])),
            seed=seed,
            verbose=0,
        )
        if peer == "sb3":
            kwargs["device"] = "cpu"
        return SAC("MlpPolicy", env, **kwargs)

    from stable_baselines3.common.callbacks import BaseCallback

    class Stamps(BaseCallback):
        def __init__(self):
            super().__init__()
            self.times = []

        def _on_step(self):
            self.times.append(time.perf_counter())
            return True

    model = build(spec["seed"], learning_starts=spec["learning_starts"])
    stamps = Stamps()
    started = time.perf_counter()
    model.learn(total_timesteps=spec["steps"], callback=stamps)
    seconds = time.perf_counter() - started
    steps = int(model.num_timesteps)
    # times[i] is taken after env step i + 1; dts[i] covers step i + 1 (and the update before it).
    times = [started, *stamps.times]
    dts = [b - a for a, b in zip(times, times[1:])]
    learning = dts[spec["learning_starts"]:]
    median = statistics.median(learning) if learning else 0.0
    one_off = sum(max(0.0, dt - median) for dt in learning[:ONE_OFF_STEPS])
    return {
        "steps": steps,
        "seconds": seconds,
        "steps_per_second": steps / (seconds - one_off),
        "raw_steps_per_second": steps / seconds,
        "one_off_seconds": one_off,
        "versions": versions,
    }


# ---------------------------------------------------------------------------------------------
# Driver.
# ---------------------------------------------------------------------------------------------

def names(env):
    """(rl-train env name, Gymnasium id) for `env` given as either."""
    for rl, gym_id in ENV_IDS.items():
        if env in (rl, gym_id):
            return rl, gym_id
    return env, env  # any other Gymnasium id: rl-train bridges it as is


def pinned(cmd, cpu):
    return cmd if cpu is None else ["taskset", "-c", str(cpu), *cmd]


def pin_cpu(args, prog):
    """The CPU every run is pinned to (`--cpu`, else the last one allowed), `None` with `--no-pin`."""
    if args.no_pin:
        return None
    if shutil.which("taskset") is None:
        sys.exit(f"{prog}: taskset not found; install util-linux or pass --no-pin")
    return args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))


def run_rl_train(args, rl_env, seed, work, cpu, env, opt="adam"):
    """One timed rl-train run of `opt`: (its timing.json, its resolved config.toml)."""
    out = work / f"rl-train-{opt}-seed{seed}-{time.monotonic_ns()}"
    cmd = [
        str(args.rl_train), "--env", rl_env, "--opt", opt, "--seed-list", str(seed), "--jobs", "1",
        "--steps", str(args.steps), "--learning-starts", str(args.learning_starts),
        # Evaluation only at the end (rl-train always evaluates then), one episode, and its time
        # is taken out below; no checkpoint before the end.
        "--eval-every", str(args.steps), "--eval-episodes", "1", "--checkpoint-every", str(args.steps + 1),
        "--no-plots", "--no-progress", "--out", str(out),
    ]
    res = subprocess.run(pinned(cmd, cpu), env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"sb3_side_by_side: rl-train failed ({res.returncode}):\n{' '.join(cmd)}\n{res.stderr.strip()}")
    timing = json.loads((out / opt / f"seed-{seed}" / "timing.json").read_text())
    with open(out / "config.toml", "rb") as f:
        config = tomllib.load(f)
    return timing, config


def peer_spec(config, gym_id, steps, learning_starts, seed):
    """SAC hyperparameters for the peers, from rl-train's resolved config."""
    sac = config.get("sac", {})
    lr = config.get("optimizers", {}).get("adam", {}).get("lr", 3e-4)
    return {
        "env_id": gym_id,
        "steps": steps,
        "learning_starts": learning_starts,
        "seed": seed,
        "lr": float(lr),
        "gamma": float(sac["gamma"]),
        "tau": float(sac["tau"]),
        "batch_size": int(sac["batch_size"]),
        "buffer_size": int(sac["buffer_size"]),
        "hidden": [int(h) for h in sac["hidden"]],
        "init_alpha": float(sac["init_alpha"]),
        "target_entropy": sac.get("target_entropy"),
    }


def run_peer(args, peer, spec, cpu, env):
    cmd = [str(args.python), str(Path(__file__).resolve()), "--worker", peer, "--spec", json.dumps(spec)]
    res = subprocess.run(pinned(cmd, cpu), env=env, capture_output=True, text=True)
    lines = res.stdout.strip().splitlines()
    if res.returncode != 0 or not lines:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"failed with exit status {res.returncode}: {tail}"}
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", help="Pendulum / Pendulum-v1, Hopper / Hopper-v5, Humanoid / Humanoid-v5, or another Gymnasium id")
    parser.add_argument("--steps", type=int, default=20_000, help="env steps per run, the random ones included (default 20000)")
    parser.add_argument("--learning-starts", type=int, default=5_000, help="random steps before the first update (default 5000)")
    parser.add_argument("--reps", type=int, default=3, help="alternations; the ratio is of medians over them (default 3)")
    parser.add_argument("--rl-train", type=Path, default=REPO / "target" / "release" / "rl-train")
    parser.add_argument("--python", type=Path, default=None, help="Python with the peers installed (default bench/.venv/bin/python, else this one)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU every run is pinned to (default: the last one this process may use)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin runs to one CPU with taskset")
    parser.add_argument("--peers", default="sb3,sbx", help="comma-separated subset of sb3,sbx")
    parser.add_argument("--keep", action="store_true", help="keep rl-train's run directories (in the temporary folder)")
    parser.add_argument("--worker", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.spec))), flush=True)
        return

    if not args.env:
        parser.error("--env is required")
    if not (0 < args.learning_starts < args.steps):
        parser.error("need 0 < --learning-starts < --steps")
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    if not (args.rl_train.is_file() and os.access(args.rl_train, os.X_OK)):
        sys.exit(f"sb3_side_by_side: {args.rl_train} not found: build it first with `cargo build --release --bin rl-train` (or give --rl-train PATH)")
    if args.python is None:
        venv = REPO / "bench" / ".venv" / "bin" / "python"
        args.python = venv if venv.exists() else Path(sys.executable)
    if not args.python.exists():
        sys.exit(f"sb3_side_by_side: --python {args.python} does not exist")
    peers = [p for p in args.peers.split(",") if p]
    if any(p not in PEERS for p in peers):
        parser.error(f"--peers: choose from {','.join(PEERS)}")
    cpu = pin_cpu(args, "sb3_side_by_side")

    rl_env, gym_id = names(args.env)
    env = {**os.environ, **ONE_THREAD_ENV}
    print(f"# {gym_id}: {args.steps} steps ({args.learning_starts} random), {args.reps} rep(s), "
          f"{'CPU ' + str(cpu) if cpu is not None else 'unpinned'}, peers under {args.python}", flush=True)
    rates = {"rl-train": [], **{p: [] for p in peers}}
    skipped = {}
    versions = {}
    work = Path(tempfile.mkdtemp(prefix="sb3-side-by-side-"))
    try:
        config = None
        for rep in range(args.reps):
            order = ["rl-train", *peers]
            order = order[rep % len(order):] + order[:rep % len(order)]
            if config is None:  # the first run of all is rl-train's: its config feeds the peers
                order.remove("rl-train")
                order.insert(0, "rl-train")
            for who in order:
                if who in skipped:
                    continue
                if who == "rl-train":
                    timing, config = run_rl_train(args, rl_env, rep, work, cpu, env)
                    sps = timing["train_steps_per_second"]
                    rates[who].append(sps)
                    print(f"rep {rep + 1} rl-train {sps:8.1f} steps/s  ({timing['env_steps']} steps in "
                          f"{timing['wall_seconds']:.2f} s, minus {timing['eval_seconds']:.3f} s final evaluation)", flush=True)
                else:
                    res = run_peer(args, who, peer_spec(config, gym_id, args.steps, args.learning_starts, rep), cpu, env)
                    if "skipped" in res:
                        skipped[who] = res["skipped"]
                        print(f"rep {rep + 1} {who:<8} skipped: {res['skipped']}", flush=True)
                        continue
                    versions.update(res["versions"])
                    rates[who].append(res["steps_per_second"])
                    print(f"rep {rep + 1} {who:<8} {res['steps_per_second']:8.1f} steps/s  ({res['steps']} steps in "
                          f"{res['seconds']:.2f} s, minus {res['one_off_seconds']:.2f} s one-off compilation/"
                          f"initialisation; {res['raw_steps_per_second']:.1f} steps/s with it)", flush=True)
    finally:
        if args.keep:
            print(f"# rl-train's run directories: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if versions:
        print("# " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    ours = statistics.median(rates["rl-train"])
    print(f"median rl-train {ours:.1f} steps/s over {len(rates['rl-train'])} rep(s)")
    for peer in peers:
        if peer in skipped:
            print(f"sps_ratio {gym_id} {peer} skipped ({skipped[peer]})")
        else:
            theirs = statistics.median(rates[peer])
            print(f"median {peer} {theirs:.1f} steps/s over {len(rates[peer])} rep(s)")
            print(f"sps_ratio {gym_id} {peer} {ours / theirs:.3f}")
    if args.reps < 3:
        print(f"# note: {args.reps} rep(s); the issue's figure is a median over at least 3")


if __name__ == "__main__":
    main()
