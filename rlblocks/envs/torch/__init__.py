"""PyTorch environment wrappers: `wrap_env(env)` returns a `Wrapper` speaking torch tensors.

`make_atari_env(env_id, num_envs)` builds ALE envs with gymnasium's standard Atari preprocessing.

The NVIDIA Isaac loaders (`load_isaacgym_env_preview4`, ...) sit here too, as in skrl 0.10.
"""

from rlblocks.envs.torch.atari import make_atari_env
from rlblocks.envs.torch.loaders import (
    load_isaac_orbit_env,
    load_isaacgym_env_preview2,
    load_isaacgym_env_preview3,
    load_isaacgym_env_preview4,
    load_omniverse_isaacgym_env,
)
from rlblocks.envs.torch.wrappers import Wrapper, wrap_env

__all__ = [
    "Wrapper",
    "load_isaac_orbit_env",
    "load_isaacgym_env_preview2",
    "load_isaacgym_env_preview3",
    "load_isaacgym_env_preview4",
    "load_omniverse_isaacgym_env",
    "make_atari_env",
    "wrap_env",
]
