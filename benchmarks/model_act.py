"""Model `act` timings: a rlblocks Gaussian policy against the same computation in plain torch.

The policy is a 2x256 ELU MLP from 64 observations to the mean of 8 actions, with a log-std
parameter. Per call, both contenders do the same work on the same network:

- rlblocks: ``policy.act({"states": states}, role="policy")`` (GaussianMixin: clamp the log-std,
  reparameterised sample, log-prob summed over the action dimension, ``outputs["mean_actions"]``);
- plain torch: ``net(states)``, the clamped log-std, ``mean + std * randn``, and the Gaussian
  log-prob formula summed over the action dimension.

Both run under ``torch.no_grad()``, as on an environment step, with one torch thread. Each
repetition times a block of calls of each contender, alternating which goes first, so machine
load affects them alike. The table shows the median time per call over repetitions and the
ratio rlblocks / plain torch (1.0: no overhead).

Run: ``.venv/bin/python benchmarks/model_act.py [--repeats 31] [--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable

import gymnasium
import numpy as np
import torch
from torch import nn

from rlblocks.models.torch import GaussianMixin, Model

NUM_OBSERVATIONS = 64
NUM_ACTIONS = 8
HIDDEN = 256
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
TARGETS = {4096: 1.05, 1: 1.3}
"""Largest acceptable ratio rlblocks / plain torch per batch size."""


class Policy(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device="cpu"):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, role="policy")
        self.net = nn.Sequential(
            nn.Linear(self.num_observations, HIDDEN),
            nn.ELU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ELU(),
            nn.Linear(HIDDEN, self.num_actions),
        )
        self.log_std_parameter = nn.Parameter(torch.full((self.num_actions,), -0.5))

    def compute(self, inputs, role=""):
        return self.net(inputs["states"]), self.log_std_parameter, {}


def make_plain_torch_act(net: nn.Module, log_std_parameter: torch.Tensor) -> Callable[[torch.Tensor], tuple]:
    """The same computation as `GaussianMixin.act` (default settings), written directly."""

    def act(states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean = net(states)
        log_std = torch.clamp(log_std_parameter, -20.0, 2.0)
        std = torch.exp(log_std)
        actions = mean + std * torch.randn_like(mean)
        log_prob = -((actions - mean) ** 2) / (2 * std**2) - log_std - LOG_SQRT_2PI
        return actions, log_prob.sum(dim=-1, keepdim=True), mean

    return act


def seconds_per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def measure(batch_size: int, repeats: int, calls: int) -> dict[str, float]:
    """Median seconds per call of both contenders at one batch size, interleaved."""
    policy = Policy(
        gymnasium.spaces.Box(-np.inf, np.inf, (NUM_OBSERVATIONS,)),
        gymnasium.spaces.Box(-1.0, 1.0, (NUM_ACTIONS,)),
    )
    plain_act = make_plain_torch_act(policy.net, policy.log_std_parameter)
    states = torch.randn(batch_size, NUM_OBSERVATIONS)
    inputs = {"states": states}
    contenders = {
        "rlblocks": lambda: policy.act(inputs, role="policy"),
        "plain_torch": lambda: plain_act(states),
    }
    timings: dict[str, list[float]] = {name: [] for name in contenders}
    with torch.no_grad():
        for function in contenders.values():  # warm-up
            seconds_per_call(function, max(calls // 2, 1))
        for repeat in range(repeats):
            order = list(contenders) if repeat % 2 == 0 else list(reversed(contenders))
            for name in order:
                timings[name].append(seconds_per_call(contenders[name], calls))
    paired = [ours / plain for ours, plain in zip(timings["rlblocks"], timings["plain_torch"])]
    rlblocks_s = statistics.median(timings["rlblocks"])
    plain_s = statistics.median(timings["plain_torch"])
    return {
        "batch_size": batch_size,
        "rlblocks_ms": rlblocks_s * 1e3,
        "plain_torch_ms": plain_s * 1e3,
        "ratio": rlblocks_s / plain_s,
        "median_paired_ratio": statistics.median(paired),
        "target_ratio": TARGETS[batch_size],
        "repeats": repeats,
        "calls_per_repeat": calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31, help="interleaved repetitions (median reported)")
    parser.add_argument("--large-calls", type=int, default=3, help="calls per repetition at batch 4096")
    parser.add_argument("--small-calls", type=int, default=500, help="calls per repetition at batch 1")
    parser.add_argument("--output", default="benchmarks/results/model_act.json", help="JSON results path")
    arguments = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    results = [
        measure(4096, arguments.repeats, arguments.large_calls),
        measure(1, arguments.repeats, arguments.small_calls),
    ]

    print(
        f"Gaussian policy act (2x{HIDDEN} ELU MLP, {NUM_OBSERVATIONS} observations, {NUM_ACTIONS} actions), "
        f"1 torch thread, no_grad, median of {arguments.repeats} repeats"
    )
    print(f"{'batch':>6}{'rlblocks ms':>14}{'plain torch ms':>17}{'ratio':>8}{'target':>8}")
    for row in results:
        print(
            f"{row['batch_size']:>6}{row['rlblocks_ms']:>14.4f}{row['plain_torch_ms']:>17.4f}"
            f"{row['ratio']:>8.3f}{row['target_ratio']:>8.2f}"
        )

    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    with open(arguments.output, "w", encoding="utf-8") as stream:
        json.dump(
            {
                "benchmark": "model_act",
                "torch": torch.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "processor": platform.processor(),
                "threads": torch.get_num_threads(),
                "results": results,
            },
            stream,
            indent=2,
        )
        stream.write("\n")
    print(f"written to {arguments.output}")


if __name__ == "__main__":
    main()
