"""`MultiCategoricalMixin`: one categorical per component of a MultiDiscrete action space.

`compute` returns ``(net_output (N, sum(nvec)), outputs)``: the components' logits (or
probabilities) side by side, in the order of ``nvec``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Categorical

from rlblocks.models.torch import functional as F
from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.categorical import probability_check
from rlblocks.models.torch.roles import role_table
from rlblocks.utils import spaces


@dataclass(frozen=True)
class MultiCategoricalSettings:
    """What `MultiCategoricalMixin.__init__` registers for one role."""

    unnormalized_log_prob: bool
    reduction: F.Reduction


@dataclass(frozen=True)
class MultiCategoricalState:
    """The last `act` of one role: normalised log-probabilities of each component."""

    log_probs: tuple[torch.Tensor, ...]


class MultiCategoricalMixin:
    """Policy over MultiDiscrete actions: `act` gives (actions (N, k) int64, log_prob (N, 1), outputs).

    With reduction "none" the log-prob is (N, k), one column per component.
    ``outputs["net_output"]`` holds the raw network output.
    """

    def __init__(self, unnormalized_log_prob: bool = True, reduction: str = "sum", role: str = "") -> None:
        """Register this role's settings.

        Args:
            unnormalized_log_prob: `compute` returns logits (True) or probabilities (False).
            reduction: how the components' log-probs are combined: "sum", "mean", "prod" or "none".
            role: the role these settings apply to ("" is the default role).

        Raises:
            ValueError: unknown reduction, or an action space that is not MultiDiscrete or Discrete.
        """
        kind = spaces.space_kind(self.action_space)
        if kind == "multi_discrete":
            self._mc_sizes = [int(n) for n in self.action_space.nvec.reshape(-1)]
        elif kind == "discrete":
            self._mc_sizes = [int(self.action_space.n)]
        else:
            raise ValueError(
                f"MultiCategoricalMixin needs a MultiDiscrete action space, got {self.action_space}; "
                "use GaussianMixin for Box actions."
            )
        settings = MultiCategoricalSettings(bool(unnormalized_log_prob), F.reduction_from_name(reduction))
        role_table(self, "_mc_roles").register(role, settings)

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """Sample one action per component and the (reduced) log-prob."""
        settings = self._mc_roles.settings(role)
        net_output, outputs = self._checked_compute(inputs, role, ("logits",))
        if not settings.unnormalized_log_prob:
            check = probability_check(self)
            for chunk in torch.split(net_output, self._mc_sizes, dim=-1):
                check(chunk, self, role)
        log_probs = tuple(
            F.categorical_log_probs(chunk, settings.unnormalized_log_prob)
            for chunk in torch.split(net_output, self._mc_sizes, dim=-1)
        )
        actions = torch.cat([F.sample_categorical(component) for component in log_probs], dim=-1)
        taken_actions = inputs.get("taken_actions")
        index = actions if taken_actions is None else taken_actions.reshape(actions.shape).long()
        log_prob = torch.cat(
            [component.gather(-1, index[..., i : i + 1]) for i, component in enumerate(log_probs)], dim=-1
        )
        self._mc_roles.store(role, MultiCategoricalState(log_probs))
        outputs["net_output"] = net_output
        return actions, F.reduce_log_prob(log_prob, settings.reduction), outputs

    def get_entropy(self, role: str = "") -> torch.Tensor:
        """Entropy of the last distributions of ``role``: (N,) reduced over components, (N, k) for "none"."""
        state = self._mc_roles.state(role)
        if state is None:
            return torch.tensor(0.0, device=self.device)
        entropy = torch.stack([F.categorical_entropy(component) for component in state.log_probs], dim=-1)
        reduction = self._mc_roles.settings(role).reduction
        return entropy if reduction is None else reduction(entropy, dim=-1)

    def distribution(self, role: str = "") -> list[Categorical] | None:
        """One ``torch.distributions.Categorical`` per component from the last `act` of ``role``."""
        state = self._mc_roles.state(role)
        if state is None:
            return None
        return [Categorical(logits=component, validate_args=False) for component in state.log_probs]
