"""`GymnasiumWrapper`: gymnasium single envs and vector envs (Sync, Async, `make_vec`) as torch.

A single env is reset by `reset()` and stepped with the first row of the actions.

A vector env follows the autoreset contract of `Wrapper` in each of gymnasium's autoreset modes:

- NEXT_STEP (gymnasium's default) and DISABLED: the step that ends an episode returns its true
  final observation; the wrapper then resets just those envs with
  `env.reset(options={"reset_mask": done})`, so the env never makes its "reset step" (which would
  ignore the action and report reward 0, a transition that never happened).
- SAME_STEP: the env has reset already; the final observations come from `infos["final_obs"]`.

`reset()` really resets a vector env only the first time; afterwards it returns the observations to
act on, kept by the last `step` (or the first reset, if no step was made since). Infos are the
vector env's own dict of arrays (with gymnasium's `"_key"` masks): `step` returns the step's infos,
`reset()` those of the latest (partial) reset; in SAME_STEP mode both are the step's infos, which
hold gymnasium's `"final_obs"` and `"final_info"`.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from rlblocks.envs.torch.wrappers.base import Wrapper
from rlblocks.envs.torch.wrappers.conversions import (
    first_action,
    observation_to_tensor,
    observations_to_tensor,
    step_tensors,
    tensor_to_actions,
    with_final_observations,
)


class GymnasiumWrapper(Wrapper):
    """Wraps a `gymnasium.Env` or a `gymnasium.vector.VectorEnv` (possibly inside wrappers).

    Args:
        env: the environment.
        device: where the tensors are put (default: `env.device` if any, else cpu).

    Raises:
        ValueError: a vector env whose autoreset cannot be handled without fake transitions
            (see `check_vector_autoreset`).
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        super().__init__(env, device)
        self.is_vector_env = isinstance(env, gymnasium.vector.VectorEnv)
        self.num_envs = int(env.num_envs) if self.is_vector_env else 1
        self.autoreset_mode = vector_autoreset_mode(env) if self.is_vector_env else None
        if self.is_vector_env:
            check_vector_autoreset(env, self.autoreset_mode)
        self._to_act_on: tuple[torch.Tensor, Any] | None = None  # a vector env's (states, infos)
        self.is_reset_free = self.is_vector_env

    @property
    def observation_space(self) -> gymnasium.Space:
        """The observation space of one environment."""
        return self._env.single_observation_space if self.is_vector_env else self._env.observation_space

    @property
    def action_space(self) -> gymnasium.Space:
        """The action space of one environment."""
        return self._env.single_action_space if self.is_vector_env else self._env.action_space

    def reset(self) -> tuple[torch.Tensor, Any]:
        """States to act on (num_envs, flat_size) and infos; see the module docstring."""
        if not self.is_vector_env:
            observation, info = self._env.reset()
            return observation_to_tensor(self.observation_space, observation, self.device), info
        if self._to_act_on is None:
            observations, infos = self._env.reset()
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
            observation, reward, terminated, truncated, info = self._env.step(
                first_action(self.action_space, batch)
            )
            next_states = observation_to_tensor(self.observation_space, observation, self.device)
            self.any_episode_ended = bool(terminated or truncated)
            return (next_states, *step_tensors(reward, terminated, truncated, 1, self.device), info)

        observations, rewards, terminated, truncated, infos = self._env.step(batch)
        done = np.logical_or(terminated, truncated).reshape(-1)
        self.any_episode_ended = bool(done.any())
        states = observations_to_tensor(self.observation_space, observations, self.device)
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            next_states = with_final_observations(
                self.observation_space, states, _final_observations(infos, done), self.device
            )
            self._to_act_on = (states, infos)
        else:
            next_states = states
            self._to_act_on = self._reset_ended(done, states, infos)
        return (next_states, *step_tensors(rewards, terminated, truncated, self.num_envs, self.device), infos)

    def _reset_ended(self, done: np.ndarray, states: torch.Tensor, infos: Any) -> tuple[torch.Tensor, Any]:
        """(states to act on, infos) after resetting the envs whose episode just ended."""
        if not done.any():
            return states, infos
        observations, reset_infos = self._env.reset(options={"reset_mask": done})
        reset_states = observations_to_tensor(self.observation_space, observations, self.device)
        is_reset = torch.as_tensor(done, device=self.device).reshape(-1, 1)
        return torch.where(is_reset, reset_states, states), reset_infos


def vector_autoreset_mode(env: Any) -> AutoresetMode:
    """The vector env's `metadata["autoreset_mode"]`; NEXT_STEP (gymnasium 1.0's only mode) if absent.

    Raises:
        ValueError: the metadata holds something that is not an autoreset mode.
    """
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if isinstance(mode, AutoresetMode):
        return mode
    try:
        return AutoresetMode(mode)
    except ValueError:
        valid = ", ".join(repr(member.value) for member in AutoresetMode)
        raise ValueError(
            f'{type(env).__name__}.metadata["autoreset_mode"] is {mode!r}; expected a '
            f"gymnasium.vector.AutoresetMode or one of {valid}."
        ) from None


def check_vector_autoreset(env: Any, mode: AutoresetMode) -> None:
    """Fail early when the wrapper could not reset ended envs without a fake transition.

    In NEXT_STEP mode the wrapper needs a partial reset (`options={"reset_mask": ...}`), which only
    gymnasium's SyncVectorEnv and AsyncVectorEnv provide; gymnasium's AsyncVectorEnv with
    `shared_memory=False` (gymnasium <= 1.4) then forgets to clear the worker's autoreset flag, so
    the next step would still ignore the action.

    Raises:
        ValueError: the vector env cannot be used as it is; the message says how to build one.
    """
    if mode != AutoresetMode.NEXT_STEP:
        return
    base = env.unwrapped
    if not isinstance(base, (SyncVectorEnv, AsyncVectorEnv)):
        raise ValueError(
            f"{type(base).__name__} autoresets on the step after an episode ends and cannot reset "
            "only the envs that ended, so their reset observation would come with a fake transition "
            "(action ignored, reward 0). Build the vector env with gymnasium.make_vec(id, num_envs, "
            'vectorization_mode="sync") (or "async"), SyncVectorEnv or AsyncVectorEnv, or use '
            "autoreset_mode=AutoresetMode.SAME_STEP."
        )
    if isinstance(base, AsyncVectorEnv) and not base.shared_memory:
        raise ValueError(
            "AsyncVectorEnv(shared_memory=False) with autoreset_mode NEXT_STEP does not clear its "
            "workers' autoreset flag on a partial reset (gymnasium <= 1.4), so the step after an "
            "episode ends would ignore the action. Use shared_memory=True (the default) or "
            "autoreset_mode=AutoresetMode.SAME_STEP."
        )


def _final_observations(infos: dict[str, Any], done: np.ndarray) -> dict[int, Any]:
    """{env index: final observation} of the envs that ended, from a SAME_STEP env's infos."""
    indices = np.flatnonzero(done)
    if len(indices) == 0:
        return {}
    if "final_obs" not in infos:
        raise ValueError(
            f"A SAME_STEP vector env ended episodes {indices.tolist()} without infos['final_obs'] "
            f"(info keys: {sorted(infos)}); gymnasium's SyncVectorEnv/AsyncVectorEnv provide it."
        )
    return {int(index): infos["final_obs"][index] for index in indices}
