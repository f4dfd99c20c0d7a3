"""Seeding every random number generator rlblocks uses."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from rlblocks import logger


def set_seed(seed: int | None = None, deterministic: bool = False) -> int:
    """Seed Python's `random`, NumPy and torch (CPU and every CUDA device).

    Args:
        seed: the seed; None draws one from the operating system (and logs it).
        deterministic: also make cuDNN deterministic (slower) and ask torch for deterministic
            algorithms where they exist.

    Returns:
        The seed used.
    """
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
        logger.info(f"Seed: {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed
