"""`TabularAgent`: the family base of the tabular temporal-difference agents (Q-learning, SARSA).

Data flow: act with the policy (ε-greedy: the model's own exploration, skrl 0.10's convention)
-> after every training step, for every env e at once: Q[e, s, a] ← Q[e, s, a] + α·(r + γ·(1 −
terminated)·Q[e, s', a'] − Q[e, s, a]), a' chosen by the subclass (`_next_q_values`).

Each env has its own table (row e of the policy's ``q_table``, as skrl 0.10), or all envs share
a one-row table (a model built with ``num_envs=1``: N envs then fill one table N times as fast).
The update indexes the tables with tensors, so a step reads nothing on the host.

Differs from skrl 0.10:
- a time-limit truncation is not terminal: s' is the episode's true final observation (the
  wrappers give it in ``next_states``) and the update bootstraps from it; only termination stops
  bootstrapping (skrl 0.10 treats truncation as terminal);
- in eval running mode the agent acts greedily from the mean of the env tables (so any number
  of evaluation envs works, and the choice depends on the observation only), unless the trainer
  asks for stochastic evaluation;
- ``rewards_shaper`` is applied to the rewards the update uses;
- the policy must be a TabularMixin model whose table has one row per env (checked, with a
  message, instead of failing on an index), or a single row shared by every env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from rlblocks.agents.torch.base import Agent, Transition
from rlblocks.agents.torch.functional.tabular import td_update
from rlblocks.models.torch import TabularMixin


class TabularAgent(Agent):
    """Base class of the tabular agents; subclasses choose Q(s', a') in `_next_q_values`.

    Models: "policy" (a TabularMixin model with a ``q_table`` (num_envs, num_observations,
    num_actions) and a ``compute`` returning (N, 1) int64 actions, e.g.
    `rlblocks.agents.torch.tabular.EpsilonGreedyTabularPolicy`).

    Raises (at construction):
        ValueError: no "policy" model, or one that is not a TabularMixin model.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    SUPPORTS_DISTRIBUTED: ClassVar[bool] = False  # per-env Q-tables updated in place, not averaged

    def _setup(self) -> None:
        super()._setup()
        self.policy = self.models.get("policy")
        name = type(self).__name__
        if self.policy is None:
            raise ValueError(
                f'{name} needs a "policy" model; got roles {sorted(self.models)}. Pass '
                'models={"policy": EpsilonGreedyTabularPolicy(...)} (rlblocks.agents.torch.tabular).'
            )
        if not isinstance(self.policy, TabularMixin):
            raise ValueError(
                f'{name} needs a TabularMixin "policy" holding a q_table, got {type(self.policy).__name__}; '
                "see rlblocks.agents.torch.tabular.EpsilonGreedyTabularPolicy"
            )
        self.register_checkpoint_module("policy", self.policy)
        self._transition: Transition | None = None
        self._env_indexes: torch.Tensor | None = None

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Set up logging; no memory tensors (the update uses the current transition)."""
        super().init(trainer_cfg)

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """(N, 1) int64 actions for (N, 1) state indexes: the policy's, or greedy in eval running mode."""
        if self.is_random_step(timestep):
            return self.policy.random_act({"states": states}, role="policy")
        if not self.training and not self.stochastic_evaluation:
            return self.greedy_actions(states), None, {}
        return self.policy.act({"states": states}, role="policy")

    def greedy_actions(self, states: torch.Tensor) -> torch.Tensor:
        """(N, 1) argmax_a of the mean of the env tables at the (N, 1) states (ties: the lowest action)."""
        mean_table = self.policy.table().mean(dim=0)
        return torch.argmax(mean_table[states.reshape(-1).long()], dim=-1, keepdim=True)

    def _store_transition(self, transition: Transition, timestep: int, timesteps: int) -> None:
        """Keep the (shaped) transition for the update that follows in `post_interaction`."""
        self._transition = transition

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update the tables from the step just made (from ``learning_starts``); log; checkpoint."""
        if self.training and self._transition is not None and timestep >= self.cfg.learning_starts:
            self._update(timestep, timesteps)
        super().post_interaction(timestep, timesteps)

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        transition = self._transition
        table = self.policy.table()
        env_indexes = self._table_rows(table, transition.states.shape[0])
        states = transition.states.reshape(-1, 1).long()
        actions = transition.actions.reshape(-1, 1).long()
        next_states = transition.next_states.reshape(-1, 1).long()
        q_values = table[env_indexes, states, actions]
        next_q_values = self._next_q_values(table, env_indexes, next_states)
        new_q_values = td_update(
            q_values,
            next_q_values,
            transition.rewards.to(table.dtype),
            transition.terminated,
            self.cfg.discount_factor,
            self.cfg.learning_rate,
        )
        _add_mean_per_entry(table, (env_indexes, states, actions), new_q_values - q_values)

    def _next_q_values(
        self, table: torch.Tensor, env_indexes: torch.Tensor, next_states: torch.Tensor
    ) -> torch.Tensor:
        """(N, 1) Q[e, s', a'] for the (N, 1) int64 ``next_states`` and (N, 1) ``env_indexes``."""
        raise NotImplementedError(f"{type(self).__name__} must choose a' in _next_q_values()")

    def _table_rows(self, table: torch.Tensor, num_envs: int) -> torch.Tensor:
        """(N, 1) the table row of each env: env e uses table e, or all envs share a one-row table.

        Raises:
            ValueError: the table has neither one row per env nor a single row.
        """
        if table.dim() != 3 or table.shape[0] not in (1, num_envs):
            raise ValueError(
                f"{type(self).__name__}: the policy's table should be (num_envs, num_observations, "
                f"num_actions) with num_envs = {num_envs} (a table per env) or 1 (one table for all "
                f"envs), got shape {tuple(table.shape)}; build the model with num_envs=env.num_envs"
            )
        if self._env_indexes is None or self._env_indexes.shape[0] != num_envs:
            rows = torch.arange(num_envs, device=table.device).reshape(-1, 1)
            self._env_indexes = rows if table.shape[0] == num_envs else torch.zeros_like(rows)
        return self._env_indexes


def _add_mean_per_entry(
    table: torch.Tensor, indexes: tuple[torch.Tensor, torch.Tensor, torch.Tensor], changes: torch.Tensor
) -> None:
    """Add ``changes`` (N, 1) to ``table`` at ``indexes``, averaging the changes aimed at one entry.

    With a table per env no two rows meet; with a shared table, envs that made the same (s, a)
    move it by their mean TD step, not by the sum (which overshoots when N·α > 1).
    """
    flat = (indexes[0] * table.shape[1] + indexes[1]) * table.shape[2] + indexes[2]
    flat = flat.reshape(-1)
    sums = torch.zeros(table.numel(), dtype=table.dtype, device=table.device)
    counts = torch.zeros_like(sums)
    sums.index_add_(0, flat, changes.reshape(-1))
    counts.index_add_(0, flat, torch.ones_like(changes.reshape(-1)))
    table.view(-1).add_(sums / counts.clamp(min=1))
