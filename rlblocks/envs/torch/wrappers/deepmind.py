"""`DeepMindWrapper`: a `dm_env.Environment` (the dm_control suite, ...) as a torch env of one.

`dm_env` is optional and never imported here: the env's own module has imported it, and its specs
are read by their class names.

- Specs become gymnasium spaces (`spec_to_space`): `DiscreteArray` -> Discrete, `BoundedArray` ->
  Box(minimum, maximum), `Array` -> unbounded Box, a mapping of specs (the suite's `OrderedDict`
  of observations) -> Dict. Observations are flattened as every rlblocks Dict is (sorted keys, see
  `conversions`), so `tensor_to_space(states, env.observation_space)` gives each entry back.
- `TimeStep` ends: `last()` with discount 0 is a termination (the task reached a terminal state);
  `last()` with a discount > 0 is a truncation (the suite's time limit: the episode could go on, so
  an agent bootstraps from the final state).
- `render(height=240, width=320, camera_id=0)` returns `physics.render(...)`, an (H, W, 3) uint8
  RGB array (MuJoCo needs an OpenGL backend: set `MUJOCO_GL=egl` or `osmesa` before importing
  dm_control on a machine without a display).

Differs from skrl 0.10: skrl reports `terminated = timestep.last()` and never truncates, so its
agents do not bootstrap at the suite's time limit; skrl renders into an OpenCV window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch

from rlblocks.envs.torch.wrappers.conversions import (
    first_action,
    observation_to_tensor,
    step_tensors,
    tensor_to_actions,
)
from rlblocks.envs.torch.wrappers.converted_spaces import ConvertedSpacesWrapper


def is_dm_env(env: Any) -> bool:
    """Whether `env` is a `dm_env.Environment` (read from its class hierarchy, dm_env not imported)."""
    return any(
        klass.__module__.split(".")[0] == "dm_env" and klass.__name__ == "Environment"
        for klass in type(env).__mro__
    )


def spec_to_space(spec: Any) -> gymnasium.Space:
    """The gymnasium space of a dm_env spec (Array, BoundedArray, DiscreteArray or a mapping of them).

    Raises:
        ValueError: a spec of another type.
    """
    if isinstance(spec, Mapping):
        return gymnasium.spaces.Dict({key: spec_to_space(sub) for key, sub in spec.items()})
    names = {klass.__name__ for klass in type(spec).__mro__}
    if "DiscreteArray" in names:
        return gymnasium.spaces.Discrete(int(spec.num_values))
    if "BoundedArray" in names:
        shape = tuple(spec.shape)
        low = np.broadcast_to(spec.minimum, shape).astype(np.float32)
        high = np.broadcast_to(spec.maximum, shape).astype(np.float32)
        return gymnasium.spaces.Box(low, high, shape=shape, dtype=np.float32)
    if "Array" in names:
        return gymnasium.spaces.Box(-np.inf, np.inf, shape=tuple(spec.shape), dtype=np.float32)
    raise ValueError(
        f"dm_env spec {spec!r} of type {type(spec).__name__} is not supported; supported: Array, "
        "BoundedArray, DiscreteArray and mappings (dict/OrderedDict) of them."
    )


def timestep_outcome(timestep: Any) -> tuple[float, bool, bool, float]:
    """(reward, terminated, truncated, discount) of a dm_env `TimeStep` (see the module docstring).

    A missing reward (the first step) counts as 0 and a missing discount as 1.
    """
    discount = 1.0 if timestep.discount is None else float(timestep.discount)
    last = bool(timestep.last())
    reward = 0.0 if timestep.reward is None else float(timestep.reward)
    return reward, last and discount == 0.0, last and discount > 0.0, discount


class DeepMindWrapper(ConvertedSpacesWrapper):
    """Wraps a `dm_env.Environment` (one environment); see the module docstring.

    Args:
        env: the environment, e.g. `dm_control.suite.load("cartpole", "balance")`.
        device: where the tensors are put (default: cpu).
    """

    def __init__(self, env: Any, device: str | torch.device | None = None) -> None:
        super().__init__(env, device, spec_to_space(env.observation_spec()), spec_to_space(env.action_spec()))
        self._action_spec = env.action_spec()

    def reset(self) -> tuple[torch.Tensor, Any]:
        """Start an episode: the first observation (1, flat_size) and empty infos."""
        timestep = self._env.reset()
        return observation_to_tensor(self.observation_space, timestep.observation, self.device), {}

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply a (1, A) action.

        Returns:
            (next_states (1, flat_size), rewards float32 (1, 1), terminated bool (1, 1) (last step,
            discount 0), truncated bool (1, 1) (last step, discount > 0), infos {"discount": d}).
        """
        action = first_action(self.action_space, tensor_to_actions(self.action_space, actions, 1))
        timestep = self._env.step(self._env_action(action))
        reward, terminated, truncated, discount = timestep_outcome(timestep)
        self.any_episode_ended = terminated or truncated
        next_states = observation_to_tensor(self.observation_space, timestep.observation, self.device)
        return (
            next_states,
            *step_tensors(reward, terminated, truncated, 1, self.device),
            {"discount": discount},
        )

    def _env_action(self, action: Any) -> Any:
        """The action as the action spec wants it (its dtype and shape)."""
        if isinstance(self.action_space, gymnasium.spaces.Discrete):
            return np.asarray(action, dtype=self._action_spec.dtype)
        return np.asarray(action, dtype=self._action_spec.dtype).reshape(self._action_spec.shape)

    def render(self, height: int = 240, width: int = 320, camera_id: int = 0, **kwargs: Any) -> np.ndarray:
        """An (height, width, 3) uint8 RGB image from `physics.render` (dm_control envs).

        Raises:
            AttributeError: the env has no `physics` (not a dm_control env).
        """
        physics = getattr(self._env, "physics", None)
        if physics is None:
            raise AttributeError(
                f"{type(self._env).__name__} has no physics to render; DeepMindWrapper.render needs a "
                "dm_control environment (dm_control.suite.load(...))."
            )
        return physics.render(height=height, width=width, camera_id=camera_id, **kwargs)
