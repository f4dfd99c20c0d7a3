"""Loaders of the NVIDIA Isaac envs, with skrl 0.10's names and signatures.

Each returns the env as its package builds it; wrap it with `rlblocks.envs.torch.wrap_env`. The
task name is the `task_name` argument or the command line's (which has priority). A missing package
raises an ImportError naming it and its install page (skrl 0.10: a RuntimeError, or the bare
ImportError of the import).
"""

from rlblocks.envs.torch.loaders.isaac_orbit import load_isaac_orbit_env
from rlblocks.envs.torch.loaders.isaacgym import (
    load_isaacgym_env_preview2,
    load_isaacgym_env_preview3,
    load_isaacgym_env_preview4,
)
from rlblocks.envs.torch.loaders.omniverse_isaacgym import load_omniverse_isaacgym_env

__all__ = [
    "load_isaac_orbit_env",
    "load_isaacgym_env_preview2",
    "load_isaacgym_env_preview3",
    "load_isaacgym_env_preview4",
    "load_omniverse_isaacgym_env",
]
