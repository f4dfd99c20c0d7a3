"""Counting device-to-host synchronisations: the Tensor methods that copy a value to the host."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

import torch

SYNCING_METHODS = ("item", "__bool__", "__float__", "__int__", "tolist", "numpy", "cpu", "nonzero")
"""Each of these waits for the device (on CUDA) and reads its result on the host."""


@contextlib.contextmanager
def count_host_syncs() -> Iterator[Counter]:
    """Count the calls of `SYNCING_METHODS` inside the block, by method name (and "total")."""
    counts: Counter = Counter()
    originals = {name: getattr(torch.Tensor, name) for name in SYNCING_METHODS}

    def counting(name, original):
        def method(self, *args, **kwargs):
            counts[name] += 1
            counts["total"] += 1
            return original(self, *args, **kwargs)

        return method

    for name, original in originals.items():
        setattr(torch.Tensor, name, counting(name, original))
    try:
        yield counts
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)
