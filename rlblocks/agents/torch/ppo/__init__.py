"""Proximal Policy Optimization."""

from rlblocks.agents.torch.ppo.config import PPO_DEFAULT_CONFIG, PPOConfig
from rlblocks.agents.torch.ppo.ppo import PPO

__all__ = ["PPO", "PPO_DEFAULT_CONFIG", "PPOConfig"]
