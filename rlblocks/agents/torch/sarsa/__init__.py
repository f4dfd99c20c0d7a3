"""SARSA (tabular)."""

from rlblocks.agents.torch.sarsa.config import SARSA_DEFAULT_CONFIG, SARSAConfig
from rlblocks.agents.torch.sarsa.sarsa import SARSA

__all__ = ["SARSA", "SARSA_DEFAULT_CONFIG", "SARSAConfig"]
