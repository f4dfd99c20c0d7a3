"""Atari through gymnasium and ale-py, with the standard preprocessing of gymnasium's own wrappers.

Each env of the vector env is ``gymnasium.make(env_id, frameskip=1)`` wrapped in
``AtariPreprocessing`` (up to 30 no-op starts, 4 frames skipped with the max of the last two,
grayscale, resized to 84x84, uint8) and ``FrameStackObservation`` (the last 4 frames), so the agents
see (N, 4, 84, 84) uint8 observations, kept as uint8 in memory (see `rlblocks.utils.images`).
ALE v5 envs keep their default sticky actions (``repeat_action_probability=0.25``, Machado et al.
2018); pass ``repeat_action_probability=0.0`` for the NoFrameskip-v4 behaviour. Episodes end at
the game's end (``terminal_on_life_loss=False``) and rewards are not clipped (Pong's are ±1).

ale-py ships the ROMs; gymnasium 1.x registers its ``ALE/...`` ids once ale_py is imported
(``gymnasium.register_envs(ale_py)``), which `register_atari_envs` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium
import torch

ATARI_EXTRA = "pip install 'rlblocks[atari]' (ale-py and opencv-python)"
FRAME_STACK = 4
SCREEN_SIZE = 84
NOOP_MAX = 30


def register_atari_envs() -> bool:
    """Import ale_py and register its environments with gymnasium; False if ale-py is not installed."""
    try:
        import ale_py
    except ImportError:
        return False
    gymnasium.register_envs(ale_py)
    return True


def is_atari_env(env_id: str) -> bool:
    """Whether ``env_id`` is an ALE environment (registering ale-py's envs first if it is installed)."""
    if env_id not in gymnasium.envs.registry:
        register_atari_envs()
    spec = gymnasium.envs.registry.get(env_id)
    if spec is None:
        return env_id.startswith("ALE/")
    entry_point = (
        spec.entry_point if isinstance(spec.entry_point, str) else getattr(spec.entry_point, "__module__", "")
    )
    return str(entry_point).startswith("ale_py")


def atari_wrappers(
    frame_stack: int = FRAME_STACK,
    screen_size: int = SCREEN_SIZE,
    noop_max: int = NOOP_MAX,
    terminal_on_life_loss: bool = False,
) -> list[Callable[[gymnasium.Env], gymnasium.Env]]:
    """The standard preprocessing as ``gymnasium.make_vec(..., wrappers=...)`` takes it.

    Raises:
        ImportError: opencv-python (AtariPreprocessing's resize) is missing; the message says how to
            install it.
    """
    try:
        import cv2  # noqa: F401  (AtariPreprocessing resizes with it)
    except ImportError:
        raise ImportError(f"Atari preprocessing needs opencv-python: {ATARI_EXTRA}") from None

    def preprocess(env: gymnasium.Env) -> gymnasium.Env:
        return gymnasium.wrappers.AtariPreprocessing(
            env,
            noop_max=noop_max,
            frame_skip=4,
            screen_size=screen_size,
            terminal_on_life_loss=terminal_on_life_loss,
            grayscale_obs=True,
            scale_obs=False,
        )

    def stack(env: gymnasium.Env) -> gymnasium.Env:
        return gymnasium.wrappers.FrameStackObservation(env, frame_stack)

    return [preprocess, stack]


def make_atari_vector_env(
    env_id: str,
    num_envs: int = 1,
    vectorization_mode: str = "sync",
    wrappers: Sequence[Callable[[gymnasium.Env], gymnasium.Env]] | None = None,
    **kwargs: Any,
) -> gymnasium.vector.VectorEnv:
    """A gymnasium vector env of ``env_id`` with the standard Atari preprocessing (module docstring).

    Args:
        env_id: an ALE id, e.g. "ALE/Pong-v5" (or "PongNoFrameskip-v4").
        num_envs: environments in the vector env.
        vectorization_mode: "sync" or "async".
        wrappers: the per-env wrappers; default `atari_wrappers()`.
        kwargs: keyword arguments of ``gymnasium.make`` (``frameskip`` defaults to 1:
            AtariPreprocessing skips frames itself).

    Raises:
        ImportError: ale-py or opencv-python is not installed (the message says how to install them).
        gymnasium.error.Error: an id gymnasium does not know.
    """
    if not register_atari_envs():
        raise ImportError(f"Atari environments need ale-py: {ATARI_EXTRA}")
    kwargs.setdefault("frameskip", 1)
    return gymnasium.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode=vectorization_mode,
        wrappers=atari_wrappers() if wrappers is None else list(wrappers),
        **kwargs,
    )


def make_atari_env(
    env_id: str,
    num_envs: int = 1,
    seed: int | None = None,
    device: str | torch.device | None = None,
    vectorization_mode: str = "sync",
    **kwargs: Any,
) -> Any:
    """An rlblocks `Wrapper` around `make_atari_vector_env`: (N, 4, 84, 84) uint8 observations.

    Args:
        env_id: an ALE id, e.g. "ALE/Pong-v5".
        num_envs: environments stepped together.
        seed: seeds the first reset (env i gets seed + i) and the action space, if given.
        device: where the wrapper puts its tensors.
        vectorization_mode: "sync" or "async".
        kwargs: keyword arguments of ``gymnasium.make`` (e.g. ``repeat_action_probability=0.0``).

    Raises:
        ImportError: ale-py or opencv-python is not installed.
    """
    from rlblocks.envs.torch.wrappers import wrap_env

    env = make_atari_vector_env(env_id, num_envs, vectorization_mode, **kwargs)
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return wrap_env(env, wrapper="gymnasium", verbose=False, device=device)
