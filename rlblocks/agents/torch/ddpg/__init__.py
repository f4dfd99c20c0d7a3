"""Deep Deterministic Policy Gradient."""

from rlblocks.agents.torch.ddpg.config import DDPG_DEFAULT_CONFIG, DDPGConfig
from rlblocks.agents.torch.ddpg.ddpg import DDPG

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG", "DDPGConfig"]
