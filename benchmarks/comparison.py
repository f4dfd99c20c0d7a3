"""Shared by the agent benchmarks: interleaved runs of several contenders, a deterministic evaluation, JSON.

`compare` runs every contender once per seed, seeds in the outer loop (contender A seed 0,
contender B seed 0, A seed 1, ...) so that a change in machine load hits all of them alike, prints
a line per run and a median table, and writes everything to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch

Run = Callable[[int, int], dict[str, float]]
"""A contender: (seed, env_steps) -> {"steps_per_second": ..., "final_return": ...}."""


def evaluate(
    env_id: str, policy: Callable[[np.ndarray], Any], episodes: int = 10, first_seed: int = 1000
) -> float:
    """Mean return of a deterministic ``policy`` (observation -> action) over ``episodes`` seeded episodes."""
    env = gym.make(env_id)
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=first_seed + episode)
        total, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(policy(observation))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def parse_arguments(description: str, steps: int, output_name: str, seeds: int = 3) -> argparse.Namespace:
    """The benchmarks' command line: ``--seeds``, ``--steps`` (env steps per run) and ``--output``.

    ``output_name`` is the default file under ``benchmarks/results/``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "results", output_name))
    return parser.parse_args()


def sb3_training_run(model: Any, env_steps: int) -> dict[str, float]:
    """Train an SB3 (or sb3-contrib) ``model`` for ``env_steps``: its env steps/s and final return.

    The final return is the mean over the last (≤ 100) finished training episodes SB3 keeps
    (its envs need a ``Monitor``).
    """
    start = time.perf_counter()
    model.learn(total_timesteps=env_steps)
    elapsed = time.perf_counter() - start
    returns = [info["r"] for info in model.ep_info_buffer]
    return {"steps_per_second": model.num_timesteps / elapsed, "final_return": float(np.mean(returns))}


def compare(
    contenders: Mapping[str, Run], seeds: int, env_steps: int, settings: dict[str, Any], output: str
) -> dict[str, Any]:
    """Run, print and save the comparison; the first contender's speed is divided by the second's."""
    torch.set_num_threads(1)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
    for seed in range(seeds):
        for name, run in contenders.items():
            result = run(seed, env_steps)
            runs[name].append(result)
            print(
                f"{name:18s} seed {seed}: {result['steps_per_second']:8.1f} env steps/s, "
                f"final return {result['final_return']:7.1f}",
                flush=True,
            )
    summary = {
        name: {key: statistics.median(result[key] for result in results) for key in results[0]}
        for name, results in runs.items()
    }
    first, second = list(contenders)[:2]
    ratio = summary[first]["steps_per_second"] / summary[second]["steps_per_second"]
    print("\n| library | env steps/s (median) | final return (median) |\n|---|---|---|")
    for name, values in summary.items():
        print(f"| {name} | {values['steps_per_second']:.1f} | {values['final_return']:.1f} |")
    print(f"\nspeed ratio {first} / {second}: {ratio:.2f}")
    report = {
        "settings": {**settings, "env_steps": env_steps, "seeds": seeds},
        "machine": {"platform": platform.platform(), "torch": torch.__version__},
        "runs": runs,
        "summary": summary,
        "speed_ratio": ratio,
    }
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as stream:
        json.dump(report, stream, indent=2)
    return report
