"""`ConvertedSpacesWrapper`: the base of wrappers of one env whose spaces are built from the env's specs."""

from __future__ import annotations

from typing import Any

import gymnasium
import torch

from rlblocks.envs.torch.wrappers.base import Wrapper


class ConvertedSpacesWrapper(Wrapper):
    """A wrapper of one environment with gymnasium spaces converted from the env's own specs.

    Args:
        env: the environment.
        device: where the tensors are put (default: cpu).
        observation_space: the space of one observation.
        action_space: the space of one action.
    """

    def __init__(
        self,
        env: Any,
        device: str | torch.device | None,
        observation_space: gymnasium.Space,
        action_space: gymnasium.Space,
    ) -> None:
        super().__init__(env, device)
        self.num_envs = 1
        self._converted = (observation_space, action_space)

    @property
    def observation_space(self) -> gymnasium.Space:
        """The space converted from the env's observation spec."""
        return self._converted[0]

    @property
    def action_space(self) -> gymnasium.Space:
        """The space converted from the env's action spec."""
        return self._converted[1]
