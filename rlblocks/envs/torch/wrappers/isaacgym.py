"""Isaac Gym wrappers: preview 2 (`rlgpu`'s `VecTaskPython`) and preview 3/4 (`isaacgymenvs`' `VecTask`).

Contracts (tested against torch fakes of them, not the real simulator; see `isaac_base`):

- Preview 2 (Isaac Gym 1.0rc2, `rlgpu.tasks.base.vec_task.VecTaskPython`): `reset() -> obs`;
  `step(actions) -> (obs, rew, reset_buf, extras)`, every tensor batched on `rl_device`,
  `reset_buf` a 0/1 long tensor (N,). The task resets the envs flagged in `reset_buf` at the start
  of the next step, so the observation returned with `reset_buf = 1` is the final one.
- Preview 3/4 (Isaac Gym 1.0rc3/rc4 with IsaacGymEnvs, `isaacgymenvs.tasks.base.vec_task.VecTask`):
  `reset() -> obs_dict`; `step(actions) -> (obs_dict, rew, reset_buf, extras)` with
  `obs_dict["obs"]` (N, num_obs), optionally `obs_dict["states"]` (N, num_states, returned by
  `state()`), and `extras["time_outs"]` (N,) flagging the envs reset by the episode-length limit.
  The observation returned with `reset_buf = 1` is the final one, as in preview 2.

Envs with `extras["time_outs"]` report those envs as truncated (not terminated).

Differs from skrl 0.10: skrl never reports truncation (`truncated = zeros_like(reset_buf)`), so
its agents treat time-outs as terminal states.
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.envs.torch.wrappers.isaac_base import IsaacWrapper, split_time_outs


class IsaacGymPreview2Wrapper(IsaacWrapper):
    """Wraps an Isaac Gym preview 2 task (`VecTaskPython`, observations returned as a tensor)."""

    def _reset_env(self) -> torch.Tensor:
        return self._env.reset()

    def _step_env(self, actions: torch.Tensor) -> tuple[Any, Any, Any, Any, Any]:
        observations, rewards, dones, extras = self._env.step(actions)
        return (observations, rewards, *split_time_outs(dones, _time_outs(extras)), extras)


class IsaacGymPreview3Wrapper(IsaacWrapper):
    """Wraps an Isaac Gym preview 3 or 4 task (`VecTask`, observations in `obs_dict["obs"]`)."""

    def _reset_env(self) -> torch.Tensor:
        return self._observations(self._env.reset())

    def _step_env(self, actions: torch.Tensor) -> tuple[Any, Any, Any, Any, Any]:
        observation_dict, rewards, dones, extras = self._env.step(actions)
        return (
            self._observations(observation_dict),
            rewards,
            *split_time_outs(dones, _time_outs(extras)),
            extras,
        )

    def _observations(self, observation_dict: dict[str, torch.Tensor]) -> torch.Tensor:
        """`obs_dict["obs"]`, keeping `obs_dict["states"]` (if any) for `state()`."""
        self._critic_states = observation_dict.get("states")
        return observation_dict["obs"]


IsaacGymPreview4Wrapper = IsaacGymPreview3Wrapper
"""Preview 4 keeps preview 3's `VecTask` contract."""


def _time_outs(extras: Any) -> torch.Tensor | None:
    return extras.get("time_outs") if isinstance(extras, dict) else None


def is_isaacgym_preview2_env(env: Any) -> bool:
    """Whether `env` is a preview 2 task (a class of `rlgpu`, Isaac Gym 1.0rc2's examples)."""
    return _has_class_from(env, "rlgpu")


def is_isaacgym_preview3_env(env: Any) -> bool:
    """Whether `env` is a preview 3/4 task (a class of `isaacgymenvs`)."""
    return _has_class_from(env, "isaacgymenvs")


def _has_class_from(env: Any, package: str) -> bool:
    return any(klass.__module__.split(".")[0] == package for klass in type(env).__mro__)
