"""DQN: Q-learning with a replay memory and a target network (Mnih et al. 2015, Nature 518:529).

Data flow: act ε-greedily on Q(s, ·) -> store (s, a, r, s', terminated) -> every
``update_interval``-th step from ``learning_starts``, ``gradient_steps`` x (fresh batch ->
y = r + γ·(1 − terminated)·max_a Q̄(s', a) -> step on mse(Q(s, a), y)) -> every
``target_update_interval``-th step, θ̄ ← (1 − polyak)·θ̄ + polyak·θ.

The defaults are skrl 0.10's: a *soft* target update (polyak 0.005 every 10 steps; polyak=1 is
the paper's hard copy) and an *exponential* ε decay (see `rlblocks.agents.torch.dqn.config`).

Differs from skrl 0.10:
- a fresh batch is sampled for every gradient step and its states are preprocessed once (#19);
- the target network is updated once per update step, after the gradient steps (skrl updates it
  after each gradient step of such a timestep, so gradient_steps > 1 compounded the polyak factor);
- models act in eval mode and learn in train mode (skrl never switches them);
- ``random_timesteps`` act at random even when ε-greedy exploration is off;
- a partial ``exploration`` dict keeps the other keys' defaults (skrl raises KeyError);
- in eval running mode the agent acts greedily.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from rlblocks.agents.torch.dqn.config import DQNConfig
from rlblocks.agents.torch.dqn.q_learning import Q_NETWORK_ROLES, DeepQLearning
from rlblocks.agents.torch.functional.targets import greedy_q_value
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent


def greedy_bootstrap(online_q_values: Any, target_q_values: torch.Tensor) -> torch.Tensor:
    """DQN's V(s') = max_a Q̄(s', a), (B, 1); the online values are not used."""
    return greedy_q_value(target_q_values)


class DQN(OffPolicyAgent):
    """Deep Q-Network.

    Models: "q_network" and "target_q_network" (Deterministic: (N, n_actions) Q-values; the target
    a separate instance, copied from the Q-network here). Actions are (N, 1) int64. Only
    "q_network" is needed to act without a memory.

    Raises (at construction):
        ValueError: a missing model or a non-Discrete action space.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[DQNConfig]] = DQNConfig
    ACTING_ROLE, TRAINING_ROLES, TARGET_ROLES = Q_NETWORK_ROLES

    def _setup(self) -> None:
        super()._setup()
        self.learner = DeepQLearning(self, greedy_bootstrap, uses_online_next_values=False)
