"""Steps per second of Gymnasium environments in a pure-Python loop.

The baseline for the Rust bridge (`cargo run --release -p lrfree-envs --example env_speed`),
which runs `loop()` below inside its embedded interpreter as well, so both loops are timed in
the same process. Standalone: `python3 bench/env_speed.py [--steps N]`.
"""

import argparse
import time

import gymnasium as gym
import numpy as np


def loop(env_id, steps, seed=0):
    """Steps `env_id` `steps` times with pre-drawn uniform actions, resetting at episode ends.

    Returns the seconds spent in the loop (env creation and action sampling excluded).
    """
    env = gym.make(env_id)
    space = env.action_space
    rng = np.random.default_rng(seed)
    actions = rng.uniform(space.low, space.high, size=(steps,) + space.shape).astype(space.dtype)
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _obs, _reward, terminated, truncated, _info = env.step(action)
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for env_id in ["Hopper-v5", "Pendulum-v1"]:
        best = min(loop(env_id, args.steps, seed) for seed in range(args.repeats))
        print(f"python  {env_id:<12} {args.steps / best:>12,.0f} steps/s  (best of {args.repeats} x {args.steps} steps)")


if __name__ == "__main__":
    main()
