"""`GaussianMixin`: a diagonal Gaussian policy, `compute` returning ``(mean, log_std, outputs)``.

Differs from skrl 0.10: `get_log_std` is (N, A) whether the log-std is a parameter (A,) or
state-dependent (N, A); `get_entropy`/`distribution` of a role that never acted fall back to the
latest call instead of None; clip bounds are buffers (they follow ``.to()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.distributions import Normal

from rlblocks.models.torch import functional as F
from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.clipping import register_action_bounds
from rlblocks.models.torch.roles import role_table


@dataclass(frozen=True)
class GaussianSettings:
    """What `GaussianMixin.__init__` registers for one role."""

    clip_actions: bool
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: F.Reduction


@dataclass(frozen=True)
class GaussianState:
    """The last `act` of one role: mean (N, A) and clamped log-std, (A,) or (N, A)."""

    mean: torch.Tensor
    log_std: torch.Tensor


class GaussianMixin:
    """Diagonal Gaussian policy: actions ~ N(mean, exp(log_std)²), reparameterised.

    `compute(inputs, role)` must return ``(mean (N, A), log_std (A,) or (N, A), outputs dict)``.
    `act` returns ``(actions (N, A), log_prob (N, 1) — (N, A) for reduction "none", outputs)`` with
    ``outputs["mean_actions"] = mean``. The log-prob is of ``inputs["taken_actions"]`` when given,
    else of the (clipped) sampled actions.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        """Register this role's settings.

        Args:
            clip_actions: clamp sampled actions to the Box action space's per-dimension bounds.
            clip_log_std: clamp the log-std to [min_log_std, max_log_std].
            min_log_std: lower log-std bound.
            max_log_std: upper log-std bound.
            reduction: how the per-dimension log-prob is reduced: "sum", "mean", "prod" or "none".
            role: the role these settings apply to ("" is the default role).

        Raises:
            ValueError: unknown reduction, or ``clip_actions`` with a non-Box action space.
        """
        settings = GaussianSettings(
            clip_actions=bool(clip_actions) and register_action_bounds(self, "GaussianMixin", clip_actions),
            clip_log_std=bool(clip_log_std),
            min_log_std=float(min_log_std),
            max_log_std=float(max_log_std),
            reduction=F.reduction_from_name(reduction),
        )
        role_table(self, "_g_roles").register(role, settings)

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample actions and their log-prob (see the class docstring for shapes)."""
        settings = self._g_roles.settings(role)
        actions, log_prob, state, outputs = gaussian_act(self, settings, inputs, role)
        self._g_roles.store(role, state)
        return actions, F.reduce_log_prob(log_prob, settings.reduction), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy (N, A) of the last distribution of ``role``; ``tensor(0.)`` before any `act`."""
        state = self._g_roles.state(role)
        if state is None:
            return torch.tensor(0.0, device=self.device)
        return F.gaussian_entropy(state.log_std).expand_as(state.mean)

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """The (clamped) log-std of the last `act` of ``role``, as (N, A).

        Raises:
            RuntimeError: the model has not acted yet.
        """
        return last_log_std(self._g_roles, role)

    def distribution(self, role: str = "") -> Normal | None:
        """The ``torch.distributions.Normal`` of the last `act` of ``role`` (None before any)."""
        state = self._g_roles.state(role)
        if state is None:
            return None
        return Normal(state.mean, torch.exp(state.log_std).expand_as(state.mean), validate_args=False)


def gaussian_act(
    model: Any, settings: GaussianSettings, inputs: Inputs, role: str
) -> tuple[torch.Tensor, torch.Tensor, GaussianState, dict[str, Any]]:
    """What both Gaussian mixins do in `act`, before reducing the log-prob.

    Returns:
        (actions (N, A), per-dimension log-prob (N, A) of the taken or sampled actions, the state to
        store for ``role``, the outputs with "mean_actions").
    """
    mean, log_std, outputs = model._checked_compute(inputs, role)
    if settings.clip_log_std:
        log_std = torch.clamp(log_std, settings.min_log_std, settings.max_log_std)
    actions = mean + torch.exp(log_std) * torch.randn_like(mean)
    if settings.clip_actions:
        actions = torch.clamp(actions, model.clip_actions_min, model.clip_actions_max)
    taken_actions = inputs.get("taken_actions")
    log_prob = F.gaussian_log_prob(actions if taken_actions is None else taken_actions, mean, log_std)
    outputs["mean_actions"] = mean
    return actions, log_prob, GaussianState(mean, log_std), outputs


def last_log_std(table: Any, role: str) -> torch.Tensor:
    """The (N, A) log-std of ``role``'s last Gaussian `act` (see `get_log_std`)."""
    state = table.require_state(role, "get_log_std")
    return state.log_std.expand_as(state.mean)
