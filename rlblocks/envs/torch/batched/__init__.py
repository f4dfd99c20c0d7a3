"""Torch-native vector envs: gymnasium's classic-control tasks stepped as batches on any device.

`CartPole` and `Pendulum` reproduce gymnasium's CartPole-v1 and Pendulum-v1 (physics, reward,
termination and truncation) with torch tensors in and out, for thousands of envs at once, like the
GPU simulators do. They follow gymnasium's `VectorEnv` API with SAME_STEP autoreset (see
`BatchedVectorEnv`); `rlblocks.envs.torch.wrap_env` wraps them without copying a tensor.
"""

from rlblocks.envs.torch.batched.base import BatchedVectorEnv
from rlblocks.envs.torch.batched.cartpole import CartPole
from rlblocks.envs.torch.batched.pendulum import Pendulum

__all__ = ["BatchedVectorEnv", "CartPole", "Pendulum"]
