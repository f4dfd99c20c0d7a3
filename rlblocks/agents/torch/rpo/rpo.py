"""RPO: PPO whose update evaluates the taken actions under a randomly shifted Gaussian mean.

Robust Policy Optimization (Rahman & Xue 2022, arXiv:2212.07536): the update's log π(a|s) is that
of N(μ(s) + u, σ²), u ~ U(−α, α) drawn anew per action element and mini-batch, which keeps the
policy's entropy from collapsing. Data flow: PPO's (`rlblocks.agents.torch.ppo.update`), with
`taken_action_log_prob` perturbed.

How the perturbation reaches the model (not in skrl 0.10; skrl 1.x's contract, kept):
- every policy call gets ``inputs["alpha"]``: 0 while acting (rollout actions and their stored
  log-probs are the unperturbed policy's; evaluation is unperturbed too), ``cfg["alpha"]`` when
  the update re-evaluates the taken actions. A model written for skrl 1.x's RPO, whose ``compute``
  adds ``uniform_(-inputs["alpha"], inputs["alpha"])`` to its mean, works unchanged.
- a model that never reads ``inputs["alpha"]`` (any plain Gaussian model) is perturbed by the
  agent: it evaluates the taken actions shifted by −u, since log N(a | μ + u, σ²) =
  log N(a − u | μ, σ²). Which case applies is learnt at the first update, from whether the model
  looked up "alpha" (one extra forward pass, once).
- the policy must be a Gaussian or MultivariateGaussian model (a mean to perturb).

Differs from skrl 1.x: skrl passes ``cfg["alpha"]`` while acting too, so its rollouts sample from
(and store the log-probs of) perturbed means; here the perturbation is only in the update, as in
the paper and CleanRL. ``time_limit_bootstrap`` defaults to True (skrl 1.x: False).
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rlblocks.agents.torch.functional.perturbation import shift_for_perturbed_mean, uniform_perturbation
from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.ppo.update import clipped_update
from rlblocks.agents.torch.rpo.config import RPOConfig
from rlblocks.agents.torch.rpo.inputs import PolicyInputs
from rlblocks.models.torch import GaussianMixin, MultivariateGaussianMixin


class RPO(OnPolicyAgent):
    """Robust Policy Optimization.

    Models: "policy" (a Gaussian or MultivariateGaussian model: actions and log-prob; it may read
    ``inputs["alpha"]`` and perturb its mean itself) and "value" (a Deterministic model: (N, 1)
    values). The same object under both roles shares one network.

    Attributes:
        is_perturbed_by_model: whether the policy perturbs its own mean from ``inputs["alpha"]``
            (None until the first update finds out).

    Raises (at construction):
        ValueError: no "policy" model, a policy that is not Gaussian, or a memory without a "value" model.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[RPOConfig]] = RPOConfig

    def _setup(self) -> None:
        super()._setup()
        if not isinstance(self.policy, (GaussianMixin, MultivariateGaussianMixin)):
            raise ValueError(
                'RPO perturbs the mean of a Gaussian policy; the "policy" model is a '
                f"{type(self.policy).__name__} without GaussianMixin or MultivariateGaussianMixin. "
                "Use a Gaussian policy (Box actions), or PPO for other policies."
            )
        self.policy_inputs = {"alpha": 0.0}
        self.is_perturbed_by_model: bool | None = None

    def _update(self, timestep: int, timesteps: int) -> None:
        clipped_update(self)

    def taken_action_log_prob(self, batch: Rollout) -> torch.Tensor:
        """The log-prob (B, 1) of the taken actions under the policy with its mean shifted by U(−α, α)."""
        alpha = self.cfg.alpha
        inputs = PolicyInputs(states=batch.states, taken_actions=batch.actions, alpha=alpha)
        if self.recurrent is not None:
            inputs.update(self.sequence_inputs(batch, "policy"))
        is_agent_side = alpha > 0 and self.is_perturbed_by_model is False
        if is_agent_side:
            perturbation = uniform_perturbation(batch.actions, alpha)
            inputs["taken_actions"] = shift_for_perturbed_mean(batch.actions, perturbation)
        log_prob = self.policy.act(inputs, role="policy")[1]
        if self.is_perturbed_by_model is None:
            self.is_perturbed_by_model = inputs.is_alpha_read
            if not self.is_perturbed_by_model and alpha > 0:
                return self.taken_action_log_prob(batch)  # this first time only: now perturbed by the agent
        return log_prob
