"""PyTorch agents: the `Agent` base class; each algorithm lives in its own sub-package (ppo, sac, ...)."""

from rlblocks.agents.torch.base import Agent

__all__ = ["Agent"]
