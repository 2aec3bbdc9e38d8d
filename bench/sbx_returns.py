"""SBX's SAC (JAX) trained and evaluated as rl-train does, its records in rl-train's format.

Reads an rl-train config (`configs/hopper.toml`, a suite file, or a run's resolved `config.toml`),
trains SBX's `SAC` on the same Gymnasium task with the same SAC hyperparameters, evaluates it at
rl-train's steps with rl-train's evaluation resets, and writes a run directory in rl-train's
layout (docs/records.md), so `rl-report` and `rl-plot` read it unchanged beside rl-train's runs:

    RUN_DIR/run.json                      env, steps, optimizers ([--name]), seeds, resolved config
    RUN_DIR/<name>/seed-<N>/metrics.csv   episode, eval and update rows, rl-train's header
    RUN_DIR/<name>/seed-<N>/summary.json  rl-train's SeedSummary fields
    RUN_DIR/<name>/seed-<N>/timing.json   rl-train's SeedTiming fields
    RUN_DIR/summary.json, result.txt      once every seed of the run has a summary

Usage (bench/README.md, "SAC returns beside SBX"):

    bench/.venv/bin/python bench/sbx_returns.py --config configs/hopper.toml --steps 200000 \\
        --seeds 0,1,2,3,4 --out runs/sbx-hopper-200k [--name sbx-adam] [--jobs 1]

A seed whose summary.json exists is skipped; one without (a killed run) is trained again from
step 0, so rerunning the same command finishes an interrupted run.

Same as rl-train:
  * hyperparameters: the mapping of `bench/sb3_side_by_side.py` (`peer_spec`): Adam lr from
    `[optimizers.adam]` (3e-4) for actor, critics and temperature, γ, τ, batch size, buffer size,
    hidden layers (actor and each of the twin critics), initial temperature with automatic
    entropy tuning, target entropy (−|A| unless the config sets one), one gradient step per env
    step, `learning_starts` uniformly random actions first; Adam's β = (0.9, 0.999), ε = 1e-8
    added after bias correction (optax and rl-train's PyTorch-style Adam alike);
  * evaluation: every `eval_every` env steps and at the last step, after that step's update,
    `eval_episodes` episodes of the deterministic policy (tanh of the mean, scaled to the action
    bounds) on a separate environment, episode i reset with seed (1 << 40) + seed·10007 + i;
    mean and population std of the returns (float64 sums of the rewards);
  * training resets: episode k of the training environment is reset with seed
    seed·1_000_003 + k (a wrapper under SB3's Monitor replaces the seed SB3 passes, which SB3
    only gives on the first reset); for Gymnasium tasks (Hopper, Humanoid) the training and
    evaluation start states are therefore those of rl-train's runs of the same seed;
  * truncation (time limit) does not stop bootstrapping, termination does; rewards are stored
    as float32;
  * records: `episode` rows at the step an episode ended (float64 return, length), `eval` rows,
    `update` rows every `log_every` steps; numbers written as Rust prints them.

Not the same (cannot be, without changing SBX):
  * network initialisation: flax `Dense` (LeCun-normal, truncated, weights; zero biases) vs
    rl-train's PyTorch default U(±1/√fan_in) for weights and biases; and every random draw
    (initial weights, warm-up actions from SB3's action space, replay sampling with SB3's
    NumPy RNG, policy noise from JAX keys) comes from other generators: the same seed number,
    not the same random numbers;
  * policy: SBX clips log σ to [−20, 2]; rl-train squashes it into [−5, 2] with tanh
    (`log_std_min`/`log_std_max`, which SBX does not take);
  * critic loss: SBX minimises 0.5·(MSE₁ + MSE₂), rl-train MSE₁ + MSE₂ (the same Adam steps up to
    ε; `critic_loss` is recorded doubled, in rl-train's definition);
  * temperature loss: SBX minimises −log α·(log π + H̄), rl-train (CleanRL) −α·(log π + H̄):
    gradients differ by the factor α, which Adam's normalisation mostly but not entirely absorbs;
    `temperature_loss` is SBX's own value;
  * update count: SB3 updates after env steps K+1 … N (N − K updates), rl-train after steps
    K … N (N − K + 1); the first update of rl-train comes one step earlier;
  * Pendulum: rl-train steps its native Rust port of Pendulum-v1, SBX Gymnasium's `Pendulum-v1`:
    the same dynamics, but the reset seeds draw other start states (other RNGs);
  * divergence: SBX has no learning-rate estimates; a seed counts as diverged when a loss, the
    temperature or an evaluation return is NaN or infinite, and stops there (`max_lr` is all
    null, the `*_lr` columns empty);
  * no checkpoints: an interrupted seed restarts from step 0.
"""

import argparse
import json
import math
import os
import sys
import time
import tomllib
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# The hyperparameter mapping, env names and one-thread settings of the throughput benchmark.
# Its SAC construction is local to its worker function, so `sac_kwargs` below repeats it.
from sb3_side_by_side import ENV_IDS, ONE_THREAD_ENV, names, peer_spec  # noqa: E402

PROG = "sbx_returns"
REPO = HERE.parent
# rl-train's metrics.csv header (runkit/src/records/rl.rs, COLUMNS).
COLUMNS = [
    "step", "event", "episode_return", "episode_length", "eval_mean", "eval_std", "critic_loss",
    "actor_loss", "temperature_loss", "temperature", "critic_lr", "critic_d", "actor_lr", "actor_d",
    "temperature_lr", "temperature_d",
]
# rl-train's native environments that are Gymnasium tasks under another id (beyond ENV_IDS).
EXTRA_ENV_IDS = {"MountainCarContinuous": "MountainCarContinuous-v0"}
# The paper's optimizer names (plots/src/palette.rs, NAMES): --name must not be one, or rl-report
# would take these seeds for rl-train's seeds of that optimizer (and count only one of them).
RL_TRAIN_NAMES = {"sgd", "sps", "dog", "dadapt-sgd", "adam", "cocob", "ldog", "dadapt-adam",
                  "prodigy", "ps-sps", "ps-da-sgd"}
# Fields of rl-train's RunConfig (src/config.rs) without a default, and the defaults of the rest.
REQUIRED = ["env", "steps", "learning_starts", "eval_every", "eval_episodes", "log_every",
            "checkpoint_every", "save_buffer", "success_threshold", "lr_divergence_bound"]
DEFAULTS = {"env_kwargs": {}, "flush_denormals": True, "device": "cpu",
            "adam_lr_divergence_bound": 1.0, "temperature_optimizer": "adam", "optimizers": {}}
# SacConfig's defaults (agents/src/config.rs); target_entropy None (−|A|) is left out, as TOML has no null.
# Td3Config's defaults (agents/src/td3.rs), for `agent = "td3"` (its options: [agents.td3]).
TD3_DEFAULTS = {"gamma": 0.99, "tau": 0.005, "batch_size": 256, "buffer_size": 1_000_000,
                "hidden": [256, 256], "policy_delay": 2, "target_policy_noise": 0.2,
                "target_noise_clip": 0.5, "exploration_noise": 0.1}
SAC_DEFAULTS = {"gamma": 0.99, "tau": 0.005, "batch_size": 256, "buffer_size": 1_000_000,
                "hidden": [256, 256], "init_alpha": 1.0, "log_std_min": -5.0, "log_std_max": 2.0}
MARKER = "bench/sbx_returns.py"
CONFIG_ORDER = ["env", "env_kwargs", "steps", "learning_starts", "eval_every", "eval_episodes",
                "log_every", "checkpoint_every", "save_buffer", "success_threshold",
                "lr_divergence_bound", "flush_denormals", "device", "agent", "sac", "agents",
                "adam_lr_divergence_bound",
                "temperature_optimizer", "sps_critics_only", "diagnostics", "optimizers"]
SAC_ORDER = ["gamma", "tau", "batch_size", "buffer_size", "hidden", "target_entropy", "init_alpha",
             "log_std_min", "log_std_max"]


def fail(message):
    """One-line error, exit status 2."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


# ---------------------------------------------------------------------------------------------
# Records in rl-train's format.
# ---------------------------------------------------------------------------------------------

def rust_num(v):
    """A number as Rust's `f64::to_string` writes it (shortest round trip, never an exponent)."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = format(Decimal(repr(v)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def write_atomic(path, text):
    """Write `path` via `path.tmp` and a rename, so a killed run never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path, value):
    write_atomic(path, json.dumps(value, indent=2, allow_nan=False))


class Metrics:
    """Appends rows to one seed's metrics.csv, flushing each (rl-train's MetricsWriter)."""

    def __init__(self, path):
        self.file = open(path, "w")
        self._write(COLUMNS)

    def _write(self, cells):
        self.file.write(",".join(cells) + "\n")
        self.file.flush()

    def row(self, step, event, **values):
        cells = [""] * len(COLUMNS)
        cells[0], cells[1] = str(step), event
        for key, value in values.items():
            cells[COLUMNS.index(key)] = value if isinstance(value, str) else rust_num(value)
        self._write(cells)

    def close(self):
        self.file.close()


def mean_std(values):
    """Mean and population std, summed in order as rl-train does (`evaluate`, `mean_std`)."""
    n = len(values)
    m = sum(values) / n
    return m, math.sqrt(sum((v - m) * (v - m) for v in values) / n)


# ---------------------------------------------------------------------------------------------
# Configuration.
# ---------------------------------------------------------------------------------------------

def load_config(path):
    """rl-train's resolved config for `path`: a run config (serde defaults filled in as
    `RunConfig` does) or a suite file (its base config with the suite's steps). Returns
    (config, the suite's seed count or None)."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        fail(f"--config {path}: {e}")
    suite_seeds = None
    if "suite" in table:
        suite = table["suite"]
        base = Path(path).parent / suite["base"]
        config, _ = load_config(base)
        config["steps"] = int(suite["steps"])
        suite_seeds = int(suite["seeds"])
        return config, suite_seeds
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        fail(f"--config {path}: missing {', '.join(missing)} (not an rl-train run config)")
    config = {**DEFAULTS, **table}
    config["sac"] = {**SAC_DEFAULTS, **table.get("sac", {})}
    config["sac"].setdefault("target_entropy", None)  # JSON null, as rl-train's run.json has it
    # `agent` only where it is not SAC: SAC runs' run.json stay as they were.
    if config.get("agent", "sac") == "td3":
        agents = dict(table.get("agents", {}))
        agents["td3"] = {**TD3_DEFAULTS, **agents.get("td3", {})}
        config["agents"] = agents
    return ordered(config), suite_seeds


def ordered(config):
    """The config's keys in rl-train's order (RunConfig's and SacConfig's fields), others last."""
    def sort(table, order):
        return {k: table[k] for k in [*[k for k in order if k in table], *[k for k in table if k not in order]]}
    config = sort(config, CONFIG_ORDER)
    config["sac"] = sort(config["sac"], SAC_ORDER)
    return config


def sac_kwargs(spec):
    """SBX `SAC` keyword arguments for a `peer_spec` (as sb3_side_by_side's worker builds them)."""
    alpha = spec["init_alpha"]
    return dict(
        learning_rate=spec["lr"],
        buffer_size=spec["buffer_size"],
        learning_starts=spec["learning_starts"],
        batch_size=spec["batch_size"],
        tau=spec["tau"],
        gamma=spec["gamma"],
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto" if alpha == 1.0 else f"auto_{alpha}",
        target_entropy="auto" if spec["target_entropy"] is None else spec["target_entropy"],
        policy_kwargs=dict(net_arch=list(spec["hidden"])),
        seed=spec["seed"],
        verbose=0,
    )


def td3_kwargs(spec, td3, act_dim, NormalActionNoise):
    """SBX `TD3` keyword arguments: rl-train's TD3 options (`[agents.td3]`), Adam's `lr`.
    SB3 adds the exploration noise in the normalised action space, as rl-train's TD3 does."""
    import numpy as np
    sigma = float(td3["exploration_noise"]) * np.ones(act_dim)
    return dict(
        learning_rate=spec["lr"],
        buffer_size=int(td3["buffer_size"]),
        learning_starts=spec["learning_starts"],
        batch_size=int(td3["batch_size"]),
        tau=float(td3["tau"]),
        gamma=float(td3["gamma"]),
        train_freq=1,
        gradient_steps=1,
        policy_delay=int(td3["policy_delay"]),
        target_policy_noise=float(td3["target_policy_noise"]),
        target_noise_clip=float(td3["target_noise_clip"]),
        action_noise=NormalActionNoise(mean=np.zeros(act_dim), sigma=sigma),
        policy_kwargs=dict(net_arch=[int(h) for h in td3["hidden"]]),
        seed=spec["seed"],
        verbose=0,
    )


def import_peer():
    """(gymnasium, {"sac": sbx.SAC, "td3": sbx.TD3}, SB3's BaseCallback and NormalActionNoise,
    versions), or exit 2 naming the missing package."""
    for key, value in ONE_THREAD_ENV.items():
        os.environ[key] = value
    try:
        import gymnasium as gym
        import jax
        import jaxlib
        import sbx
        from sbx import SAC, TD3
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.noise import NormalActionNoise
    except ImportError as e:
        fail(f"{e.name or e} not installed under {sys.executable}: "
             f"python3 -m venv --system-site-packages bench/.venv && "
             f"bench/.venv/bin/pip install -r bench/requirements.txt")
    jax.config.update("jax_platforms", "cpu")
    versions = {"sbx": sbx.__version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
                "gymnasium": gym.__version__}
    return gym, {"sac": SAC, "td3": TD3}, (BaseCallback, NormalActionNoise), versions


# ---------------------------------------------------------------------------------------------
# One seed.
# ---------------------------------------------------------------------------------------------

def train_seed(job):
    """Train and evaluate one seed; write its records. Returns its summary."""
    gym, models, (BaseCallback, NormalActionNoise), _ = import_peer()
    config, gym_id, name, seed, out = job["config"], job["gym_id"], job["name"], job["seed"], Path(job["out"])
    steps, eval_every = int(config["steps"]), int(config["eval_every"])
    eval_episodes, log_every = int(config["eval_episodes"]), int(config["log_every"])
    kwargs = dict(config.get("env_kwargs", {}))
    learning_starts = int(config["learning_starts"])
    spec = peer_spec(config, gym_id, steps, learning_starts, seed)
    run_seed = seed

    class SeededResets(gym.Wrapper):
        """Resets training episode k with rl-train's seed·1_000_003 + k (whatever seed SB3
        passes) and keeps each finished episode's float64 return and length."""

        def __init__(self, env):
            super().__init__(env)
            self.episode = 0
            self.ret, self.len = 0.0, 0
            self.finished = []

        def reset(self, *, seed=None, options=None):  # `seed` (SB3's) is replaced
            reset_seed = (run_seed * 1_000_003 + self.episode) % (1 << 64)
            self.episode += 1
            self.ret, self.len = 0.0, 0
            return self.env.reset(seed=reset_seed, options=options)

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.ret += float(reward)
            self.len += 1
            if terminated or truncated:
                self.finished.append((self.ret, self.len))
            return obs, reward, terminated, truncated, info

    train_env = SeededResets(gym.make(gym_id, **kwargs))
    eval_env = gym.make(gym_id, **kwargs)
    agent = config.get("agent", "sac")
    if agent == "td3":
        act_dim = train_env.action_space.shape[0]
        kwargs = td3_kwargs(spec, config["agents"]["td3"], act_dim, NormalActionNoise)
    else:
        kwargs = sac_kwargs(spec)
    model = models[agent]("MlpPolicy", train_env, **kwargs)

    seed_dir = out / name / f"seed-{seed}"
    seed_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("summary.json.tmp", "timing.json.tmp"):
        (seed_dir / stale).unlink(missing_ok=True)
    metrics = Metrics(seed_dir / "metrics.csv")
    state = {"done": 0, "last_eval": None, "divergence": None, "eval_seconds": 0.0}

    def evaluate():
        returns = []
        for i in range(eval_episodes):
            obs, _ = eval_env.reset(seed=(1 << 40) + seed * 10_007 + i)
            total = 0.0
            while True:
                action, _ = model.predict(obs, deterministic=True)
                obs, reward, terminated, truncated, _ = eval_env.step(action)
                total += float(reward)
                if terminated or truncated:
                    break
            returns.append(total)
        return mean_std(returns)

    def after_update(t):
        """At step t, after SBX's update of that step (if any): the update row, divergence
        checks, the evaluation, as rl-train does them at the end of step t."""
        if t <= state["done"] or state["divergence"]:
            return
        state["done"] = t
        values = model.logger.name_to_value
        if t > learning_starts and "train/critic_loss" in values:
            update = {
                "critic_loss": 2.0 * float(values["train/critic_loss"]),  # rl-train's MSE₁ + MSE₂
                # TD3 logs its actor's loss from its first delayed actor update on.
                "actor_loss": float(values.get("train/actor_loss", 0.0)),
            }
            if agent == "sac":
                update["temperature_loss"] = float(values["train/ent_coef_loss"])
                update["temperature"] = float(values["train/ent_coef"])
            bad = [k for k, v in update.items() if not math.isfinite(v)]
            if bad or t % log_every == 0:
                metrics.row(t, "update", **update)
            if bad:
                what = {"critic_loss": "critic loss", "actor_loss": "actor loss",
                        "temperature_loss": "temperature loss", "temperature": "temperature"}[bad[0]]
                state["divergence"] = {"step": t, "reason": f"{what} is {rust_num(update[bad[0]])}"}
                return
        if t % eval_every == 0 or t == steps:
            started = time.perf_counter()
            mean, std = evaluate()
            state["eval_seconds"] += time.perf_counter() - started
            if not (math.isfinite(mean) and math.isfinite(std)):
                state["divergence"] = {"step": t, "reason": f"in evaluation: return {rust_num(mean)}"}
                return
            metrics.row(t, "eval", eval_mean=mean, eval_std=std)
            state["last_eval"] = mean
            print(f"{name} seed {seed}: step {t} eval return {mean:.1f} ± {std:.1f}", flush=True)

    class Records(BaseCallback):
        def _on_step(self):
            # Called after env step `num_timesteps`, before its update: episode rows here.
            for ret, length in train_env.finished:
                metrics.row(self.num_timesteps, "episode", episode_return=ret, episode_length=str(length))
            train_env.finished.clear()
            return state["divergence"] is None

        def _on_rollout_start(self):
            # Called before the next env step: the previous step's update has been done.
            if self.num_timesteps > 0:
                after_update(self.num_timesteps)

        def _on_training_end(self):
            if state["divergence"] is None:
                after_update(self.num_timesteps)

    started = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Records())
    wall = time.perf_counter() - started
    metrics.close()

    divergence = state["divergence"]
    steps_done = divergence["step"] if divergence else int(model.num_timesteps)
    final = state["last_eval"]
    diverged = divergence is not None
    env_name = config["env"]
    rate = lambda secs: steps_done / secs if secs > 0 else 0.0  # noqa: E731
    timing = {
        "optimizer": name, "seed": seed, "env": env_name, "start_step": 0, "env_steps": steps_done,
        "wall_seconds": wall, "eval_seconds": state["eval_seconds"],
        "steps_per_second": rate(wall), "train_steps_per_second": rate(wall - state["eval_seconds"]),
    }
    write_json_atomic(seed_dir / "timing.json", timing)
    summary = {
        "optimizer": name, "seed": seed, "env": env_name, "steps": steps, "steps_done": steps_done,
        "complete": True, "final_eval_return": final,
        "success": (not diverged) and final is not None and final >= float(config["success_threshold"]),
        "diverged": diverged, "divergence": divergence,
        "max_lr": {"critic": None, "actor": None, "temperature": None},
        "temperature_optimizer": "adam" if agent == "sac" else None,
    }
    if agent != "sac":
        summary["agent"] = agent  # as rl-train writes it: absent for SAC
    write_json_atomic(seed_dir / "summary.json", summary)
    if diverged:
        print(f"{name} seed {seed}: diverged at step {divergence['step']}: {divergence['reason']}", flush=True)
    print(f"{name} seed {seed}: {steps_done} steps in {wall:.1f} s ({rate(wall):.1f} steps/s; "
          f"{rate(wall - state['eval_seconds']):.1f} without {state['eval_seconds']:.1f} s of evaluation)", flush=True)
    return summary


# ---------------------------------------------------------------------------------------------
# The run.
# ---------------------------------------------------------------------------------------------

def prepare_out(out, plan):
    """Create RUN_DIR with run.json, or check that the one there is this script's run of the same
    config (then its seeds and names are merged). Exit 2 for anything else."""
    run_json = out / "run.json"
    if run_json.is_file():
        try:
            old = json.loads(run_json.read_text())
        except json.JSONDecodeError as e:
            fail(f"{run_json}: not JSON ({e})")
        if (old.get("trainer") or {}).get("script") != MARKER:
            fail(f"{out} holds another run (its run.json is not from {MARKER}); choose another --out")
        if old.get("config") != plan["config"]:
            fail(f"{out} holds an SBX run of another config; choose another --out")
        plan["optimizers"] = sorted(set(old["optimizers"]) | set(plan["optimizers"]))
        plan["seeds"] = sorted(set(old["seeds"]) | set(plan["seeds"]))
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        fail(f"{out} exists and is not a run of {MARKER} (no run.json); choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_json, plan)


def write_run_summary(out, plan):
    """summary.json and result.txt of the run, as rl-train writes them, once every seed has ended."""
    results, lines = [], []
    for name in plan["optimizers"]:
        seeds = []
        for seed in plan["seeds"]:
            path = out / name / f"seed-{seed}" / "summary.json"
            if not path.is_file():
                return False
            seeds.append(json.loads(path.read_text()))
        finals = [s["final_eval_return"] for s in seeds if s["final_eval_return"] is not None]
        mean, std = mean_std(finals) if finals else (None, None)
        r = {"optimizer": name, "seeds": len(seeds), "successes": sum(s["success"] for s in seeds),
             "lr_diverged": sum(s["diverged"] for s in seeds), "mean_final_return": mean,
             "std_final_return": std, "final_returns": [s["final_eval_return"] for s in seeds]}
        results.append(r)
        m = "n/a" if mean is None else f"{mean:.1f}"
        lines.append(f"{name:<12} {m} ({r['successes']}/{r['seeds']})  lr diverged {r['lr_diverged']}/{r['seeds']}")
    write_json_atomic(out / "summary.json", {"env": plan["env"], "steps": plan["steps"], "results": results})
    write_atomic(out / "result.txt", "\n".join(lines) + "\n")
    for line in lines:
        print(line, flush=True)
    return True


def parse_seeds(text):
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        fail(f"--seeds {text!r}: give comma-separated whole numbers, e.g. 0,1,2")
    if not seeds or any(s < 0 for s in seeds):
        fail(f"--seeds {text!r}: give comma-separated whole numbers, e.g. 0,1,2")
    return sorted(set(seeds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="rl-train config: configs/*.toml, a suite file or a run's config.toml")
    parser.add_argument("--steps", type=int, help="env steps per seed (default: the config's)")
    parser.add_argument("--seeds", help="comma-separated seeds (default: a suite's 0..seeds, else 0)")
    parser.add_argument("--out", required=True, type=Path, help="run directory (created, or an earlier run of this script resumed)")
    parser.add_argument("--name", help="the optimizer directory and name in the records (default sbx-adam, sbx-td3-adam for TD3)")
    parser.add_argument("--agent", choices=["sac", "td3"], help="SBX's SAC or TD3 (default: the config's `agent`, else sac); TD3's options: the config's [agents.td3]")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at once, each in its own process (default 1)")
    parser.add_argument("--learning-starts", type=int, help="override the config's learning_starts")
    parser.add_argument("--eval-every", type=int, help="override the config's eval_every")
    parser.add_argument("--eval-episodes", type=int, help="override the config's eval_episodes")
    args = parser.parse_args()

    config, suite_seeds = load_config(args.config)
    for key in ("steps", "learning_starts", "eval_every", "eval_episodes"):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    for key in ("steps", "eval_every", "eval_episodes", "log_every"):
        if int(config[key]) < 1:
            fail(f"`{key}` = {config[key]} must be at least 1")
    if int(config["learning_starts"]) < 0:
        fail("`learning_starts` must not be negative")
    if args.jobs < 1:
        fail("--jobs must be at least 1")
    if args.agent is not None and args.agent != config.get("agent", "sac"):
        config["agent"] = args.agent
        if args.agent == "td3":
            config["agents"] = {**config.get("agents", {}), "td3": {**TD3_DEFAULTS, **config.get("agents", {}).get("td3", {})}}
        config = ordered(config)
    agent = config.get("agent", "sac")
    if agent not in ("sac", "td3"):
        fail(f"agent = {agent!r} in the config: SBX runs sac or td3 here")
    name = args.name or ("sbx-adam" if agent == "sac" else "sbx-td3-adam")
    if not name or "/" in name or name.startswith(".") or name == "plots" or name in RL_TRAIN_NAMES:
        fail(f"--name {name!r}: need a directory name that is none of rl-train's optimizers (e.g. sbx-adam)")
    if agent == "sac" and config["temperature_optimizer"] not in ("adam", "same"):
        fail(f"temperature_optimizer = {config['temperature_optimizer']!r} in the config: SBX tunes its temperature with Adam only")
    adam = config["optimizers"].get("adam", {})
    if set(adam) - {"lr"}:
        fail(f"[optimizers.adam] sets {', '.join(sorted(set(adam) - {'lr'}))}: only `lr` is passed to SBX")
    seeds = parse_seeds(args.seeds) if args.seeds else list(range(suite_seeds or 1))

    rl_env = config["env"]
    if rl_env in EXTRA_ENV_IDS:
        gym_id = EXTRA_ENV_IDS[rl_env]
    else:
        _, gym_id = names(rl_env)
    gym, _, _, versions = import_peer()
    try:
        probe = gym.make(gym_id, **config.get("env_kwargs", {}))
        probe.close()
    except Exception as e:  # gymnasium's NameNotFound, a missing MuJoCo, bad kwargs
        fail(f"environment {rl_env!r} (Gymnasium id {gym_id!r}) cannot be made: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")

    out = args.out
    plan = {"env": rl_env, "steps": int(config["steps"]), "optimizers": [name], "seeds": seeds, "config": config,
            "trainer": {"script": MARKER, "gym_id": gym_id, **versions}}
    prepare_out(out, plan)
    todo = [s for s in seeds if not (out / name / f"seed-{s}" / "summary.json").is_file()]
    for s in seeds:
        if s not in todo:
            print(f"{name} seed {s}: already finished (summary.json); skipped", flush=True)
    print(f"# {gym_id} ({rl_env}): {config['steps']} steps, learning starts {config['learning_starts']}, "
          f"eval every {config['eval_every']} ({config['eval_episodes']} episodes), seeds {todo}, "
          f"{args.jobs} job(s); " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)

    jobs = [{"config": config, "gym_id": gym_id, "name": name, "seed": s, "out": str(out)} for s in todo]
    started = time.perf_counter()
    done_steps = 0
    if args.jobs == 1 or len(jobs) <= 1:
        for job in jobs:
            done_steps += train_seed(job)["steps_done"]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        ctx = multiprocessing.get_context("spawn")  # JAX is not fork-safe
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
            for summary in pool.map(train_seed, jobs):
                done_steps += summary["steps_done"]
    wall = time.perf_counter() - started
    write_run_summary(out, plan)
    rate = done_steps / wall if wall > 0 else 0.0
    print(f"# {len(jobs)} seed(s), {done_steps} env steps in {wall:.1f} s wall ({rate:.1f} steps/s overall); records in {out}", flush=True)


if __name__ == "__main__":
    main()
