"""SAC: off-policy maximum-entropy actor-critic with twin critics (Haarnoja et al. 2018, arXiv:1812.05905).

Data flow: act a ~ π(·|s) -> store (s, a, r, s', terminated) -> every step from ``learning_starts``,
``gradient_steps`` x (fresh batch -> soft target r + γ·(1 − terminated)·(min_k Q̄_k(s', a') − α·log π(a'|s'))
-> critic step -> policy step on α·log π(a|s) − min_k Q_k(s, a) -> α step towards the target entropy
-> Polyak-average the target critics).

Squashing: with ``squash_actions`` (new key, default False) the agent squashes the Gaussian sample
into the action bounds with tanh and corrects the log-prob (paper, appendix C). Without it, as in
skrl 0.10, the policy's actions and log-prob are used as they are: bound them in the model (a
tanh-scaled mean and clip_actions=True).

Differs from skrl 0.10:
- a fresh batch is sampled for every gradient step and its states are preprocessed once (#19);
- the ``experiment`` section's key is ``directory``, not ``base_directory`` (#20);
- α is a parameter checkpointed as "entropy_coefficient" (skrl saves only its optimizer, so a
  resumed run restarted from the initial α);
- the policy step computes no gradients for the critics' weights (they are frozen during it);
- in eval running mode the agent acts with the (squashed or clamped) mean action;
- losses, α and Q-value statistics are tracked on the device (no host sync per update).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional.returns import td_target
from rlblocks.agents.torch.functional.squashing import squash, tanh_log_det_jacobian
from rlblocks.agents.torch.functional.targets import clipped_double_q, soft_state_value
from rlblocks.agents.torch.off_policy.actor_critic import (
    Critics,
    require_box_actions,
    track_actor_critic_update,
)
from rlblocks.agents.torch.off_policy.agent import OffPolicyAgent, frozen
from rlblocks.agents.torch.off_policy.recurrent import NO_INPUTS, ModelInputs, inputs_of, next_inputs_of
from rlblocks.agents.torch.sac.config import SACConfig
from rlblocks.utils import spaces


class EntropyCoefficient(nn.Module):
    """α, learned as log α so that it stays positive."""

    def __init__(self, initial_value: float, device: torch.device) -> None:
        super().__init__()
        self.log_value = nn.Parameter(torch.tensor(math.log(initial_value), device=device))

    @property
    def value(self) -> torch.Tensor:
        """α = exp(log α), a 0-d tensor without gradient."""
        return self.log_value.detach().exp()


class SAC(OffPolicyAgent):
    """Soft Actor-Critic.

    Models: "policy" (Gaussian or MultivariateGaussian: actions and log-prob), "critic_1" and
    "critic_2" (Deterministic on states and taken_actions: (N, 1)), "target_critic_1" and
    "target_critic_2" (separate instances of the critics' class; copied from them here). Only
    "policy" is needed to act without a memory.

    Raises (at construction):
        ValueError: a missing model, a non-Box action space, or squash_actions with infinite bounds.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[SACConfig]] = SACConfig
    TRAINING_ROLES: ClassVar[tuple[str, ...]] = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    TARGET_ROLES: ClassVar[dict[str, str]] = {"target_critic_1": "critic_1", "target_critic_2": "critic_2"}
    CRITIC_ROLES: ClassVar[tuple[str, ...]] = ("critic_1", "critic_2")
    RECURRENT_ROLES: ClassVar[tuple[str, ...]] = ("policy", *CRITIC_ROLES)
    CRITIC_LOSS_SCALE: ClassVar[float] = 0.5
    """The mean of the two critics' losses, as skrl 0.10 and the paper's implementation."""

    def _setup(self) -> None:
        super()._setup()
        require_box_actions(self)
        cfg = self.cfg
        if cfg.squash_actions and not bool(torch.isfinite(self.action_high - self.action_low).all()):
            raise ValueError(
                f"squash_actions needs finite action bounds, got {self.action_space}; bound the actions "
                "in the policy instead and set squash_actions=False."
            )
        self.policy = self.models[self.ACTING_ROLE]
        self.critics = Critics(self, self.CRITIC_ROLES, self.CRITIC_LOSS_SCALE)
        self.target_entropy = (
            float(cfg.target_entropy)
            if cfg.target_entropy is not None
            else -float(spaces.flat_size(self.action_space))
        )
        self.entropy_coefficient = EntropyCoefficient(cfg.initial_entropy_value, self.device)
        self.register_checkpoint_module("entropy_coefficient", self.entropy_coefficient)
        if self.memory is None:
            return
        self.policy_step = self.build_optimisation(
            "policy_optimizer", self.policy.parameters(), cfg.actor_learning_rate, cfg.grad_norm_clip
        )
        self.policy_optimizer, self.critic_optimizer = self.policy_step.optimizer, self.critics.step.optimizer
        if cfg.learn_entropy:
            self.entropy_optimisation = self.build_optimisation(
                "entropy_optimizer",
                self.entropy_coefficient.parameters(),
                cfg.entropy_learning_rate,
                0,
                False,
            )
            self.entropy_optimizer = self.entropy_optimisation.optimizer

    # ------------------------------------------------------------------ acting
    def act(self, states: torch.Tensor, timestep: int, timesteps: int) -> tuple[Any, Any, Any]:
        """Sample a ~ π(·|s) while training; the mean action in eval mode (unless stochastic evaluation).

        The first ``random_timesteps`` training steps act uniformly at random.
        """
        actions, _, outputs, random = self.policy_act(states, timestep)
        if random:
            return actions, None, outputs
        if not self.training and not self.stochastic_evaluation:
            if self.cfg.squash_actions:
                return squash(outputs["mean_actions"], self.action_low, self.action_high), None, outputs
            return self._deterministic_actions(actions, outputs), None, outputs
        if self.cfg.squash_actions:
            actions = squash(actions, self.action_low, self.action_high)
        return actions, None, outputs

    def sample_actions(
        self, states: torch.Tensor, inputs: ModelInputs = NO_INPUTS
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised a ~ π(·|s) and log π(a|s) (B, 1), squashed and corrected if ``squash_actions``.

        ``inputs``: a recurrent policy's extra inputs (`ReplayBatch.inputs` or ``next_inputs``).
        """
        actions, log_prob, _ = self.policy.act(inputs("policy", states=states), role="policy")
        if log_prob.shape[-1] != 1:  # a policy with reduction="none"
            log_prob = log_prob.sum(dim=-1, keepdim=True)
        if self.cfg.squash_actions:
            log_prob = log_prob - tanh_log_det_jacobian(actions)
            actions = squash(actions, self.action_low, self.action_high)
        return actions, log_prob

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        for _ in range(self.cfg.gradient_steps):
            batch = self.sample_batch()
            targets = self.soft_q_targets(batch)
            critic_loss, q_values = self.critics.regress(batch, targets)
            policy_loss, log_prob = self.policy_loss(batch.states, inputs_of(batch))
            self.optimise(self.policy_step, policy_loss)
            if self.cfg.learn_entropy:
                entropy_loss = self.entropy_step(log_prob)
            self.update_targets()
        track_actor_critic_update(
            self, critic_loss, policy_loss, q_values, targets, self.policy_step, self.critics
        )
        if self.is_logging:
            if self.cfg.learn_entropy:
                self.track_data(tags.ENTROPY_COEFFICIENT_LOSS, entropy_loss)
            self.track_data(tags.ENTROPY_COEFFICIENT, self.entropy_coefficient.value)

    def soft_q_targets(self, batch: Any) -> torch.Tensor:
        """Targets r + γ·(1 − terminated)·(min_k Q̄_k(s', a') − α·log π(a'|s')), a' ~ π(·|s'); (B, 1)."""
        with torch.no_grad():
            inputs = next_inputs_of(batch)
            extra = () if inputs is NO_INPUTS else (inputs,)  # (a patched sample_actions(states) works)
            next_actions, next_log_prob = self.sample_actions(batch.next_states, *extra)
            next_q_values = self.critics.target_q_values(batch.next_states, next_actions, inputs)
            next_values = soft_state_value(next_q_values, next_log_prob, self.entropy_coefficient.value)
            return td_target(batch.rewards, next_values, batch.terminated, self.cfg.discount_factor)

    def policy_loss(
        self, states: torch.Tensor, inputs: ModelInputs = NO_INPUTS
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """E[α·log π(a|s) − min_k Q_k(s, a)], a ~ π(·|s) reparameterised; also log π(a|s) for the α step."""
        actions, log_prob = self.sample_actions(states, inputs)
        with frozen(self.critics.parameters):
            q_value = clipped_double_q(*self.critics.q_values(states, actions, inputs))
        return (self.entropy_coefficient.value * log_prob - q_value).mean(), log_prob

    def entropy_step(self, log_prob: torch.Tensor) -> torch.Tensor:
        """One step on −E[log α·(log π(a|s) + target entropy)]: α grows while the entropy is below target."""
        loss = -(self.entropy_coefficient.log_value * (log_prob.detach() + self.target_entropy)).mean()
        self.optimise(self.entropy_optimisation, loss)
        return loss.detach()
