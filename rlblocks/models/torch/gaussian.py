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
from rlblocks.models.torch.base import ActOutput, Inputs, check_taken_actions
from rlblocks.models.torch.clipping import register_action_bounds
from rlblocks.models.torch.roles import RoleTable, role_table


@dataclass(frozen=True)
class GaussianSettings:
    """What a Gaussian mixin's ``__init__`` registers for one role."""

    clip_actions: bool
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: F.Reduction


def register_gaussian_role(
    model: Any,
    table: str,
    mixin: str,
    role: str,
    clip_actions: bool,
    clip_log_std: bool,
    min_log_std: float,
    max_log_std: float,
    reduction: str,
) -> None:
    """Register ``role``'s `GaussianSettings` in ``model``'s role table ``table`` (see `GaussianMixin`).

    Raises:
        ValueError: ``clip_actions`` with a non-Box action space (the message names ``mixin``), or an
            unknown reduction.
    """
    settings = GaussianSettings(
        clip_actions=bool(clip_actions) and register_action_bounds(model, mixin, clip_actions),
        clip_log_std=bool(clip_log_std),
        min_log_std=float(min_log_std),
        max_log_std=float(max_log_std),
        reduction=F.reduction_from_name(reduction),
    )
    role_table(model, table).register(role, settings)


@dataclass(frozen=True)
class GaussianState:
    """The last `act` of one role: mean (N, A) and clamped log-std, (A,) or (N, A)."""

    mean: torch.Tensor
    log_std: torch.Tensor

    def std(self) -> torch.Tensor:
        """The standard deviation, (N, A)."""
        return torch.exp(self.log_std).expand_as(self.mean)


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
        register_gaussian_role(
            self,
            "_g_roles",
            "GaussianMixin",
            role,
            clip_actions,
            clip_log_std,
            min_log_std,
            max_log_std,
            reduction,
        )

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample actions and their log-prob (see the class docstring for shapes)."""
        return gaussian_act(self, self._g_roles, inputs, role)

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy (N, A) of the last distribution of ``role``; ``tensor(0.)`` before any `act`."""
        return last_entropy(self, self._g_roles, role, joint=False)

    def get_log_std(self, role: str = "") -> torch.Tensor:
        """The (clamped) log-std of the last `act` of ``role``, as (N, A).

        Raises:
            RuntimeError: the model has not acted yet.
        """
        return last_log_std(self._g_roles, role)

    def distribution(self, role: str = "") -> Normal | None:
        """The ``torch.distributions.Normal`` of the last `act` of ``role`` (None before any)."""
        state = self._g_roles.state(role)
        return None if state is None else Normal(state.mean, state.std(), validate_args=False)


def gaussian_act(model: Any, table: RoleTable, inputs: Inputs, role: str) -> ActOutput:
    """What both Gaussian mixins do in `act`; the state for ``role`` is stored in ``table``.

    Returns:
        (actions (N, A), log-prob of the taken or sampled actions, reduced with the role's
        reduction, the outputs with "mean_actions").
    """
    settings = table.settings(role)
    mean, log_std, outputs = model._checked_compute(inputs, role, ("mean", "log_std"))
    if settings.clip_log_std:
        log_std = torch.clamp(log_std, settings.min_log_std, settings.max_log_std)
    actions = mean + torch.exp(log_std) * torch.randn_like(mean)
    if settings.clip_actions:
        actions = torch.clamp(actions, model.clip_actions_min, model.clip_actions_max)
    taken_actions = inputs.get("taken_actions")
    if taken_actions is not None:
        check_taken_actions(model, taken_actions, tuple(mean.shape), rows=True)
    log_prob = F.gaussian_log_prob(actions if taken_actions is None else taken_actions, mean, log_std)
    outputs["mean_actions"] = mean
    table.store(role, GaussianState(mean, log_std))
    return actions, F.reduce_log_prob(log_prob, settings.reduction), outputs


def last_entropy(model: Any, table: RoleTable, role: str, joint: bool) -> torch.Tensor:
    """Entropy of ``role``'s last Gaussian, (N, A) or (N,) if ``joint``; ``tensor(0.)`` before any `act`."""
    state = table.state(role)
    if state is None:
        return torch.tensor(0.0, device=model.device)
    entropy = F.gaussian_entropy(state.log_std).expand_as(state.mean)
    return entropy.sum(dim=-1) if joint else entropy


def last_log_std(table: RoleTable, role: str) -> torch.Tensor:
    """The (N, A) log-std of ``role``'s last Gaussian `act` (see `GaussianMixin.get_log_std`).

    Raises:
        RuntimeError: the model has not acted yet.
    """
    state = table.require_state(role, "get_log_std")
    return state.log_std.expand_as(state.mean)
