"""PyTorch environment wrappers: `wrap_env(env)` returns a `Wrapper` speaking torch tensors."""

from rlblocks.envs.torch.wrappers import Wrapper, wrap_env

__all__ = ["Wrapper", "wrap_env"]
