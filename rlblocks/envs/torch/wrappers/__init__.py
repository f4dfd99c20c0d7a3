"""Environment wrappers: `wrap_env` picks the wrapper that turns an env into torch tensors.

(gymnasium names are imported under aliases: the `gymnasium` submodule of this package shadows
the package name here.)
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import Env as GymnasiumEnv
from gymnasium.vector import VectorEnv as GymnasiumVectorEnv

from rlblocks import logger
from rlblocks.envs.torch.wrappers.base import Wrapper
from rlblocks.envs.torch.wrappers.deepmind import DeepMindWrapper, is_dm_env
from rlblocks.envs.torch.wrappers.gym import GymWrapper
from rlblocks.envs.torch.wrappers.gymnasium import GymnasiumWrapper
from rlblocks.envs.torch.wrappers.isaac_orbit import IsaacOrbitWrapper, is_isaac_orbit_env
from rlblocks.envs.torch.wrappers.isaacgym import (
    IsaacGymPreview2Wrapper,
    IsaacGymPreview3Wrapper,
    IsaacGymPreview4Wrapper,
    is_isaacgym_preview2_env,
    is_isaacgym_preview3_env,
)
from rlblocks.envs.torch.wrappers.isaaclab import IsaacLabWrapper, is_isaaclab_env
from rlblocks.envs.torch.wrappers.omniverse_isaacgym import (
    OmniverseIsaacGymWrapper,
    is_omniverse_isaacgym_env,
)
from rlblocks.envs.torch.wrappers.robosuite import RobosuiteWrapper, is_robosuite_env
from rlblocks.envs.torch.wrappers.torch_vector import TorchVectorWrapper, is_batched_vector_env
from rlblocks.utils.suggest import did_you_mean

__all__ = [
    "DeepMindWrapper",
    "GymWrapper",
    "GymnasiumWrapper",
    "IsaacGymPreview2Wrapper",
    "IsaacGymPreview3Wrapper",
    "IsaacGymPreview4Wrapper",
    "IsaacLabWrapper",
    "IsaacOrbitWrapper",
    "OmniverseIsaacGymWrapper",
    "RobosuiteWrapper",
    "TorchVectorWrapper",
    "Wrapper",
    "wrap_env",
]

WRAPPERS = {
    "gym": GymWrapper,
    "gymnasium": GymnasiumWrapper,
    "torch": TorchVectorWrapper,
    "dm": DeepMindWrapper,
    "robosuite": RobosuiteWrapper,
    "isaacgym-preview2": IsaacGymPreview2Wrapper,
    "isaacgym-preview3": IsaacGymPreview3Wrapper,
    "isaacgym-preview4": IsaacGymPreview4Wrapper,
    "omniverse-isaacgym": OmniverseIsaacGymWrapper,
    "isaac-orbit": IsaacOrbitWrapper,
    "isaaclab": IsaacLabWrapper,
}
"""The `wrapper` tags rlblocks supports, besides "auto"."""


def wrap_env(
    env: Any, wrapper: str = "auto", verbose: bool = True, device: str | torch.device | None = None
) -> Wrapper:
    """Wrap an environment so that it takes and returns torch tensors (see `Wrapper`).

    Args:
        env: a gymnasium env or vector env, a legacy gym env or vector env, or a vector env
            that speaks torch (`rlblocks.envs.torch.batched`). An rlblocks `Wrapper` is returned
            as it is.
        wrapper: "auto" (detect from the env's classes), "gymnasium", "gym", "torch" (a
            torch-returning vector env with SAME_STEP autoreset, see `TorchVectorWrapper`), "dm"
            (dm_env / dm_control), "robosuite", "isaacgym-preview2", "isaacgym-preview3",
            "isaacgym-preview4", "omniverse-isaacgym", "isaac-orbit" or "isaaclab".
        verbose: log the env's class and the wrapper chosen.
        device: where the tensors are put (default: `env.device` if the env has one, else cpu).

    Raises:
        ValueError: unknown `wrapper` tag, or "auto" cannot tell which wrapper fits the env.
    """
    if isinstance(env, Wrapper):
        return env
    tag = _detect(env) if wrapper == "auto" else wrapper
    if tag not in WRAPPERS:
        supported = ", ".join(f'"{name}"' for name in ("auto", *WRAPPERS))
        raise ValueError(
            f'Unknown wrapper type "{tag}"{did_you_mean(tag, ["auto", *WRAPPERS])}; '
            f"supported wrappers: {supported}."
        )
    wrapped = WRAPPERS[tag](env, device=device)
    if verbose:
        logger.info(f"Environment class: {_class_names(env)}")
        logger.info(f"Environment wrapper: {type(wrapped).__name__}")
    return wrapped


def _detect(env: Any) -> str:
    """Tag of the wrapper that fits the env, from its class hierarchy (skrl 0.10's order, Isaac Lab added).

    Omniverse Isaac Gym; Isaac Orbit (a gym env with `sim` and `env_ns`); rlblocks' batched torch
    envs; Isaac Lab; gymnasium; gym; dm_env; robosuite; Isaac Gym preview 2 (`rlgpu`), then 3/4
    (`isaacgymenvs`). Unlike skrl 0.10, an env none of these recognise is an error, not preview 3.
    """
    if is_omniverse_isaacgym_env(env):
        return "omniverse-isaacgym"
    is_gym = any(klass.__module__.split(".")[0] == "gym" for klass in type(env).__mro__)
    if is_gym and is_isaac_orbit_env(env):
        return "isaac-orbit"
    if is_batched_vector_env(env):  # a gymnasium VectorEnv too, so checked first
        return "torch"
    if is_isaaclab_env(env):  # gymnasium envs too
        return "isaaclab"
    if isinstance(env, (GymnasiumEnv, GymnasiumVectorEnv)):
        return "gymnasium"
    if is_gym:
        return "gym"
    for tag, recognises in _OTHER_FAMILIES:
        if recognises(env):
            return tag
    raise ValueError(
        f"wrap_env cannot tell which wrapper fits {type(env).__name__} (classes: {_class_names(env)}); "
        "it recognises gymnasium and gym envs, rlblocks' batched torch envs, dm_env, robosuite and the "
        'NVIDIA Isaac envs. Pass wrapper="gymnasium", "gym", "torch" (a vector env returning torch '
        'tensors), "dm", "robosuite", "isaacgym-preview4", "isaaclab", ... if the env follows one of '
        "those APIs."
    )


_OTHER_FAMILIES = (
    ("dm", is_dm_env),
    ("robosuite", is_robosuite_env),
    ("isaacgym-preview2", is_isaacgym_preview2_env),
    ("isaacgym-preview3", is_isaacgym_preview3_env),
)


def _class_names(env: Any) -> str:
    """The class name and its bases, for log and error messages."""
    bases = ", ".join(f"{base.__module__}.{base.__qualname__}" for base in type(env).__bases__)
    return f"{type(env).__qualname__} (bases: {bases})"
