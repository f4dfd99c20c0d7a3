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
from rlblocks.envs.torch.wrappers.gym import GymWrapper
from rlblocks.envs.torch.wrappers.gymnasium import GymnasiumWrapper
from rlblocks.envs.torch.wrappers.torch_vector import TorchVectorWrapper, is_batched_vector_env
from rlblocks.utils.suggest import did_you_mean

__all__ = ["GymWrapper", "GymnasiumWrapper", "TorchVectorWrapper", "Wrapper", "wrap_env"]

WRAPPERS = {"gym": GymWrapper, "gymnasium": GymnasiumWrapper, "torch": TorchVectorWrapper}
"""The `wrapper` tags rlblocks supports, besides "auto"."""

SKRL_ONLY_WRAPPERS = (
    "dm",
    "robosuite",
    "isaacgym-preview2",
    "isaacgym-preview3",
    "isaacgym-preview4",
    "omniverse-isaacgym",
    "isaac-orbit",
)
"""skrl 0.10's other tags (DeepMind, robosuite, NVIDIA Isaac): not available in rlblocks."""


def wrap_env(
    env: Any, wrapper: str = "auto", verbose: bool = True, device: str | torch.device | None = None
) -> Wrapper:
    """Wrap an environment so that it takes and returns torch tensors (see `Wrapper`).

    Args:
        env: a gymnasium env or vector env, a legacy gym env or vector env, or a vector env
            that speaks torch (`rlblocks.envs.torch.batched`). An rlblocks `Wrapper` is returned
            as it is.
        wrapper: "auto" (detect from the env's classes), "gymnasium", "gym" or "torch" (a
            torch-returning vector env with SAME_STEP autoreset, see `TorchVectorWrapper`).
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
        if tag in SKRL_ONLY_WRAPPERS:
            raise ValueError(
                f'The "{tag}" wrapper of skrl 0.10 is not available in rlblocks; supported wrappers: '
                f"{supported}. Wrap the env as a gymnasium env (or vector env) instead."
            )
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
    """Tag of the wrapper that fits the env ("torch", "gymnasium" or "gym"), from its class hierarchy."""
    if is_batched_vector_env(env):  # a gymnasium VectorEnv too, so checked first
        return "torch"
    if isinstance(env, (GymnasiumEnv, GymnasiumVectorEnv)):
        return "gymnasium"
    if any(klass.__module__.split(".")[0] == "gym" for klass in type(env).__mro__):
        return "gym"
    raise ValueError(
        f"wrap_env cannot tell which wrapper fits {type(env).__name__} (classes: {_class_names(env)}); "
        "it recognises gymnasium and gym envs and rlblocks' batched torch envs. Pass "
        'wrapper="gymnasium", wrapper="gym" or wrapper="torch" (a vector env returning torch tensors) '
        "if the env follows one of those APIs."
    )


def _class_names(env: Any) -> str:
    """The class name and its bases, for log and error messages."""
    bases = ", ".join(f"{base.__module__}.{base.__qualname__}" for base in type(env).__bases__)
    return f"{type(env).__qualname__} (bases: {bases})"
