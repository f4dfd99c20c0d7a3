"""SARSA: on-policy tabular TD control (Rummery & Niranjan 1994; Sutton & Barto 2018, eq. 6.7).

Data flow: after every step, for every env e: a' ~ policy(s') -> Q[e, s, a] ← Q[e, s, a] +
α·(r + γ·(1 − terminated)·Q[e, s', a'] − Q[e, s, a]) -> at the next step, an env still in its
episode takes that a' (it is the action the update assumed).

Differs from skrl 0.10 (besides `rlblocks.agents.torch.tabular.agent`): the next action drawn for
the update is the action taken at the next step (skrl draws a' for the update and then draws
the action taken anew, so its target is not the policy's actual next action).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch

from rlblocks.agents.torch.sarsa.config import SARSAConfig
from rlblocks.agents.torch.tabular.agent import TabularAgent


class PlannedActions(NamedTuple):
    """The a' drawn by the last update: (N, 1) next states, actions, and whether the episode goes on."""

    states: torch.Tensor
    actions: torch.Tensor
    is_continuing: torch.Tensor


class SARSA(TabularAgent):
    """State-action-reward-state-action: models, errors and evaluation as in `TabularAgent`."""

    CONFIG_CLASS: ClassVar[type[SARSAConfig]] = SARSAConfig

    def _setup(self) -> None:
        super()._setup()
        self._planned: PlannedActions | None = None

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """As the tabular agents act, except that an env continuing its episode takes the planned a'."""
        actions, log_prob, outputs = super().act(states, timestep, timesteps)
        planned, self._planned = self._planned, None
        if planned is None or not self.training or self.is_random_step(timestep):
            return actions, log_prob, outputs
        # an env whose episode ended was reset: its states are not the s' the action was drawn for
        is_planned = planned.is_continuing & (states.reshape(-1, 1).long() == planned.states)
        return torch.where(is_planned, planned.actions, actions.reshape(-1, 1)), log_prob, outputs

    def _next_q_values(
        self, table: torch.Tensor, env_indexes: torch.Tensor, next_states: torch.Tensor
    ) -> torch.Tensor:
        """(N, 1) Q[e, s', a'] with a' drawn from the policy at s', kept as the next step's action."""
        next_actions = self.policy.act({"states": next_states}, role="policy")[0].reshape(-1, 1).long()
        transition = self._transition
        is_continuing = ~(transition.terminated | transition.truncated).reshape(-1, 1)
        self._planned = PlannedActions(next_states, next_actions, is_continuing)
        return table[env_indexes, next_states, next_actions]
