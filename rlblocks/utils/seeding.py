"""Seeding every random number generator rlblocks uses.

Under torchrun each rank seeds with ``seed + rank`` (`rank_seed`), so that the ranks' envs and
samples differ while the run stays reproducible; the ranks' parameters still start equal, as the
agents take rank 0's at ``init``.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from rlblocks import logger
from rlblocks.config import torch as config


def rank_seed(seed: int) -> int:
    """This process's seed: ``seed + rank`` under torchrun (rank 0 keeps ``seed``), ``seed`` otherwise."""
    return int(seed) + config.rank if config.is_distributed else int(seed)


def set_seed(seed: int | None = None, deterministic: bool = False) -> int:
    """Seed Python's `random`, NumPy and torch (CPU and every CUDA device).

    Args:
        seed: the base seed; under torchrun rank r uses ``seed + r`` (see `rank_seed`). None
            draws one from the operating system (and logs it).
        deterministic: also make cuDNN deterministic (slower) and ask torch for deterministic
            algorithms where they exist.

    Returns:
        The seed used (this rank's).
    """
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
        logger.info(f"Seed: {seed}")
    seed = rank_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed
