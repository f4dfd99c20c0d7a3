"""TRPO: on-policy actor-critic whose policy takes natural-gradient steps inside a KL trust region.

Schulman et al. 2015, "Trust Region Policy Optimization", arXiv:1502.05477.

Data flow: collect ``rollouts`` steps from every env -> bootstrap truncations, GAE -> one policy step
on the whole rollout (surrogate gradient g, conjugate gradient on F·x = g, the step scaled to
KL = ``max_kl_divergence``, backtracking line search) -> ``learning_epochs`` x ``mini_batches`` Adam
steps of the value function -> repeat.

Differs from skrl 0.10 (besides the rollout differences listed in `rlblocks.agents.torch.on_policy`):
- the KL of the trust region is torch's ``kl_divergence`` of the policy's distributions; skrl's
  closed-form Gaussian KL has the log-σ term's sign reversed (bug #16);
- the line search accepts α when the actual improvement reaches ``accept_ratio``·α·(expected
  improvement); skrl multiplies the expected improvement by every α tried so far (bug #16);
- categorical (and multivariate Gaussian) policies work: the KL comes from their distributions;
- the Fisher-vector products reuse one KL gradient graph (one forward pass per update, not one per
  conjugate-gradient iteration), and the conjugate gradient reads nothing on the host;
- the policy and the value must be separate models (a shared trunk would be moved by the policy step);
- a recurrent policy is re-evaluated on the whole rollout in sequence order, with the stored
  sequence-start states and the episode ends (`OnPolicyAgent.sequence_inputs`), for the surrogate,
  the KL and the line search alike.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from rlblocks.agents.torch import tags
from rlblocks.agents.torch.functional import trust_region
from rlblocks.agents.torch.functional.trust_region import LineSearchResult, Trial
from rlblocks.agents.torch.on_policy.agent import OnPolicyAgent, Rollout
from rlblocks.agents.torch.parts import OptimisationStep
from rlblocks.agents.torch.trpo.config import TRPOConfig


class TRPO(OnPolicyAgent):
    """Trust Region Policy Optimization.

    Models: "policy" (a Gaussian, MultivariateGaussian or Categorical model: actions, log-prob, and
    its ``distribution``) and "value" (a Deterministic model: (N, 1) values), two separate objects.

    Attributes:
        value_optimisation: the `OptimisationStep` of the value function (Adam with
            ``value_learning_rate``); also ``value_optimizer`` and ``value_scheduler`` as in skrl.
        policy_parameters: the policy's trained parameters, in the order of the flat vectors.
        last_line_search: the `LineSearchResult` of the latest policy step (None before any).

    Raises (at construction):
        ValueError: no "policy" model, a memory without a "value" model, or one model in both roles.
        KeyError: an unknown config key (the message names the nearest valid one).
    """

    CONFIG_CLASS: ClassVar[type[TRPOConfig]] = TRPOConfig
    SUPPORTS_DISTRIBUTED: ClassVar[bool] = False  # own update path (not averaged over torchrun ranks)

    def _setup(self) -> None:
        """Build the family's parts, then replace its optimizer by one over the value function alone.

        `OnPolicyAgent` builds a single Adam over policy and value with ``cfg.learning_rate`` (which
        `TRPOConfig` reads as ``value_learning_rate``). TRPO moves the policy by natural-gradient
        steps, never by an optimizer, so that Adam is swapped for one over the value's parameters
        and checkpointed as skrl names it ("value_optimizer", and "value_scheduler" if any).
        """
        super()._setup()
        if self.is_shared:
            raise ValueError(
                'TRPO needs separate "policy" and "value" models; got the same object in both roles. '
                "The natural-gradient step would also move the value's shared layers; use two models."
            )
        for name in ("optimizer", "scheduler"):
            self.checkpoint_modules.pop(name, None)
        cfg = self.cfg
        self.policy_parameters = [
            parameter for parameter in self.policy.parameters() if parameter.requires_grad
        ]
        self.value_optimisation = self.value_optimizer = self.value_scheduler = None
        if self.value is not None:
            self.value_optimisation = OptimisationStep(
                self.value.parameters(),
                cfg.value_learning_rate,
                cfg.grad_norm_clip,
                cfg.learning_rate_scheduler,
                cfg.learning_rate_scheduler_kwargs,
                guard=self.non_finite,
                name="value_optimizer",
            )
            self.value_optimisation.register(self, "value_optimizer", "value_scheduler")
            self.value_optimizer = self.value_optimisation.optimizer
            self.value_scheduler = self.value_optimisation.scheduler
        # the family's names, for code that reads them (the only optimizer TRPO has)
        self.optimisation, self.optimizer, self.scheduler = (
            self.value_optimisation,
            self.value_optimizer,
            self.value_scheduler,
        )
        self.last_line_search: LineSearchResult | None = None

    # ---------------------------------------------------------------- learning
    def _update(self, timestep: int, timesteps: int) -> None:
        rollout = self.rollout_with_advantages()
        # a recurrent policy's Fisher-vector products differentiate twice through the RNN, which
        # cuDNN's RNN kernels do not support
        with torch.backends.cudnn.flags(enabled=self.recurrent is None):
            objective, line_search = self._policy_step(rollout)
        value_loss = self._value_steps(rollout)
        self._track(objective, line_search, value_loss)

    def _policy_step(self, rollout: Rollout) -> tuple[torch.Tensor, LineSearchResult]:
        """One natural-gradient step of the policy on the whole rollout (TRPO, appendix C).

        Returns:
            The surrogate at the old parameters (0-d) and the line search's result; the policy
            holds the accepted parameters, or its old ones when no step was accepted.
        """
        cfg, parameters = self.cfg, self.policy_parameters
        objective = self._surrogate(rollout)
        # one forward pass serves both: the surrogate's gradient and the KL's (π_old is π, detached)
        distribution = self.policy.distribution(role="policy")
        old_distribution = self._detached(distribution)
        gradient = trust_region.flat_gradient(objective, parameters, retain_graph=True)
        kl = trust_region.mean_kl(old_distribution, distribution)
        fisher_product = trust_region.fisher_vector_product(kl, parameters, cfg.damping)
        search_direction = trust_region.conjugate_gradient(
            fisher_product, gradient, cfg.conjugate_gradient_steps
        )
        full_step = trust_region.max_kl_step(
            search_direction, fisher_product(search_direction), cfg.max_kl_divergence
        )
        old_parameters = trust_region.flat_parameters(parameters)

        def evaluate(candidate: torch.Tensor) -> Trial:
            trust_region.set_flat_parameters(candidate, parameters)
            with torch.no_grad():
                new_objective = self._surrogate(rollout)
                return Trial(
                    new_objective,
                    trust_region.mean_kl(old_distribution, self.policy.distribution(role="policy")),
                )

        result = trust_region.backtracking_line_search(
            evaluate,
            old_parameters,
            full_step,
            objective.detach(),
            gradient @ full_step,
            cfg.max_kl_divergence,
            cfg.accept_ratio,
            cfg.step_fraction,
            cfg.max_backtrack_steps,
        )
        trust_region.set_flat_parameters(result.parameters, parameters)
        self.last_line_search = result
        return objective.detach(), result

    def _surrogate(self, rollout: Rollout) -> torch.Tensor:
        """E[A·π(a|s)/π_old(a|s)] over ``rollout`` (0-d; maximised), π at the current parameters."""
        log_prob = self.taken_action_log_prob(rollout)
        return (rollout.advantages * torch.exp(log_prob - rollout.log_prob)).mean()

    @staticmethod
    def _detached(distribution: torch.distributions.Distribution) -> torch.distributions.Distribution:
        """A copy of ``distribution`` whose parameters carry no gradient (π_old)."""
        if isinstance(distribution, torch.distributions.Categorical):
            return torch.distributions.Categorical(logits=distribution.logits.detach(), validate_args=False)
        if isinstance(distribution, torch.distributions.MultivariateNormal):
            return torch.distributions.MultivariateNormal(
                distribution.loc.detach(), scale_tril=distribution.scale_tril.detach(), validate_args=False
            )
        if isinstance(distribution, torch.distributions.Normal):
            return torch.distributions.Normal(
                distribution.loc.detach(), distribution.scale.detach(), validate_args=False
            )
        raise TypeError(
            f"TRPO needs a Gaussian, MultivariateGaussian or Categorical policy; its distribution is "
            f"{type(distribution).__name__}"
        )

    def _value_steps(self, rollout: Rollout) -> torch.Tensor:
        """``learning_epochs`` x ``mini_batches`` Adam steps on the value loss; their mean loss (0-d)."""
        cfg = self.cfg
        total = torch.zeros((), device=rollout.states.device)
        num_batches = 0
        for _ in range(cfg.learning_epochs):
            for batch in self.minibatches(rollout, cfg.mini_batches):
                loss = cfg.value_loss_scale * torch.nn.functional.mse_loss(
                    batch.returns, self.predicted_values(batch)
                )
                self.value_optimisation(loss)
                total += loss.detach()
                num_batches += 1
            self.value_optimisation.step_scheduler()
        return total / max(num_batches, 1)

    def _track(
        self, objective: torch.Tensor, line_search: LineSearchResult, value_loss: torch.Tensor
    ) -> None:
        """Track the policy and value losses, the step's KL, the policy's std and the value learning rate."""
        if not self.is_logging:
            return
        self.track_data(tags.POLICY_LOSS, -objective)
        self.track_data(tags.VALUE_LOSS, value_loss)
        if line_search.trial is not None:
            self.track_data(tags.KL_DIVERGENCE, line_search.trial.kl)
        distribution = self.policy.distribution(role="policy")
        if isinstance(distribution, (torch.distributions.Normal, torch.distributions.MultivariateNormal)):
            self.track_data(tags.POLICY_STD, distribution.stddev.mean())
        self.track_data(tags.VALUE_LEARNING_RATE, self.value_optimisation.learning_rate)
