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

from typing import ClassVar

from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.on_policy.losses import Losses
from rlblocks.agents.torch.ppo.config import PPOConfig
from rlblocks.agents.torch.ppo.update import clipped_losses, clipped_update

__all__ = ["PPO", "Losses"]


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
        clipped_update(self)

    def _minibatches(self) -> list[Rollout]:
        """The last rollout's mini-batches (for tests and subclasses; `_update` computes the rollout once)."""
        return list(self.minibatches(self.rollout_with_advantages(), self.cfg.mini_batches))

    def _losses(self, batch: Rollout) -> Losses:
        """The losses of one mini-batch (see `clipped_losses`)."""
        return clipped_losses(self, batch)
