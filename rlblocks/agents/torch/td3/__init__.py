"""Twin Delayed Deep Deterministic policy gradient."""

from rlblocks.agents.torch.td3.config import TD3_DEFAULT_CONFIG, TD3Config
from rlblocks.agents.torch.td3.td3 import TD3

__all__ = ["TD3", "TD3_DEFAULT_CONFIG", "TD3Config"]
