"""`MultivariateGaussianMixin`: a Gaussian policy whose log-prob is that of the joint action.

The covariance is diagonal, diag(σ²), so the joint log-density is the sum of the per-dimension
ones; `distribution` returns the matching ``MultivariateNormal``.

Differs from skrl 0.10: the scale is σ (skrl passes σ² as the Cholesky factor, so its effective
std is σ²), and a state-dependent (N, A) log-std works.
"""

from __future__ import annotations

import torch
from torch.distributions import MultivariateNormal

from rlblocks.models.torch import functional as F
from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.clipping import register_action_bounds
from rlblocks.models.torch.gaussian import GaussianSettings, gaussian_act, last_log_std
from rlblocks.models.torch.roles import role_table


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
        settings = GaussianSettings(
            clip_actions=bool(clip_actions)
            and register_action_bounds(self, "MultivariateGaussianMixin", clip_actions),
            clip_log_std=bool(clip_log_std),
            min_log_std=float(min_log_std),
            max_log_std=float(max_log_std),
            reduction=torch.sum,  # the joint density of independent dimensions
        )
        role_table(self, "_mg_roles").register(role, settings)

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample actions and their joint log-prob (N, 1)."""
        actions, log_prob, state, outputs = gaussian_act(self, self._mg_roles.settings(role), inputs, role)
        self._mg_roles.store(role, state)
        return actions, log_prob.sum(dim=-1, keepdim=True), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Joint entropy (N,) of the last distribution of ``role``; ``tensor(0.)`` before any `act`."""
        state = self._mg_roles.state(role)
        if state is None:
            return torch.tensor(0.0, device=self.device)
        return F.gaussian_entropy(state.log_std).expand_as(state.mean).sum(dim=-1)

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """The (clamped) log-std of the last `act` of ``role``, as (N, A).

        Raises:
            RuntimeError: the model has not acted yet.
        """
        return last_log_std(self._mg_roles, role)

    def distribution(self, role: str = "") -> MultivariateNormal | None:
        """The ``MultivariateNormal`` (scale_tril = diag(σ)) of the last `act` of ``role``."""
        state = self._mg_roles.state(role)
        if state is None:
            return None
        scale = torch.exp(state.log_std).expand_as(state.mean)
        return MultivariateNormal(state.mean, scale_tril=torch.diag_embed(scale), validate_args=False)
