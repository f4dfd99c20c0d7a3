"""Trust Region Policy Optimization."""

from rlblocks.agents.torch.trpo.config import TRPO_DEFAULT_CONFIG, TRPOConfig
from rlblocks.agents.torch.trpo.trpo import TRPO

__all__ = ["TRPO", "TRPO_DEFAULT_CONFIG", "TRPOConfig"]
