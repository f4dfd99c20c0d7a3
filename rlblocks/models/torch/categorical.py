"""`CategoricalMixin`: a policy over a Discrete action space, `compute` returning ``(net_output, outputs)``.

Differs from skrl 0.10: `get_entropy` exists (skrl 0.10 lacks it, so PPO with an entropy bonus
crashes there); probabilities (``unnormalized_log_prob=False``) are validated on the device
(`ProbabilityCheck`: a ValueError for negative, NaN or infinite values or a zero row) and normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Categorical

from rlblocks.models.torch import functional as F
from rlblocks.models.torch.base import ActOutput, Inputs, check_taken_actions
from rlblocks.models.torch.probabilities import ProbabilityCheck
from rlblocks.models.torch.roles import role_table


@dataclass(frozen=True)
class CategoricalState:
    """The last `act` of one role: normalised log-probabilities (N, n)."""

    log_probs: torch.Tensor


class CategoricalMixin:
    """Categorical policy: `act` gives (actions (N, 1) int64, log_prob (N, 1), outputs).

    `compute(inputs, role)` returns ``(net_output (N, n), outputs)``: logits when
    ``unnormalized_log_prob`` (the default), else probabilities. ``outputs["net_output"]`` holds it.
    The log-prob is of ``inputs["taken_actions"]`` (any shape with N elements) when given; those
    actions are then returned as (N, 1) int64 instead of a new sample.
    """

    def __init__(self, unnormalized_log_prob: bool = True, role: str = "") -> None:
        """Register this role's settings.

        Args:
            unnormalized_log_prob: `compute` returns logits (True) or probabilities (False).
            role: the role these settings apply to ("" is the default role).
        """
        role_table(self, "_c_roles").register(role, bool(unnormalized_log_prob))

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample actions and their log-prob (see the class docstring)."""
        unnormalized_log_prob = self._c_roles.settings(role)
        net_output, outputs = self._checked_compute(inputs, role, ("logits",))
        if not unnormalized_log_prob:
            probability_check(self)(net_output, self, role)
        log_probs = F.categorical_log_probs(net_output, unnormalized_log_prob)
        taken_actions = inputs.get("taken_actions")
        if taken_actions is None:
            actions = F.sample_categorical(log_probs)
        else:  # re-evaluating taken actions (an update): no sample is drawn
            check_taken_actions(self, taken_actions, (*log_probs.shape[:-1], 1))
            actions = taken_actions.reshape(*log_probs.shape[:-1], 1).long()
        log_prob = log_probs.gather(-1, actions)
        self._c_roles.store(role, CategoricalState(log_probs))
        outputs["net_output"] = net_output
        return actions, log_prob, outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy (N,) of the last distribution of ``role``; ``tensor(0.)`` before any `act`."""
        state = self._c_roles.state(role)
        if state is None:
            return torch.tensor(0.0, device=self.device)
        return F.categorical_entropy(state.log_probs)

    def distribution(self, role: str = "") -> Categorical | None:
        """The ``torch.distributions.Categorical`` of the last `act` of ``role`` (None before any)."""
        state = self._c_roles.state(role)
        if state is None:
            return None
        return Categorical(logits=state.log_probs, validate_args=False)


def probability_check(model: object) -> ProbabilityCheck:
    """The model's `ProbabilityCheck` (made at its first use)."""
    check = model.__dict__.get("_probability_check")
    if check is None:
        check = model.__dict__["_probability_check"] = ProbabilityCheck()
    return check
