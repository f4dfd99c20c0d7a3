"""Replay-memory timings: rlblocks RandomMemory against stable-baselines3's ReplayBuffer.

Both buffers hold 1M transitions of a HalfCheetah-sized task (17-float states and next states,
6-float actions, a reward and a termination flag), filled with random data. Measured, per call:

- ``sample``: a batch of 256 (rlblocks ``RandomMemory.sample``; SB3 ``ReplayBuffer.sample``; and a
  plain-torch floor: one ``randint`` plus one ``index_select`` per separately stored tensor);
- ``add``: one transition (rlblocks ``add_samples`` with torch tensors; SB3 ``add`` with numpy).

Repetitions interleave the contenders so that machine load affects them alike; the table shows
the median time per call over repetitions and the ratio SB3 / rlblocks (> 1: rlblocks faster).

Run: ``.venv/bin/python benchmarks/memory_sample.py [--repeats 15] [--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import gymnasium
import numpy as np
import torch

from rlblocks.memories.torch import RandomMemory

MEMORY_SIZE = 1_000_000
BATCH_SIZE = 256
STATE_SIZE = 17
ACTION_SIZE = 6
NAMES = ("states", "actions", "rewards", "next_states", "terminated")


def make_rlblocks_memory() -> RandomMemory:
    memory = RandomMemory(MEMORY_SIZE, num_envs=1, device="cpu")
    for name, size in (
        ("states", STATE_SIZE),
        ("actions", ACTION_SIZE),
        ("rewards", 1),
        ("next_states", STATE_SIZE),
    ):
        memory.create_tensor(name, size, torch.float32)
        memory.set_tensor_by_name(name, torch.randn(MEMORY_SIZE, 1, size))
    memory.create_tensor("terminated", 1, torch.bool)
    memory.set_tensor_by_name("terminated", torch.rand(MEMORY_SIZE, 1, 1) < 0.01)
    memory.filled = True
    return memory


def make_sb3_buffer():
    from stable_baselines3.common.buffers import ReplayBuffer

    buffer = ReplayBuffer(
        MEMORY_SIZE,
        gymnasium.spaces.Box(-np.inf, np.inf, (STATE_SIZE,), np.float32),
        gymnasium.spaces.Box(-1.0, 1.0, (ACTION_SIZE,), np.float32),
        device="cpu",
        n_envs=1,
    )
    generator = np.random.default_rng(0)
    for name in ("observations", "next_observations", "actions", "rewards"):
        array = getattr(buffer, name)
        array[:] = generator.standard_normal(array.shape, dtype=np.float32)
    buffer.dones[:] = generator.random(buffer.dones.shape) < 0.01
    buffer.full = True
    return buffer


def make_plain_torch_sampler() -> Callable[[], list[torch.Tensor]]:
    """The floor for separately stored tensors: one randint and one index_select per tensor."""
    sizes = {"states": STATE_SIZE, "actions": ACTION_SIZE, "rewards": 1, "next_states": STATE_SIZE}
    tensors = [torch.randn(MEMORY_SIZE, size) for size in sizes.values()]
    tensors.append(torch.rand(MEMORY_SIZE, 1) < 0.01)

    def sample() -> list[torch.Tensor]:
        indexes = torch.randint(MEMORY_SIZE, (BATCH_SIZE,))
        return [tensor.index_select(0, indexes) for tensor in tensors]

    return sample


def seconds_per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="interleaved repetitions (median reported)")
    parser.add_argument("--sample-calls", type=int, default=500, help="sample calls per repetition")
    parser.add_argument("--add-calls", type=int, default=5000, help="add calls per repetition")
    parser.add_argument("--output", default="benchmarks/results/memory_sample.json", help="JSON results path")
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    memory = make_rlblocks_memory()
    buffer = make_sb3_buffer()
    plain_sample = make_plain_torch_sampler()

    transition = {
        "states": torch.randn(1, STATE_SIZE),
        "actions": torch.randn(1, ACTION_SIZE),
        "rewards": torch.randn(1, 1),
        "next_states": torch.randn(1, STATE_SIZE),
        "terminated": torch.zeros(1, 1, dtype=torch.bool),
    }
    observation = np.random.randn(1, STATE_SIZE).astype(np.float32)
    action = np.random.randn(1, ACTION_SIZE).astype(np.float32)
    reward, done, infos = np.zeros(1, np.float32), np.zeros(1, np.float32), [{}]

    contenders: dict[str, tuple[Callable[[], object], int]] = {
        "sample/rlblocks": (lambda: memory.sample(NAMES, BATCH_SIZE), arguments.sample_calls),
        "sample/sb3": (lambda: buffer.sample(BATCH_SIZE), arguments.sample_calls),
        "sample/plain_torch": (plain_sample, arguments.sample_calls),
        "add/rlblocks": (lambda: memory.add_samples(**transition), arguments.add_calls),
        "add/sb3": (
            lambda: buffer.add(observation, observation, action, reward, done, infos),
            arguments.add_calls,
        ),
    }
    for function, _ in contenders.values():  # warm-up
        seconds_per_call(function, 50)
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(arguments.repeats):
        for name, (function, calls) in contenders.items():
            timings[name].append(seconds_per_call(function, calls))

    median_us = {name: statistics.median(values) * 1e6 for name, values in timings.items()}
    rows = [
        (
            "sample (batch 256)",
            median_us["sample/rlblocks"],
            median_us["sample/sb3"],
            median_us["sample/plain_torch"],
        ),
        ("add (one transition)", median_us["add/rlblocks"], median_us["add/sb3"], None),
    ]
    print(
        f"Replay memory, {MEMORY_SIZE:,} transitions, 1 torch thread, median of {arguments.repeats} repeats"
    )
    print(f"{'operation':<22}{'rlblocks us':>13}{'SB3 us':>10}{'SB3/rlblocks':>14}{'plain torch us':>16}")
    for label, ours, theirs, plain in rows:
        plain_text = f"{plain:16.1f}" if plain is not None else f"{'-':>16}"
        print(f"{label:<22}{ours:13.1f}{theirs:10.1f}{theirs / ours:14.2f}{plain_text}")

    results = {
        "benchmark": "memory_sample",
        "memory_size": MEMORY_SIZE,
        "batch_size": BATCH_SIZE,
        "state_size": STATE_SIZE,
        "action_size": ACTION_SIZE,
        "repeats": arguments.repeats,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "median_us": median_us,
        "all_us": {name: [value * 1e6 for value in values] for name, values in timings.items()},
        "ratios_sb3_over_rlblocks": {
            "sample": median_us["sample/sb3"] / median_us["sample/rlblocks"],
            "add": median_us["add/sb3"] / median_us["add/rlblocks"],
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    with open(arguments.output, "w") as stream:
        json.dump(results, stream, indent=2)
    print(f"results written to {arguments.output}")


if __name__ == "__main__":
    main()
