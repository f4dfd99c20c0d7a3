"""DQN on Pong-sized frame stacks: replay bytes per transition and ``sample_batch`` time, two layouts.

Two DQN agents with the Pong DQN ready config's replay settings (batches of 32, one env) are fed
the same trajectory of (4, 84, 84) uint8 frame stacks, built as ``FrameStackObservation(4)``
builds them (random frames; episodes end with probability 1/800 per step and are truncated at
2000 steps; a reset stack repeats its reset frame):

- ``frames`` (the default for such observations, `rlblocks.memories.torch.frames`): one 84×84
  frame per transition, next states from the next row, stacks rebuilt when sampled;
- ``transitions`` (skrl's layout, the previous default): separate states and next_states.

Measured: the bytes the memory holds per transition (its tensors and side store), and the median
time of ``agent.sample_batch()`` (draw, gather, rebuild) over repetitions that interleave the two.

Run: ``.venv/bin/python benchmarks/frame_replay.py [--steps 20000] [--repeats 15] [--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch
from gymnasium import spaces

from rlblocks.agents.torch.dqn import DQN
from rlblocks.memories.torch import RandomMemory
from rlblocks.utils.model_instantiators import deterministic_model

STACKS = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
ACTIONS = spaces.Discrete(6)
LAYOUTS = ("frames", "transitions")


def trajectory(steps: int, seed: int = 0):
    """``steps`` (states, next_states, terminated, truncated) of one env, FrameStackObservation-style."""
    generator = torch.Generator().manual_seed(seed)

    def frame() -> torch.Tensor:
        return torch.randint(0, 256, (1, 1, 84, 84), dtype=torch.uint8, generator=generator)

    stack, length = frame().expand(1, 4, 84, 84).clone(), 0
    for _ in range(steps):
        next_stack = torch.cat((stack[:, 1:], frame()), 1)
        length += 1
        terminated = bool(torch.rand((), generator=generator) < 1 / 800)
        truncated = not terminated and length >= 2000
        yield stack, next_stack, torch.tensor([[terminated]]), torch.tensor([[truncated]])
        if terminated or truncated:
            stack, length = frame().expand(1, 4, 84, 84).clone(), 0
        else:
            stack = next_stack


def agent(layout: str, memory_size: int, device: str = "cpu") -> DQN:
    def q_network():
        return deterministic_model(
            STACKS, ACTIONS, "cpu", encoder={"type": "nature_cnn"}, hiddens=[], output_shape="ACTIONS"
        )

    cfg = {
        "batch_size": 32,
        "learning_starts": 10**9,
        "replay_storage": layout,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    memory = RandomMemory(memory_size, 1, device=device)
    built = DQN(
        {"q_network": q_network(), "target_q_network": q_network()}, memory, STACKS, ACTIONS, "cpu", cfg
    )
    built.init()
    return built


def bytes_per_million(layout: str) -> float:
    """Bytes per transition of a 1M-transition replay (allocated on the meta device: sizes only)."""
    built = agent(layout, 1_000_000, device="meta")
    return stored_bytes(built.memory) / 1_000_000


def stored_bytes(memory: RandomMemory) -> int:
    tensors = [*memory.tensors.values(), *getattr(memory, "side_tensors", {}).values()]
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="transitions stored (the memory size)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--calls", type=int, default=50, help="sample_batch calls per repetition")
    parser.add_argument("--output", default="benchmarks/results/frame_replay.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    agents = {layout: agent(layout, args.steps) for layout in LAYOUTS}
    actions, rewards = torch.zeros(1, 1, dtype=torch.int64), torch.zeros(1, 1)
    for timestep, (states, next_states, terminated, truncated) in enumerate(trajectory(args.steps)):
        for built in agents.values():
            built.record_transition(
                states, actions, rewards, next_states, terminated, truncated, {}, timestep, 1
            )
    times: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
    for _ in range(args.repeats):
        for layout, built in agents.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                built.sample_batch()
            times[layout].append((time.perf_counter() - start) / args.calls)
    results = {
        layout: {
            "bytes_per_transition": stored_bytes(agents[layout].memory) / args.steps,
            "bytes_per_transition_1m": bytes_per_million(layout),
            "sample_batch_ms": 1000 * statistics.median(times[layout]),
        }
        for layout in LAYOUTS
    }
    results["meta"] = {"steps": args.steps, "repeats": args.repeats, "machine": platform.processor() or "?"}
    print(f"| layout | bytes / transition ({args.steps:,}) | 1M transitions | sample_batch (32) ms |")
    print("|---|---|---|---|")
    for layout in LAYOUTS:
        figures = results[layout]
        per, million = figures["bytes_per_transition"], figures["bytes_per_transition_1m"]
        print(f"| {layout} | {per:,.0f} | {million / 1e3:.2f} GB | {figures['sample_batch_ms']:.3f} |")
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
