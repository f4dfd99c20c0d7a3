"""PyTorch memories: the `Memory` base class and `RandomMemory` (uniform sampling, the replay buffer)."""

from rlblocks.memories.torch.base import Memory
from rlblocks.memories.torch.random import RandomMemory

__all__ = ["Memory", "RandomMemory"]
