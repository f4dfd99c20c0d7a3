"""`TRPOConfig`: the typed config behind `TRPO_DEFAULT_CONFIG` (skrl 0.10's keys and defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from rlblocks.agents.torch.on_policy.config import OnPolicyConfig
from rlblocks.utils.config import check_non_negative, check_positive, check_range


@dataclass(kw_only=True)
class TRPOConfig(OnPolicyConfig):
    """TRPO hyperparameters: the on-policy keys, the value optimizer's, and the trust region's.

    ``mini_batches``, ``learning_rate_scheduler`` and ``grad_norm_clip`` apply to the value function
    only; the policy step uses the whole rollout.
    """

    KIND = "TRPO"

    learning_epochs: int = 8
    """Passes over the rollout per update of the value function."""
    value_learning_rate: float = 1e-3
    """Adam learning rate of the value function (the policy takes natural-gradient steps)."""
    value_loss_scale: float = 1.0
    """Value loss coefficient."""
    damping: float = 0.1
    """Multiple of the identity added to the Fisher matrix (conditions the conjugate gradient)."""
    max_kl_divergence: float = 0.01
    """δ: the bound on the mean KL(π_old ‖ π_new) of a policy step."""
    conjugate_gradient_steps: int = 10
    """Conjugate-gradient iterations solving F·x = g."""
    max_backtrack_steps: int = 10
    """Step sizes the line search tries (each half the previous) before keeping the old policy."""
    accept_ratio: float = 0.5
    """Fraction of the linearly predicted improvement a step must reach to be accepted."""
    step_fraction: float = 1.0
    """The line search's first step size, as a fraction in (0, 1] of the maximal (KL = δ) step."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("learning_epochs", "max_backtrack_steps", "value_learning_rate", "max_kl_divergence"):
            check_positive(name, getattr(self, name))
        # beyond 1 the first step would leave the trust region
        check_range("step_fraction", self.step_fraction, 0.0, 1.0, strict_low=True)
        for name in ("value_loss_scale", "damping", "conjugate_gradient_steps", "accept_ratio"):
            check_non_negative(name, getattr(self, name))

    @property
    def learning_rate(self) -> float:
        """The value optimizer's learning rate, read by `OnPolicyAgent`'s optimizer (not a public key)."""
        return self.value_learning_rate


TRPO_DEFAULT_CONFIG = TRPOConfig.defaults()
"""skrl's public dict of TRPO defaults, derived from `TRPOConfig` so the two cannot drift."""
