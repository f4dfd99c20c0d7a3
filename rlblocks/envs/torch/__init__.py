"""PyTorch environment wrappers: `wrap_env(env)` returns a `Wrapper` speaking torch tensors.

`make_atari_env(env_id, num_envs)` builds ALE envs with gymnasium's standard Atari preprocessing.
"""

from rlblocks.envs.torch.atari import make_atari_env
from rlblocks.envs.torch.wrappers import Wrapper, wrap_env

__all__ = ["Wrapper", "make_atari_env", "wrap_env"]
