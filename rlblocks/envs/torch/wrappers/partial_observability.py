"""Partial observability: CartPole and Pendulum with the velocity components removed from the observation.

Without velocities a single observation does not tell which way the system moves, so a policy
has to remember past observations (a recurrent policy) or fail: the standard test of memory.

- `VelocityRemoved`: a gymnasium ``ObservationWrapper`` of one env (gymnasium's ``CartPole-v1``,
  ``Pendulum-v1``, or any env whose velocity columns `VELOCITY_COLUMNS` names).
- `BatchedVelocityRemoved`: the same for the torch-native batched envs
  (`rlblocks.envs.torch.batched.CartPole`/`Pendulum`); it also cuts ``infos["final_obs"]``, and
  `rlblocks.envs.torch.wrap_env` wraps it like the env inside, without copies.

Kept columns: CartPole (x, x_dot, theta, theta_dot) -> (x, theta); Pendulum (cos θ, sin θ, θ_dot)
-> (cos θ, sin θ).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium.vector.utils import batch_space

VELOCITY_COLUMNS: dict[str, tuple[int, ...]] = {"CartPole": (1, 3), "Pendulum": (2,)}
"""The velocity columns of each task, by the env's class name (or its gymnasium id's prefix)."""


def _task_name(env: Any) -> str:
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return spec.id.split("-")[0]
    return type(getattr(env, "unwrapped", env)).__name__.removesuffix("Env")


def kept_columns(env: Any, velocity_columns: Sequence[int] | None = None) -> list[int]:
    """The observation columns that remain once ``velocity_columns`` (default: the task's) are removed.

    Raises:
        ValueError: a task `VELOCITY_COLUMNS` does not know and no ``velocity_columns`` given.
    """
    if velocity_columns is None:
        task = _task_name(env)
        if task not in VELOCITY_COLUMNS:
            raise ValueError(
                f"no known velocity columns for {task!r} (known: {', '.join(VELOCITY_COLUMNS)}); "
                "pass velocity_columns=[...]"
            )
        velocity_columns = VELOCITY_COLUMNS[task]
    space = getattr(env, "single_observation_space", None) or env.observation_space
    removed = set(int(column) for column in velocity_columns)
    return [column for column in range(space.shape[0]) if column not in removed]


def _kept_box(space: gymnasium.spaces.Box, columns: list[int]) -> gymnasium.spaces.Box:
    return gymnasium.spaces.Box(space.low[columns], space.high[columns], dtype=space.dtype)


class VelocityRemoved(gymnasium.ObservationWrapper):
    """One env's observation without its velocity columns.

    Args:
        env: a gymnasium env with a 1-D Box observation (CartPole-v1, Pendulum-v1, ...).
        velocity_columns: the columns to remove (default: `VELOCITY_COLUMNS` of the task).

    Raises:
        ValueError: an unknown task and no ``velocity_columns``.
    """

    def __init__(self, env: gymnasium.Env, velocity_columns: Sequence[int] | None = None) -> None:
        super().__init__(env)
        self.columns = kept_columns(env, velocity_columns)
        self.observation_space = _kept_box(env.observation_space, self.columns)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """The kept columns of ``observation``."""
        return observation[self.columns]


class BatchedVelocityRemoved(gymnasium.vector.VectorWrapper):
    """A batched torch env's observations (and ``infos["final_obs"]``) without the velocity columns.

    Args:
        env: an `rlblocks.envs.torch.batched.BatchedVectorEnv` (CartPole, Pendulum).
        velocity_columns: the columns to remove (default: `VELOCITY_COLUMNS` of the task).
    """

    def __init__(self, env: Any, velocity_columns: Sequence[int] | None = None) -> None:
        super().__init__(env)
        self.columns = kept_columns(env, velocity_columns)
        self._index = torch.as_tensor(self.columns, device=getattr(env, "device", None))
        self.single_observation_space = _kept_box(env.single_observation_space, self.columns)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    @property
    def device(self) -> torch.device:
        """The device of the env inside."""
        return self.env.device

    def reset(self, *, seed: Any = None, options: Any = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """The env's reset, observations cut."""
        observations, infos = self.env.reset(seed=seed, options=options)
        return observations.index_select(1, self._index), infos

    def step(
        self, actions: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """The env's step, observations and ``infos["final_obs"]`` cut."""
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        if "final_obs" in infos:
            infos = {**infos, "final_obs": infos["final_obs"].index_select(1, self._index)}
        return observations.index_select(1, self._index), rewards, terminated, truncated, infos
