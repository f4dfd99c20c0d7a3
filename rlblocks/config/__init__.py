"""Process-wide settings, by framework: `rlblocks.config.torch` (skrl 1.x's ``skrl.config.torch``)."""

from rlblocks.config import torch

__all__ = ["torch"]
