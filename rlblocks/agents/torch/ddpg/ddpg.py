"""DDPG: off-policy deterministic actor-critic (Lillicrap et al. 2016, arXiv:1509.02971).

Data flow: act μ(s) + scaled exploration noise -> store (s, a, r, s', terminated) -> every step
from ``learning_starts``, ``gradient_steps`` x (fresh batch -> y = r + γ·(1 − terminated)·Q̄(s', μ̄(s'))
-> critic step on mse(Q(s, a), y) -> policy step on −Q(s, μ(s)) -> Polyak-average both targets).

Differs from skrl 0.10:
- a fresh batch is sampled for every gradient step and its states are preprocessed once (#19);
- a partial ``exploration`` dict keeps the other keys' defaults (skrl raises KeyError);
- the policy step computes no gradients for the critic's weights (it is frozen during it);
- in eval running mode the agent acts with μ(s), without noise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from rlblocks.agents.torch.ddpg.config import DDPGConfig
from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent
from rlblocks.agents.torch.off_policy.deterministic import DeterministicActorCritic
from rlblocks.agents.torch.off_policy.recurrent import inputs_of, next_inputs_of


class DDPG(OffPolicyAgent):
    """Deep Deterministic Policy Gradient.

    Models: "policy" and "target_policy" (Deterministic: (N, A) actions), "critic" and
    "target_critic" (Deterministic on states and taken_actions: (N, 1)). Targets are separate
    instances, copied from their sources here. Only "policy" is needed to act without a memory.

    Raises (at construction):
        ValueError: a missing model or a non-Box action space.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[DDPGConfig]] = DDPGConfig
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ("target_policy", "critic", "target_critic")
    TARGET_ROLES: ClassVar[dict[str, str]] = {"target_policy": "policy", "target_critic": "critic"}
    CRITIC_ROLES: ClassVar[tuple[str, ...]] = ("critic",)
    RECURRENT_ROLES: ClassVar[tuple[str, ...]] = ("policy", *CRITIC_ROLES)

    def _setup(self) -> None:
        super()._setup()
        self.actor_critic = DeterministicActorCritic(self, self.CRITIC_ROLES)
        self.policy, self.critics = self.actor_critic.policy, self.actor_critic.critics

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """μ(s) plus scaled exploration noise while training (see `DeterministicActorCritic.act`)."""
        return self.actor_critic.act(states, timestep, timesteps)

    def _update(self, timestep: int, timesteps: int) -> None:
        for _ in range(self.cfg.gradient_steps):
            batch = self.sample_batch()
            targets = self.q_targets(batch)
            critic_loss, q_values = self.critics.regress(batch, targets)
            policy_loss = self.actor_critic.policy_step(batch.states, inputs_of(batch))
            self.update_targets()
        self.actor_critic.track(critic_loss, policy_loss, q_values, targets)

    def q_targets(self, batch: Any) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·Q̄(s', μ̄(s')); (B, 1), no gradient."""
        with torch.no_grad():
            inputs = next_inputs_of(batch)
            next_actions = self.actor_critic.target_actions(batch.next_states, inputs)
            next_values = self.critics.target_q_values(batch.next_states, next_actions, inputs)[0]
            return td_target(batch.rewards, next_values, batch.terminated, self.cfg.discount_factor)
