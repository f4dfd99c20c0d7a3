"""Optimizer steps under torchrun: one all-reduce per step, and a NaN loss on one rank skips on all.

usage: one_collective.py OUT_DIR

Each rank runs 4 steps of an `OptimisationStep` (a guard in "warn-and-skip" mode, gradient
clipping on) on a small linear model; at step 2 rank 1's loss is NaN and rank 0's is finite.
Saves rank<r>.pt: the parameters after each step, the number of all-reduces per step and the
number of skipped steps, and the cores the rank may run on (`rlblocks.config.core_binding`) with
those the job was started with.
"""

from __future__ import annotations

import os
import sys

import torch
import torch.distributed as dist

from rlblocks.agents.torch.parts.non_finite import NonFiniteGuard
from rlblocks.agents.torch.parts.optimisation import OptimisationStep
from rlblocks.config import torch as config

STEPS = 4
NAN_STEP = 2


def counting_all_reduce(counter: list[int]):
    all_reduce = dist.all_reduce

    def counted(*args, **kwargs):
        counter[0] += 1
        return all_reduce(*args, **kwargs)

    return counted


if __name__ == "__main__":
    torch.set_num_threads(1)
    started_on = sorted(os.sched_getaffinity(0))
    config.init_process_group()
    torch.manual_seed(0)  # the same initial parameters on both ranks
    model = torch.nn.Linear(3, 2)
    guard = NonFiniteGuard("warn-and-skip", torch.device("cpu"), "Test")
    step = OptimisationStep(model.parameters(), 1e-2, grad_norm_clip=1.0, guard=guard)
    counter = [0]
    dist.all_reduce = counting_all_reduce(counter)
    data = torch.arange(12.0).reshape(4, 3) * (config.rank + 1)
    collectives, parameters = [], []
    for index in range(STEPS):
        before = counter[0]
        loss = model(data).square().mean()
        if index == NAN_STEP and config.rank == 1:
            loss = loss * float("nan")
        step(loss)
        collectives.append(counter[0] - before)
        parameters.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone())
    torch.save(
        {
            "collectives": collectives,
            "parameters": torch.stack(parameters),
            "skipped": guard.num_skipped,
            "cores": sorted(os.sched_getaffinity(0)),
            "started_on": started_on,
        },
        os.path.join(sys.argv[1], f"rank{config.rank}.pt"),
    )
