"""`DeterministicMixin`: values, Q-functions and deterministic actors.

`compute` returns ``(output, outputs)``.
"""

from __future__ import annotations

import torch

from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.clipping import register_action_bounds
from rlblocks.models.torch.roles import role_table


class DeterministicMixin:
    """Deterministic model: `act` gives ``(output, None, outputs)``.

    The output is (N, 1) for a value or critic, (N, n_actions) for a DQN Q-network, (N, A) for an
    actor (optionally clamped to the Box action space's per-dimension bounds).
    """

    def __init__(self, clip_actions: bool = False, role: str = "") -> None:
        """Register this role's settings.

        Args:
            clip_actions: clamp the output to the Box action space's per-dimension bounds.
            role: the role these settings apply to ("" is the default role).

        Raises:
            ValueError: ``clip_actions`` with a non-Box action space.
        """
        clip = bool(clip_actions) and register_action_bounds(self, "DeterministicMixin", clip_actions)
        role_table(self, "_d_roles").register(role, clip)

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Compute the output; no log-prob."""
        actions, outputs = self._checked_compute(inputs, role, ("output",))
        if self._d_roles.settings(role):
            actions = torch.clamp(actions, self.clip_actions_min, self.clip_actions_max)
        return actions, None, outputs
