"""`RobosuiteWrapper`: a robosuite environment (`robosuite.make(...)`) as a torch env of one.

robosuite is optional and never imported here (the env's module has imported it).

- Spaces: the observation space is a Dict of unbounded Boxes with the shapes of the env's
  `observation_spec()` (an OrderedDict of arrays); the action space is the Box of `action_spec`
  (low, high). Observations are flattened in the sorted-key order of every rlblocks Dict space
  (`keys` restricts them, e.g. to robosuite's own `["robot0_proprio-state", "object-state"]`,
  which concatenate the other entries).
- Steps: robosuite returns (obs, reward, done, info), and `done` only means that the episode
  reached the env's `horizon` (robosuite never ends an episode on success or failure), so it is
  reported as a truncation: `terminated` is always False and an agent bootstraps at the horizon.
- Controllers (robosuite 1.5 vs skrl 0.10's 1.4 example): 1.5 builds *composite* controllers,
  `robosuite.load_composite_controller_config(controller="BASIC", robot="Panda")`, passed as
  `robosuite.make("Lift", robots="Panda", controller_configs=config, ...)`; 1.4's
  `robosuite.load_controller_config(default_controller="OSC_POSE")` no longer exists.

Differs from skrl 0.10: skrl reports robosuite's `done` as a termination (no bootstrapping at the
horizon).
"""

from __future__ import annotations

from collections.abc import Sequence
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


def is_robosuite_env(env: Any) -> bool:
    """Whether `env` is a robosuite environment (read from its class hierarchy)."""
    return any(klass.__module__.split(".")[0] == "robosuite" for klass in type(env).__mro__)


class RobosuiteWrapper(ConvertedSpacesWrapper):
    """Wraps a robosuite environment; see the module docstring.

    Args:
        env: the environment, e.g. `robosuite.make("Lift", robots="Panda", ...)`.
        device: where the tensors are put (default: cpu).
        keys: the observation entries to keep (default: all of `observation_spec()`).

    Raises:
        ValueError: a key that the env does not observe.
    """

    def __init__(
        self, env: Any, device: str | torch.device | None = None, keys: Sequence[str] | None = None
    ) -> None:
        observations = env.observation_spec()
        keys = list(observations) if keys is None else list(keys)
        unknown = [key for key in keys if key not in observations]
        if unknown:
            raise ValueError(
                f"RobosuiteWrapper keys {unknown} are not observed by {type(env).__name__}; its "
                f"observations are {list(observations)}."
            )
        self.keys = keys
        boxes = {
            key: gymnasium.spaces.Box(-np.inf, np.inf, shape=np.shape(observations[key]), dtype=np.float32)
            for key in keys
        }
        low, high = env.action_spec
        action_space = gymnasium.spaces.Box(np.asarray(low, np.float32), np.asarray(high, np.float32))
        super().__init__(env, device, gymnasium.spaces.Dict(boxes), action_space)

    def reset(self) -> tuple[torch.Tensor, Any]:
        """Start an episode: the first observation (1, flat_size) and empty infos."""
        return self._states(self._env.reset()), {}

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, Any]:
        """Apply a (1, A) action.

        Returns:
            (next_states (1, flat_size), rewards float32 (1, 1), terminated bool (1, 1) (always
            False), truncated bool (1, 1) (the horizon was reached), the env's info).
        """
        action = first_action(self.action_space, tensor_to_actions(self.action_space, actions, 1))
        observation, reward, done, info = self._env.step(action)
        self.any_episode_ended = bool(done)
        return (self._states(observation), *step_tensors(reward, False, bool(done), 1, self.device), info)

    def _states(self, observation: Any) -> torch.Tensor:
        kept = {key: observation[key] for key in self.keys}
        return observation_to_tensor(self.observation_space, kept, self.device)
