"""Soft Actor-Critic."""

from rlblocks.agents.torch.sac.config import SAC_DEFAULT_CONFIG, SACConfig
from rlblocks.agents.torch.sac.sac import SAC

__all__ = ["SAC", "SAC_DEFAULT_CONFIG", "SACConfig"]
