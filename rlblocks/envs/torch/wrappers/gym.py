"""`GymWrapper`: envs of the legacy OpenAI `gym` package (single and vector) as torch.

`gym` is optional and never imported here: the env's own module has imported it already, and the
API generation is read from what the env returns.

- Step: gym >= 0.26 returns (obs, reward, terminated, truncated, info); older versions return
  (obs, reward, done, info), where a time-limit end is flagged by `info["TimeLimit.truncated"]`,
  so `truncated = done and that flag`, `terminated = done and not truncated`.
- Reset: (obs, info) with gym >= 0.26, obs alone before.
- Vector envs reset an ended env within the same step and hand its final observation over in
  `infos["final_observation"]` (gym 0.24 to 0.26, dict infos) or `infos[i]["terminal_observation"]`
  (older, one dict per env). `step` returns it as `next_states`; as with gymnasium, `reset()` really
  resets a vector env only the first time and then returns the observations to act on.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from rlblocks.envs.torch.wrappers.base import Wrapper
from rlblocks.envs.torch.wrappers.conversions import (
    first_action,
    observation_to_tensor,
    observations_to_tensor,
    step_tensors,
    tensor_to_actions,
    with_final_observations,
)


class GymWrapper(Wrapper):
    """Wraps a `gym.Env` or a gym vector env (`gym.vector.SyncVectorEnv`/`AsyncVectorEnv`).

    Args:
        env: the environment.
        device: where the tensors are put (default: `env.device` if any, else cpu).
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        super().__init__(env, device)
        self.is_vector_env = hasattr(env, "single_observation_space") and hasattr(env, "num_envs")
        self.num_envs = int(env.num_envs) if self.is_vector_env else 1
        self._reset_returns_info = _gym_version() >= (0, 26) if _gym_version() else None
        self._to_act_on: tuple[torch.Tensor, Any] | None = None

    @property
    def observation_space(self) -> Any:
        """The observation space of one environment."""
        return self._env.single_observation_space if self.is_vector_env else self._env.observation_space

    @property
    def action_space(self) -> Any:
        """The action space of one environment."""
        return self._env.single_action_space if self.is_vector_env else self._env.action_space

    def reset(self) -> tuple[torch.Tensor, Any]:
        """States to act on (num_envs, flat_size) and infos (see the module docstring)."""
        if self.is_vector_env and self._to_act_on is not None:
            return self._to_act_on
        observations, infos = self._split_reset(self._env.reset())
        if not self.is_vector_env:
            return observation_to_tensor(self.observation_space, observations, self.device), infos
        states = observations_to_tensor(self.observation_space, observations, self.device)
        self._to_act_on = (states, infos)
        return self._to_act_on

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply (num_envs, A) actions; next_states hold the true final observation of ended episodes.

        Returns:
            (next_states (N, flat_size), rewards float32 (N, 1), terminated bool (N, 1),
            truncated bool (N, 1), infos).
        """
        batch = tensor_to_actions(self.action_space, actions, self.num_envs)
        if not self.is_vector_env:
            result = self._env.step(first_action(self.action_space, batch))
            observation, reward, terminated, truncated, info = _five_tuple(result, self.num_envs)
            next_states = observation_to_tensor(self.observation_space, observation, self.device)
            self.any_episode_ended = bool(np.any(terminated) or np.any(truncated))
            return (next_states, *step_tensors(reward, terminated, truncated, 1, self.device), info)

        result = self._env.step(batch)
        observations, rewards, terminated, truncated, infos = _five_tuple(result, self.num_envs)
        states = observations_to_tensor(self.observation_space, observations, self.device)
        done = np.logical_or(terminated, truncated).reshape(-1)
        self.any_episode_ended = bool(done.any())
        final_observations = _final_observations(infos, done)
        next_states = with_final_observations(self.observation_space, states, final_observations, self.device)
        self._to_act_on = (states, infos)
        return (next_states, *step_tensors(rewards, terminated, truncated, self.num_envs, self.device), infos)

    def _split_reset(self, result: Any) -> tuple[Any, Any]:
        returns_info = self._reset_returns_info
        if returns_info is None:  # gym's version unknown: recognise (obs, info) by its shape
            returns_info = isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)
        return result if returns_info else (result, {})


def _gym_version() -> tuple[int, ...] | None:
    """(major, minor) of the imported gym package, or None if gym is not imported."""
    gym = sys.modules.get("gym")
    version = getattr(gym, "__version__", None)
    if version is None:
        return None
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(character for character in part if character.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)


def _five_tuple(result: tuple, num_envs: int) -> tuple[Any, Any, Any, Any, Any]:
    """(obs, reward, terminated, truncated, info) from a 5-tuple or an old-API 4-tuple step."""
    if len(result) == 5:
        return result
    observations, rewards, dones, infos = result
    dones = np.asarray(dones, dtype=np.bool_)
    if isinstance(infos, dict):
        flags = infos.get("TimeLimit.truncated", False)
        if num_envs > 1 or np.ndim(flags) > 0:
            flags = np.asarray(flags, dtype=np.bool_) & np.asarray(infos.get("_TimeLimit.truncated", True))
    else:  # old vector envs: one info dict per env
        flags = [info.get("TimeLimit.truncated", False) for info in infos]
    truncated = dones & np.asarray(flags, dtype=np.bool_)
    return observations, rewards, dones & ~truncated, truncated, infos


def _final_observations(infos: Any, done: np.ndarray) -> dict[int, Any]:
    """{env index: final observation} of the ended envs, from gym's vector infos."""
    indices = np.flatnonzero(done)
    if isinstance(infos, dict):
        if len(indices) and "final_observation" not in infos:
            raise ValueError(
                f"A gym vector env ended episodes {indices.tolist()} without infos['final_observation'] "
                f"(info keys: {sorted(infos)}); use gym's SyncVectorEnv/AsyncVectorEnv."
            )
        return {int(index): infos["final_observation"][index] for index in indices}
    return {int(index): infos[index]["terminal_observation"] for index in indices}
