"""`BatchedVectorEnv`: many copies of one environment stepped as torch tensors on one device.

A subclass writes the physics of the whole batch at once (`_initial_states`, `_dynamics`,
`_observe`); this class keeps the state, the episode step counters and the random generator, and
follows gymnasium's `VectorEnv` API with torch tensors in and out:

- `reset(seed=None, options=None) -> (observations (N, obs) float32, {})`;
- `step(actions) -> (observations, rewards float32 (N,), terminated bool (N,), truncated bool (N,),
  infos)`.

Autoreset is gymnasium's SAME_STEP mode: the step that ends an episode (terminated, or truncated
after `max_episode_steps` steps) resets that env at once and returns its *reset* observation;
`infos["final_obs"]` holds the observation each env reached by its action **for every row** (for
the envs that did not end it equals the returned one), and `infos["_final_obs"]` (N,) bool marks the
envs that ended. Ended envs start again from fresh random states and their step counters restart
at 0. Both keys are in the infos of every step, so nobody has to ask the device whether anything
ended; there is no `"final_info"` (the envs have no per-env infos).

The hot path makes no host-device synchronisation: fresh initial states are drawn for every env at
every step from the env's `torch.Generator` and chosen with `torch.where` where an episode ended.
So the random stream depends only on the seed and the number of resets and steps, not on which
episodes ended. Every tensor returned is new: the env never writes into a tensor it handed out.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium
import torch
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from rlblocks.utils.suggest import did_you_mean

RESET_OPTIONS = ("state", "reset_mask")
"""The keys `BatchedVectorEnv.reset` accepts in `options`."""


class BatchedVectorEnv(gymnasium.vector.VectorEnv):
    """Base class of the torch-native vector envs (`CartPole`, `Pendulum`).

    Subclasses set `state_size` and implement `_initial_states`, `_dynamics` and `_observe`.

    Args:
        num_envs: number of environments N.
        single_observation_space: the observation space of one env (a float32 Box).
        single_action_space: the action space of one env.
        max_episode_steps: steps after which an episode is truncated; None never truncates.
        device: where the state lives and every tensor is returned.
        dtype: the dtype of the internal state and the physics; observations and rewards are
            float32 whatever it is.
        seed: seed of the env's `torch.Generator`; None seeds it from the operating system.

    Raises:
        ValueError: `num_envs` or `max_episode_steps` is not a positive int.
    """

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}
    state_size: ClassVar[int]
    """Columns of the internal state (N, state_size)."""

    def __init__(
        self,
        num_envs: int,
        single_observation_space: gymnasium.spaces.Box,
        single_action_space: gymnasium.Space,
        max_episode_steps: int | None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
        seed: int | None = None,
    ) -> None:
        _check_positive_int("num_envs", num_envs)
        if max_episode_steps is not None:
            _check_positive_int("max_episode_steps", max_episode_steps)
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.device = torch.device(device)
        self.dtype = dtype
        self.render_mode = None
        self.single_observation_space = single_observation_space
        self.single_action_space = single_action_space
        self.observation_space = batch_space(single_observation_space, num_envs)
        self.action_space = batch_space(single_action_space, num_envs)
        self._action_shape = (num_envs, *single_action_space.shape)
        self._generator = torch.Generator(device=self.device)
        if seed is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(seed)
        self._states: torch.Tensor | None = None
        self._elapsed_steps = torch.zeros(num_envs, dtype=torch.int64, device=self.device)

    # ------------------------------------------------------------------ subclass hooks
    def _initial_states(self, count: int) -> torch.Tensor:
        """(count, state_size) random initial states drawn from `self._generator`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _initial_states()")

    def _dynamics(
        self, states: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(next states (N, state_size), rewards float32 (N,), terminated bool (N,)) of one step.

        `actions` are (N, *single_action_space.shape), on the env's device.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _dynamics()")

    def _observe(self, states: torch.Tensor) -> torch.Tensor:
        """(N, obs) float32 observations of (N, state_size) states."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _observe()")

    # ------------------------------------------------------------------ VectorEnv API
    @property
    def state(self) -> torch.Tensor:
        """The internal state (N, state_size) in `dtype` (the env's own tensor: read it, don't write it).

        Raises:
            RuntimeError: before the first `reset`.
        """
        return self._require_states("state")

    @property
    def elapsed_steps(self) -> torch.Tensor:
        """(N,) int64 steps made in each env's current episode."""
        return self._elapsed_steps

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Start new episodes; returns (observations (N, obs) float32, {}).

        Args:
            seed: reseeds the env's generator first (an int); None continues its stream.
            options: `"state"`: (N, state_size) states to start from instead of random ones (tests
                use it to start from gymnasium's states); `"reset_mask"`: (N,) bool, reset only
                these envs (the others keep their state and step counter). With both, the masked
                rows take the given states.

        Raises:
            TypeError: `seed` is not an int.
            KeyError: an unknown option.
            ValueError: an option of the wrong shape.
        """
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise TypeError(
                    f"{type(self).__name__}.reset(seed=...) takes one int for the env's torch.Generator, "
                    f"got {seed!r}; per-env seeds are not supported."
                )
            self._generator.manual_seed(seed)
        options = {} if options is None else options
        for key in options:
            if key not in RESET_OPTIONS:
                raise KeyError(
                    f'unknown {type(self).__name__}.reset option "{key}"{did_you_mean(key, RESET_OPTIONS)}; '
                    f"valid options: {', '.join(RESET_OPTIONS)}."
                )
        if "state" in options:
            states = self._states_option(options["state"])
        else:
            states = self._initial_states(self.num_envs)
        if "reset_mask" in options and self._states is not None:
            mask = self._mask_option(options["reset_mask"])
            self._states = torch.where(mask[:, None], states, self._states)
            self._elapsed_steps = self._elapsed_steps.masked_fill(mask, 0)
        else:
            self._states = states
            self._elapsed_steps = torch.zeros_like(self._elapsed_steps)
        return self._observe(self._states), {}

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Advance every env by one step, resetting those whose episode ends (see the module docstring).

        Args:
            actions: (N, *single_action_space.shape) on the env's device; one column more or less
                of size 1 is accepted, e.g. (N, 1) for a Discrete action space.

        Returns:
            (observations (N, obs) float32, rewards float32 (N,), terminated bool (N,),
            truncated bool (N,), {"final_obs": (N, obs) float32, "_final_obs": (N,) bool}).

        Raises:
            RuntimeError: before the first `reset`.
            ValueError: actions of the wrong shape or on another device.
        """
        states = self._require_states("step")
        next_states, rewards, terminated = self._dynamics(states, self._check_actions(actions))
        elapsed_steps = self._elapsed_steps + 1
        if self.max_episode_steps is None:
            truncated = torch.zeros_like(terminated)
        else:
            truncated = elapsed_steps >= self.max_episode_steps
        ended = terminated | truncated
        final_observations = self._observe(next_states)
        self._states = torch.where(ended[:, None], self._initial_states(self.num_envs), next_states)
        self._elapsed_steps = elapsed_steps.masked_fill(ended, 0)
        observations = self._observe(self._states)
        infos = {"final_obs": final_observations, "_final_obs": ended}
        return observations, rewards, terminated, truncated, infos

    def render(self) -> None:
        """Nothing: these envs have no render modes."""
        return None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_envs={self.num_envs}, device={self.device}, "
            f"dtype={self.dtype}, max_episode_steps={self.max_episode_steps})"
        )

    # ------------------------------------------------------------------ helpers
    def _uniform(self, count: int, low: torch.Tensor | float, high: torch.Tensor | float) -> torch.Tensor:
        """(count, state_size) samples of U(low, high) (per column bounds broadcast) from the generator."""
        unit = torch.rand(
            (count, self.state_size), generator=self._generator, device=self.device, dtype=self.dtype
        )
        return low + (high - low) * unit

    def _require_states(self, caller: str) -> torch.Tensor:
        if self._states is None:
            raise RuntimeError(f"{type(self).__name__}.{caller}: call reset() first.")
        return self._states

    def _check_actions(self, actions: Any) -> torch.Tensor:
        """`actions` as (N, *single_action_space.shape) on the env's device (a view when possible)."""
        actions = torch.as_tensor(actions)
        expected = self._action_shape
        size = self.num_envs * math.prod(expected[1:])
        if actions.ndim == 0 or actions.shape[0] != self.num_envs or actions.numel() != size:
            raise ValueError(
                f"{type(self).__name__} actions should be (num_envs, *action_shape) = {expected}, got "
                f"{tuple(actions.shape)}; pass one action per env (the first dimension is the env)."
            )
        if actions.device != self.device:
            raise ValueError(
                f"{type(self).__name__} runs on {self.device}, got actions on {actions.device}; "
                f"move them with actions.to({str(self.device)!r})."
            )
        return actions.reshape(expected)

    def _states_option(self, states: Any) -> torch.Tensor:
        states = torch.as_tensor(states, device=self.device).to(self.dtype)
        expected = (self.num_envs, self.state_size)
        if tuple(states.shape) != expected:
            raise ValueError(
                f'{type(self).__name__}.reset options["state"] should be (num_envs, state_size) = '
                f"{expected}, got {tuple(states.shape)}."
            )
        return states.clone()

    def _mask_option(self, mask: Any) -> torch.Tensor:
        mask = torch.as_tensor(mask, device=self.device)
        if tuple(mask.shape) != (self.num_envs,) or mask.dtype != torch.bool:
            raise ValueError(
                f'{type(self).__name__}.reset options["reset_mask"] should be a (num_envs,) = '
                f"({self.num_envs},) bool tensor, got {tuple(mask.shape)} {mask.dtype}."
            )
        return mask


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} should be a positive int, got {value!r}.")
