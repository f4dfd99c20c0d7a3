"""`EpsilonGreedyTabularPolicy`: a ready ε-greedy table for Q-learning and SARSA.

skrl 0.10 leaves the tabular model to the user, and its examples put ε-greedy exploration in the
model's ``compute``; the tabular agents follow that convention (exploration is the model's, the
agents call ``policy.act``), and this is such a model, so that nobody has to write one.
"""

from __future__ import annotations

from typing import Any

import torch

from rlblocks.models.torch import Model, TabularMixin
from rlblocks.models.torch.base import Inputs
from rlblocks.utils import spaces


class EpsilonGreedyTabularPolicy(TabularMixin, Model):
    """A Q-table per env, shape (num_envs, num_observations, num_actions), acting ε-greedily.

    Each row is a uniformly random action with probability ``epsilon``, else the greedy action of
    its env's table, ties broken uniformly at random (so a fresh table does not always pick action 0).

    Args:
        observation_space: a Discrete observation space (or its size).
        action_space: a Discrete action space (or its size).
        device: where the table lives.
        num_envs: the tables' first dimension: one table per environment, or 1 for one table
            that every environment uses and updates.
        epsilon: ε in [0, 1].
        initial_value: every entry's starting value (optimistic values explore more).
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: str | torch.device | None = None,
        num_envs: int = 1,
        epsilon: float = 0.1,
        initial_value: float = 0.0,
    ) -> None:
        for name, space in (("observation", observation_space), ("action", action_space)):
            if not (isinstance(space, int) or spaces.is_discrete(space)):
                raise ValueError(
                    f"a tabular model needs a Discrete {name} space (its table is indexed by it), got "
                    f"{space}; for Box observations use a network (e.g. DQN's Q-network)"
                )
        Model.__init__(self, observation_space, action_space, device)
        TabularMixin.__init__(self, num_envs)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = float(epsilon)
        self.q_table = torch.full(
            (num_envs, self.num_observations, self.num_actions), float(initial_value), device=self.device
        )

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        """(N, 1) int64 ε-greedy actions for (N, 1) state indexes, env n using table n (or the only one)."""
        states = inputs["states"].reshape(-1).long()
        num_rows = states.shape[0]
        tables = torch.arange(num_rows, device=states.device) if self.q_table.shape[0] > 1 else 0
        q_values = self.q_table[tables, states]
        is_best = q_values == q_values.max(dim=-1, keepdim=True).values
        greedy = torch.argmax(torch.rand_like(q_values) * is_best, dim=-1, keepdim=True)
        random_actions = torch.randint(self.num_actions, (num_rows, 1), device=states.device)
        is_random = torch.rand(num_rows, 1, device=states.device) < self.epsilon
        return torch.where(is_random, random_actions, greedy), {}
