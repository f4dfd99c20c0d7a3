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

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from rlblocks.agents.torch.ddpg.config import DDPGConfig
from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.off_policy.actor_critic import DeterministicActorCritic
from rlblocks.agents.torch.off_policy.agent import Transitions


class DDPG(DeterministicActorCritic):
    """Deep Deterministic Policy Gradient.

    Models: "policy" and "target_policy" (Deterministic: (N, A) actions), "critic" and
    "target_critic" (Deterministic on states and taken_actions: (N, 1)). Targets are separate
    instances, copied from their sources here. Only "policy" is needed to act without a memory.
    """

    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ("target_policy", "critic", "target_critic")
    TARGET_ROLES: ClassVar[dict[str, str]] = {"target_policy": "policy", "target_critic": "critic"}
    CRITIC_ROLES: ClassVar[tuple[str, ...]] = ("critic",)

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: str | torch.device | None = None,
        cfg: Mapping[str, Any] | DDPGConfig | None = None,
    ) -> None:
        """Check the models, copy the targets, build the optimizers and the preprocessor.

        Raises:
            ValueError: a missing model or a non-Box action space.
            KeyError: an unknown config key (the message names the nearest valid one).
        """
        super().__init__(models, memory, observation_space, action_space, device, DDPGConfig.from_dict(cfg))

    def _update(self, timestep: int, timesteps: int) -> None:
        for _ in range(self.cfg.gradient_steps):
            batch = self.sample_batch()
            targets = self.q_targets(batch)
            critic_loss, q_values = self.critic_step(batch, targets)
            policy_loss = self.deterministic_policy_loss(batch.states)
            self.policy_step(policy_loss)
            self.update_targets()
        self.track_update(critic_loss, policy_loss, q_values, targets)

    def q_targets(self, batch: Transitions) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·Q̄(s', μ̄(s')); (B, 1), no gradient."""
        with torch.no_grad():
            next_actions = self.target_actions(batch.next_states)
            next_values = self.target_q_values(batch.next_states, next_actions)[0]
            return td_target(batch.rewards, next_values, batch.terminated, self.cfg.discount_factor)
