"""`MultivariateGaussianMixin`: a Gaussian policy whose log-prob is that of the joint action.

The covariance is diagonal, diag(σ²), so the joint log-density is the sum of the per-dimension
ones; `distribution` returns the matching ``MultivariateNormal``.

Differs from skrl 0.10: the scale is σ (skrl passes σ² as the Cholesky factor, so its effective
std is σ²), and a state-dependent (N, A) log-std works.
"""

from __future__ import annotations

import torch
from torch.distributions import MultivariateNormal

from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.gaussian import gaussian_act, last_entropy, last_log_std, register_gaussian_role


class MultivariateGaussianMixin:
    """Gaussian policy with a joint log-prob: `act` gives (actions (N, A), log_prob (N, 1), outputs).

    `compute(inputs, role)` returns ``(mean (N, A), log_std (A,) or (N, A), outputs)``;
    ``outputs["mean_actions"] = mean``.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        role: str = "",
    ) -> None:
        """Register this role's settings (same meaning as `GaussianMixin`'s, without reduction).

        Raises:
            ValueError: ``clip_actions`` with a non-Box action space.
        """
        register_gaussian_role(
            self,
            "_mg_roles",
            "MultivariateGaussianMixin",
            role,
            clip_actions,
            clip_log_std,
            min_log_std,
            max_log_std,
            reduction="sum",  # the joint density of independent dimensions
        )

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample actions and their joint log-prob (N, 1)."""
        return gaussian_act(self, self._mg_roles, inputs, role)

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Joint entropy (N,) of the last distribution of ``role``; ``tensor(0.)`` before any `act`."""
        return last_entropy(self, self._mg_roles, role, joint=True)

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """As `GaussianMixin.get_log_std`: the (N, A) clamped log-std of ``role``'s last `act`."""
        return last_log_std(self._mg_roles, role)

    def distribution(self, role: str = "") -> MultivariateNormal | None:
        """The ``MultivariateNormal`` (scale_tril = diag(σ)) of the last `act` of ``role``."""
        state = self._mg_roles.state(role)
        if state is None:
            return None
        return MultivariateNormal(state.mean, scale_tril=torch.diag_embed(state.std()), validate_args=False)
