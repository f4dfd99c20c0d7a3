"""`rlblocks train` under torchrun: one run directory, written by rank 0 only.

``torchrun --nproc_per_node N -m rlblocks train ...`` runs the command once per rank. Rank 0
names the run directory (a fresh timestamped one unless ``--run-dir`` is given) and the other
ranks take that name from it (`shared_run_dir`), so a resume finds rank 0's checkpoints; only
rank 0 writes into it (`is_writer`): the config, TensorBoard events, checkpoints, the curve and
the summary. Every rank builds and seeds its own env (seed + rank).
"""

from __future__ import annotations

import torch

from rlblocks.utils import distributed


def is_writer() -> bool:
    """Whether this process writes the run's files: always without torchrun, rank 0 under it."""
    return distributed.rank() == 0


def shared_run_dir(path: str) -> str:
    """Rank 0's ``path`` on every rank (the path itself without torchrun)."""
    if not distributed.is_distributed():
        return path
    encoded = torch.tensor(list(path.encode()), dtype=torch.uint8)
    length = torch.tensor([encoded.numel()], dtype=torch.int64)
    distributed.broadcast_tensors([length])
    received = encoded if distributed.rank() == 0 else torch.zeros(int(length), dtype=torch.uint8)
    distributed.broadcast_tensors([received])
    return bytes(received.tolist()).decode()


def wait_for_every_rank() -> None:
    """A barrier under torchrun (nothing otherwise): e.g. all ranks checked the run directory."""
    if distributed.is_distributed():
        distributed.any_rank(False)
