"""Robust Policy Optimization (PPO with a uniformly perturbed Gaussian mean in the update)."""

from rlblocks.agents.torch.rpo.config import RPO_DEFAULT_CONFIG, RPOConfig
from rlblocks.agents.torch.rpo.rpo import RPO

__all__ = ["RPO", "RPO_DEFAULT_CONFIG", "RPOConfig"]
