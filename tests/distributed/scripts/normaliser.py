"""Each rank feeds a RunningStandardScaler batches of its own sizes, then saves its statistics.

They go to OUT_DIR/rank<r>.pt.

usage: normaliser.py OUT_DIR

The batches come from `batches(rank)`, so the test rebuilds them all and feeds one scaler the
concatenation of the ranks' batches, step by step.
"""

from __future__ import annotations

import os
import sys

import torch

from rlblocks.config import torch as config
from rlblocks.resources.preprocessors.torch import RunningStandardScaler

SIZES = {0: (5, 1, 0, 7), 1: (13, 0, 1, 2)}  # rows per step: empty and one-row batches included


def batches(rank: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(100 + rank)
    return [torch.randn(rows, 3, generator=generator) * (rank + 1) + rank for rows in SIZES[rank]]


if __name__ == "__main__":
    scaler = RunningStandardScaler(3, device="cpu")
    for batch in batches(config.rank):
        scaler(batch, train=True)
    torch.save(scaler.state_dict(), os.path.join(sys.argv[1], f"rank{config.rank}.pt"))
