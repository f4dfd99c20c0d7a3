"""Cross-Entropy Method."""

from rlblocks.agents.torch.cem.cem import CEM
from rlblocks.agents.torch.cem.config import CEM_DEFAULT_CONFIG, CEMConfig

__all__ = ["CEM", "CEM_DEFAULT_CONFIG", "CEMConfig"]
