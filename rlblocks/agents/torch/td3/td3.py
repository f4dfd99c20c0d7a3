"""TD3: DDPG with twin critics, delayed policy updates, target smoothing (Fujimoto et al. 2018, 1802.09477).

Data flow: act μ(s) + scaled exploration noise -> store (s, a, r, s', terminated) -> every step
from ``learning_starts``, ``gradient_steps`` x (fresh batch -> a' = clamp(μ̄(s') + clip(ε, ±c))
-> y = r + γ·(1 − terminated)·min(Q̄_1, Q̄_2)(s', a') -> critic step on both critics -> every
``policy_delay``-th critic step: policy step on −Q_1(s, μ(s)) and Polyak-average all three targets).

Differs from skrl 0.10:
- works with the default config: without ``smooth_regularization_noise`` the target smoothing
  noise is the paper's N(0, 0.2²) (skrl crashes on the first update, #14);
- a fresh batch is sampled for every gradient step and its states are preprocessed once (#19);
- the count of critic updates (the policy-delay phase) is checkpointed as "critic_updates";
- the policy's learning-rate scheduler steps with the policy optimizer, every ``policy_delay``
  gradient steps (skrl steps it every gradient step, so its schedule ran twice as fast);
- the policy step computes no gradients for the critic's weights (it is frozen during it);
- in eval running mode the agent acts with μ(s), without noise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.functional.targets import clipped_double_q, smoothed_target_actions
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent
from rlblocks.agents.torch.off_policy.deterministic import DeterministicActorCritic
from rlblocks.agents.torch.off_policy.recurrent import inputs_of, next_inputs_of
from rlblocks.agents.torch.parts import StepCounter
from rlblocks.agents.torch.td3.config import PAPER_SMOOTHING_STD, TD3Config
from rlblocks.resources.noises.torch import GaussianNoise


class TD3(OffPolicyAgent):
    """Twin Delayed Deep Deterministic policy gradient.

    Models: "policy" and "target_policy" (Deterministic: (N, A) actions), "critic_1", "critic_2",
    "target_critic_1" and "target_critic_2" (Deterministic on states and taken_actions: (N, 1)).
    Targets are separate instances, copied from their sources here. Only "policy" is needed to act
    without a memory.

    Raises (at construction):
        ValueError: a missing model or a non-Box action space.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[TD3Config]] = TD3Config
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = (
        "target_policy",
        "critic_1",
        "critic_2",
        "target_critic_1",
        "target_critic_2",
    )
    TARGET_ROLES: ClassVar[dict[str, str]] = {
        "target_policy": "policy",
        "target_critic_1": "critic_1",
        "target_critic_2": "critic_2",
    }
    CRITIC_ROLES: ClassVar[tuple[str, ...]] = ("critic_1", "critic_2")
    RECURRENT_ROLES: ClassVar[tuple[str, ...]] = ("policy", *CRITIC_ROLES)

    def _setup(self) -> None:
        super()._setup()
        self.actor_critic = DeterministicActorCritic(self, self.CRITIC_ROLES)
        self.policy, self.critics = self.actor_critic.policy, self.actor_critic.critics
        self.smoothing_noise = self.cfg.smooth_regularization_noise
        if self.smoothing_noise is None:
            self.smoothing_noise = GaussianNoise(0.0, PAPER_SMOOTHING_STD, self.device)
        self.critic_updates = StepCounter()
        self.register_checkpoint_module("critic_updates", self.critic_updates)

    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """μ(s) plus scaled exploration noise while training (see `DeterministicActorCritic.act`)."""
        return self.actor_critic.act(states, timestep, timesteps)

    def _update(self, timestep: int, timesteps: int) -> None:
        policy_loss = None
        for _ in range(self.cfg.gradient_steps):
            batch = self.sample_batch()
            targets = self.smoothed_clipped_double_q_targets(batch)
            critic_loss, q_values = self.critics.regress(batch, targets)
            self.critic_updates.count += 1
            if self.critic_updates.count % self.cfg.policy_delay == 0:
                policy_loss = self.actor_critic.policy_step(batch.states, inputs_of(batch))
                self.update_targets()
        self.actor_critic.track(critic_loss, policy_loss, q_values, targets)

    def smoothed_clipped_double_q_targets(self, batch: Any) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·min(Q̄_1, Q̄_2)(s', clamp(μ̄(s') + clip(ε, ±c))); (B, 1)."""
        with torch.no_grad():
            inputs = next_inputs_of(batch)
            next_actions = self.actor_critic.target_actions(batch.next_states, inputs)
            next_actions = smoothed_target_actions(
                next_actions,
                self.smoothing_noise.sample(next_actions.shape),
                self.cfg.smooth_regularization_clip,
                self.action_low,
                self.action_high,
            )
            next_values = clipped_double_q(
                *self.critics.target_q_values(batch.next_states, next_actions, inputs)
            )
            return td_target(batch.rewards, next_values, batch.terminated, self.cfg.discount_factor)
