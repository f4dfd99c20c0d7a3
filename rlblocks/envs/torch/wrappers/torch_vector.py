"""`TorchVectorWrapper`: vector envs that already speak torch, wrapped without copying a tensor.

For envs that follow gymnasium's `VectorEnv` API but take and return torch tensors on their
device (rlblocks' `BatchedVectorEnv`s, GPU simulators) and reset ended envs in the same step
(gymnasium's SAME_STEP autoreset, with the true final observations in `infos["final_obs"]`).

The wrapper only reshapes: observations (N, *obs_shape) become (N, flat) views, rewards,
terminated and truncated (N,) become (N, 1) views, actions (N, A) become (N, *action_shape) views.
A tensor is converted (so copied) only if it is not already what the contract wants: float32
observations (int64 for a Discrete observation space) and rewards, bool flags, on the wrapper's
device.

Autoreset, as the `Wrapper` contract wants it: `step` returns in `next_states` the true final
observation of the envs whose episode just ended, taken from `infos["final_obs"]`, and keeps the
env's returned observations (the reset ones for those envs) for the next `reset()`. A
`BatchedVectorEnv` puts the observation every env reached in all rows of `"final_obs"`, so
`next_states` *is* that tensor; for other envs the rows marked by `infos["_final_obs"]` are taken
from it (one `torch.where`). Infos without `"final_obs"` mean that no episode ended (gymnasium's
convention).

Which envs are wrapped by `wrap_env(env)` ("auto"): those whose `unwrapped` is a
`BatchedVectorEnv`. Any other torch vector env is wrapped with `wrap_env(env, wrapper="torch")`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from gymnasium.vector import AutoresetMode

from rlblocks.envs.torch.batched.base import BatchedVectorEnv
from rlblocks.envs.torch.wrappers.base import Wrapper
from rlblocks.utils.spaces import flat_size, space_kind


def is_batched_vector_env(env: Any) -> bool:
    """Whether `env`, or the env inside its gymnasium wrappers, is an rlblocks `BatchedVectorEnv`."""
    return isinstance(getattr(env, "unwrapped", env), BatchedVectorEnv)


class TorchVectorWrapper(Wrapper):
    """Wraps a torch-returning vector env with SAME_STEP autoreset; see the module docstring.

    Args:
        env: the vector env (`num_envs`, `single_observation_space`, `single_action_space`).
        device: where the tensors are put (default: `env.device`, else cpu); another device
            than the env's makes every step copy.

    Attributes:
        any_episode_ended: whether any episode ended at the last step, when the host knows it
            without waiting for the device; always None ("unknown") here, as the flags live on
            the device.
        is_reset_free: True: after the first call, `reset()` only returns the kept observations,
            so a trainer calls it after every step instead of reading the flags on the host.

    Raises:
        ValueError: the env is not a vector env, or resets on the next step (NEXT_STEP) or never
            (DISABLED).
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        super().__init__(env, device)
        if not hasattr(env, "num_envs"):
            raise ValueError(
                f"TorchVectorWrapper wraps vector envs (with num_envs, single_observation_space and "
                f"single_action_space); {type(env).__name__} has no num_envs."
            )
        self.num_envs = int(env.num_envs)
        _check_same_step_autoreset(env)
        self.any_episode_ended: bool | None = None
        self.is_reset_free = True
        self._has_complete_final_obs = is_batched_vector_env(env)
        self._action_shape = (self.num_envs, *self.action_space.shape)
        self._action_width = flat_size(self.action_space)
        # rlblocks' state contract: a Discrete observation is an int64 index column, else float32
        is_discrete = space_kind(self.observation_space) == "discrete"
        self._state_dtype = torch.int64 if is_discrete else torch.float32
        self._to_act_on: tuple[torch.Tensor, Any] | None = None

    @property
    def observation_space(self) -> Any:
        """The observation space of one environment."""
        return _single_space(self._env, "observation")

    @property
    def action_space(self) -> Any:
        """The action space of one environment."""
        return _single_space(self._env, "action")

    def reset(self) -> tuple[torch.Tensor, Any]:
        """States to act on (num_envs, flat_size) and infos.

        The env is reset only on the first call; afterwards this returns the observations of the
        last step (the reset ones for envs that ended) and its infos.
        """
        if self._to_act_on is None:
            observations, infos = self._env.reset()
            self._to_act_on = (self._rows(observations, self._state_dtype), infos)
        return self._to_act_on

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply (num_envs, A) actions; next_states hold the true final observation of ended episodes.

        Returns:
            (next_states (N, flat_size) float32, rewards float32 (N, 1), terminated bool (N, 1),
            truncated bool (N, 1), the env's infos).

        Raises:
            ValueError: actions that are not one row of A values per env.
        """
        observations, rewards, terminated, truncated, infos = self._env.step(self._env_actions(actions))
        states = self._rows(observations, self._state_dtype)
        terminated = self._rows(terminated, torch.bool)
        truncated = self._rows(truncated, torch.bool)
        self._to_act_on = (states, infos)
        next_states = self._final_states(states, infos, terminated, truncated)
        return next_states, self._rows(rewards, torch.float32), terminated, truncated, infos

    def _env_actions(self, actions: torch.Tensor) -> torch.Tensor:
        """(N, A) actions as the env's (N, *action_shape), a view of the same memory."""
        if (
            actions.ndim == 0
            or actions.shape[0] != self.num_envs
            or actions.numel() != math.prod(self._action_shape)
        ):
            raise ValueError(
                f"actions for {self.action_space} should be (num_envs, {self._action_width}) = "
                f"({self.num_envs}, {self._action_width}), got {tuple(actions.shape)}; pass one row "
                f"of {self._action_width} value(s) per environment."
            )
        return actions.reshape(self._action_shape)

    def _final_states(
        self, states: torch.Tensor, infos: Any, terminated: torch.Tensor, truncated: torch.Tensor
    ) -> torch.Tensor:
        """The observations each env reached by its action (final ones for ended episodes).

        The rows to take from `infos["final_obs"]` are `infos["_final_obs"]`, or without that mask
        the envs that terminated or were truncated.
        """
        final_observations = infos.get("final_obs") if isinstance(infos, dict) else None
        if final_observations is None:
            return states
        final_states = self._rows(final_observations, self._state_dtype)
        if self._has_complete_final_obs:
            return final_states
        mask = infos.get("_final_obs")
        ended = terminated | truncated if mask is None else self._rows(mask, torch.bool)
        return torch.where(ended, final_states, states)

    def _rows(self, tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """`tensor` as (N, -1) of `dtype` on the wrapper's device: itself or a view when it can be."""
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(
                f"{type(self._env).__name__} returned a {type(tensor).__name__}; TorchVectorWrapper "
                'expects torch tensors. Use wrap_env(env, wrapper="gymnasium") for numpy envs.'
            )
        if tensor.dtype != dtype or tensor.device != self.device:
            tensor = tensor.to(self.device, dtype)
        if tensor.ndim == 2 and tensor.shape[0] == self.num_envs:
            return tensor
        return tensor.reshape(self.num_envs, -1)


def _single_space(env: Any, kind: str) -> Any:
    """The env's `single_<kind>_space`, else its `<kind>_space`."""
    space = getattr(env, f"single_{kind}_space", None)
    return getattr(env, f"{kind}_space") if space is None else space


def _check_same_step_autoreset(env: Any) -> None:
    """Fail early for an env that does not reset ended envs in the step that ends them.

    An env without `metadata["autoreset_mode"]` is taken to be SAME_STEP, as torch simulators
    (Isaac Lab, ManiSkill) reset in the same step and do not say so.

    Raises:
        ValueError: the mode is NEXT_STEP or DISABLED.
    """
    metadata = getattr(env, "metadata", None) or {}
    mode = metadata.get("autoreset_mode", AutoresetMode.SAME_STEP)
    if mode in (AutoresetMode.SAME_STEP, AutoresetMode.SAME_STEP.value):
        return
    raise ValueError(
        f'{type(env).__name__}.metadata["autoreset_mode"] is {mode!r}; TorchVectorWrapper needs '
        "envs that reset in the step that ends an episode (AutoresetMode.SAME_STEP) and put the "
        'final observations in infos["final_obs"]. For a numpy gymnasium vector env use '
        'wrap_env(env, wrapper="gymnasium").'
    )
