"""Advantage Actor-Critic."""

from rlblocks.agents.torch.a2c.a2c import A2C
from rlblocks.agents.torch.a2c.config import A2C_DEFAULT_CONFIG, A2CConfig

__all__ = ["A2C", "A2C_DEFAULT_CONFIG", "A2CConfig"]
