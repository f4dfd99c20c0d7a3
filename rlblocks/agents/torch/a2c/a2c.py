"""A2C: synchronous advantage actor-critic (Mnih et al. 2016, arXiv:1602.01783).

Data flow: collect ``rollouts`` steps from every env -> bootstrap truncations, GAE -> one pass over
``mini_batches`` mini-batches: policy loss −mean(A·log π), value loss mse(returns, V), entropy
bonus, one optimizer step each -> scheduler step -> repeat.

Differs from skrl 0.10 (besides the rollout differences listed in `rlblocks.agents.torch.on_policy`):
- it trains with its default config (skrl 0.10 reads an undefined ``self.scheduler`` when no
  scheduler is configured and crashes at the first update, bug #13);
- the approximate KL of the pass is logged, and given to a KL-driven scheduler (`KLAdaptiveRL`);
- categorical policies may use an entropy bonus (bug #4).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rlblocks.agents.torch.a2c.config import A2CConfig
from rlblocks.agents.torch.functional.losses import approximate_kl
from rlblocks.agents.torch.functional.policy_gradient import policy_gradient_loss
from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.on_policy.losses import Losses, LossTotals


class A2C(OnPolicyAgent):
    """Advantage actor-critic on the "policy" and "value" models of `OnPolicyAgent` (shareable).

    The policy may be any stochastic mixin (Gaussian, MultivariateGaussian, Categorical, MultiCategorical).

    Construction raises what `OnPolicyAgent` raises (missing models) and a KeyError naming the nearest
    key for an unknown config key.
    """

    CONFIG_CLASS: ClassVar[type[A2CConfig]] = A2CConfig

    def _update(self, timestep: int, timesteps: int) -> None:
        rollout = self.rollout_with_advantages()
        totals = LossTotals(rollout.states.device)
        for batch in self.minibatches(rollout, self.cfg.mini_batches):
            losses = self._losses(batch)
            self.optimisation(losses.total)
            totals.add(losses)
        mean = totals.mean()
        self.optimisation.step_scheduler(kl=mean.approx_kl if self.optimisation.uses_kl else None)
        self.track_losses(mean)

    def _losses(self, batch: Rollout) -> Losses:
        """Policy-gradient, value (mse) and entropy losses of one mini-batch, and its approximate KL."""
        log_prob = self.taken_action_log_prob(batch)
        with torch.no_grad():
            approx_kl = approximate_kl(log_prob, batch.log_prob)
        policy_loss = policy_gradient_loss(log_prob, batch.advantages)
        entropy_loss = self.entropy_loss(self.cfg.entropy_loss_scale, log_prob.device)
        value_loss = torch.nn.functional.mse_loss(batch.returns, self.predicted_values(batch))
        return Losses(policy_loss, value_loss, entropy_loss, approx_kl)
