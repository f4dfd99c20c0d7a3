"""PPO: on-policy actor-critic with a clipped surrogate objective (Schulman et al. 2017, arXiv:1707.06347).

Data flow: collect ``rollouts`` steps from every env -> bootstrap truncations, GAE -> ``learning_epochs``
x ``mini_batches`` clipped updates of policy and value -> repeat.

Differs from skrl 0.10 (besides the rollout differences listed in `rlblocks.agents.torch.on_policy`):
- the KL early stop ends the whole update, not just the current epoch's mini-batch loop (bug #17);
- loss averages divide by the number of mini-batches actually run (bug #17);
- categorical policies may use an entropy bonus (bug #4) and log no NaN standard deviation;
- losses are summed on the device; the approximate KL is read on the host only when the KL early
  stop or a KL-driven scheduler needs it.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional.losses import approximate_kl, clipped_surrogate_loss, clipped_value_loss
from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.ppo.config import PPOConfig


class Losses(NamedTuple):
    """The losses of one mini-batch and its approximate KL, all 0-d tensors."""

    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        """What the optimizer minimises."""
        return self.policy + self.value + self.entropy


class PPO(OnPolicyAgent):
    """Proximal Policy Optimization.

    Models: "policy" (a Gaussian, MultivariateGaussian, Categorical or MultiCategorical model:
    actions and log-prob) and "value" (a Deterministic model: (N, 1) values). The same object under
    both roles shares one network.

    Raises (at construction):
        ValueError: no "policy" model, or a memory without a "value" model.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[PPOConfig]] = PPOConfig

    def _update(self, timestep: int, timesteps: int) -> None:
        cfg = self.cfg
        rollout = self.rollout_with_advantages()
        is_kl_read = cfg.kl_threshold > 0 or self.optimisation.uses_kl
        totals = torch.zeros(4, device=rollout.states.device)
        num_batches = 0
        for _ in range(cfg.learning_epochs):
            epoch_kls = []
            is_kl_exceeded = False
            for batch in self.minibatches(rollout, cfg.mini_batches):
                losses = self._losses(batch)
                epoch_kls.append(losses.approx_kl)
                if is_kl_read and self._kl_too_large(losses):
                    is_kl_exceeded = True
                    break
                self.optimisation(losses.total)
                num_batches += 1
                totals += torch.stack([loss.detach() for loss in losses])
            self.optimisation.step_scheduler(kl=torch.stack(epoch_kls).mean() if is_kl_read else None)
            if is_kl_exceeded:
                break
        self._track(totals, num_batches)

    def _minibatches(self) -> list[Rollout]:
        """The last rollout's mini-batches (for tests and subclasses; `_update` computes the rollout once)."""
        return list(self.minibatches(self.rollout_with_advantages(), self.cfg.mini_batches))

    def _losses(self, batch: Rollout) -> Losses:
        cfg = self.cfg
        _, log_prob, _ = self.policy.act(
            {"states": batch.states, "taken_actions": batch.actions}, role="policy"
        )
        with torch.no_grad():
            approx_kl = approximate_kl(log_prob, batch.log_prob)
        policy_loss = clipped_surrogate_loss(log_prob, batch.log_prob, batch.advantages, cfg.ratio_clip)
        entropy_loss = torch.zeros((), device=log_prob.device)
        if cfg.entropy_loss_scale:
            entropy_loss = -cfg.entropy_loss_scale * self.policy.get_entropy(role="policy").mean()
        predicted_values = self.value.act({"states": batch.states}, role="value")[0]
        value_loss = cfg.value_loss_scale * clipped_value_loss(
            predicted_values, batch.values, batch.returns, cfg.value_clip, cfg.clip_predicted_values
        )
        return Losses(policy_loss, value_loss, entropy_loss, approx_kl)

    def _kl_too_large(self, losses: Losses) -> bool:
        """Whether the KL early stop fires (one host read of the mini-batch's KL)."""
        return self.cfg.kl_threshold > 0 and bool(losses.approx_kl > self.cfg.kl_threshold)

    def _track(self, totals: torch.Tensor, num_batches: int) -> None:
        """Track the mean losses and KL of the mini-batches run, the policy's std and the learning rate."""
        if not self.is_logging or num_batches == 0:
            return
        policy, value, entropy, approx_kl = totals / num_batches
        self.track_data(tags.POLICY_LOSS, policy)
        self.track_data(tags.VALUE_LOSS, value)
        if self.cfg.entropy_loss_scale:
            self.track_data(tags.ENTROPY_LOSS, entropy)
        self.track_data(tags.APPROX_KL, approx_kl)
        distribution = self.policy.distribution(role="policy")
        if isinstance(distribution, (torch.distributions.Normal, torch.distributions.MultivariateNormal)):
            self.track_data(tags.POLICY_STD, distribution.stddev.mean())
        self.track_data(tags.LEARNING_RATE, self.optimisation.learning_rate)
