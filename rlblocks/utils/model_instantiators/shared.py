"""`shared_model`: a Gaussian policy and a deterministic value on one MLP trunk (e.g. for PPO).

The trunk ``net`` is every hidden layer of the policy's network; ``mean_net`` and ``value_net`` are
one Linear (and an optional activation) each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from rlblocks.models.torch import DeterministicMixin, GaussianMixin, Model
from rlblocks.models.torch.base import ActOutput, Inputs
from rlblocks.models.torch.networks import mlp
from rlblocks.utils import spaces
from rlblocks.utils.model_instantiators.shapes import NetworkInput, Shape, num_units
from rlblocks.utils.model_instantiators.spec import DETERMINISTIC, GAUSSIAN, DeterministicSpec, GaussianSpec
from rlblocks.utils.suggest import did_you_mean

SHARED_VALUE = replace(
    DETERMINISTIC, network=replace(DETERMINISTIC.network, output_shape=Shape.ONE, output_activation=None)
)
"""The defaults of ``shared_model``'s value: one output unit, no output activation."""


class GaussianDeterministicModel(GaussianMixin, DeterministicMixin, Model):
    """A Gaussian policy and a deterministic value sharing one trunk (``net``), with two heads.

    ``act(inputs, role)`` dispatches on the role: ``roles[0]`` is the policy (``mean_net`` and
    ``log_std_parameter``), ``roles[1]`` the value (``value_net``).
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        device: Any,
        roles: Sequence[str],
        policy: GaussianSpec = GAUSSIAN,
        value: DeterministicSpec = SHARED_VALUE,
    ) -> None:
        """Build the trunk from ``policy.network``'s input and hidden layers, then the two heads.

        Raises:
            ValueError: the two networks' ``hiddens`` differ, or there is no hidden layer to share.
        """
        Model.__init__(self, observation_space, action_space, device)
        self.policy_role, self.value_role = roles[0], roles[1]
        GaussianMixin.__init__(
            self,
            policy.clip_actions,
            policy.clip_log_std,
            policy.min_log_std,
            policy.max_log_std,
            policy.reduction,
            role=self.policy_role,
        )
        DeterministicMixin.__init__(self, clip_actions=value.clip_actions, role=self.value_role)
        trunk = policy.network
        if trunk.hiddens != value.network.hiddens:
            raise ValueError(
                f"shared_model: the two roles share one trunk, so their hiddens must be equal; got "
                f"{list(trunk.hiddens)} and {list(value.network.hiddens)}"
            )
        if not trunk.hiddens:
            raise ValueError("shared_model needs at least one hidden layer to share, got hiddens=[]")
        self.policy_spec, self.value_spec = policy, value
        self.network_input = NetworkInput.of(self, trunk.input_shape)
        self.input_shape = self.network_input.shape
        self.net = mlp(self.network_input.units, trunk.hiddens, trunk.hidden_activation, None)
        self.mean_net = self._head(policy)
        self.value_net = self._head(value)
        self.log_std_parameter = nn.Parameter(
            torch.full((num_units(self, trunk.output_shape),), float(policy.initial_log_std))
        )
        self.policy_scale = trunk.output_scale
        self.value_scale = value.network.output_scale

    def _head(self, spec: GaussianSpec | DeterministicSpec) -> nn.Sequential:
        width = spec.network.hiddens[-1]
        return mlp(
            width, [], None, num_units(self, spec.network.output_shape), spec.network.output_activation
        )

    def act(self, inputs: Inputs, role: str = "") -> ActOutput:
        """The policy's `act` for ``roles[0]``, the value's for ``roles[1]``.

        Raises:
            ValueError: any other role.
        """
        if role == self.policy_role:
            return GaussianMixin.act(self, inputs, role)
        if role == self.value_role:
            return DeterministicMixin.act(self, inputs, role)
        raise ValueError(
            f"shared_model has the roles {[self.policy_role, self.value_role]}, got role={role!r}"
            f"{did_you_mean(role, [self.policy_role, self.value_role])}; pass one of them to act()"
        )

    def compute(self, inputs: Inputs, role: str = "") -> tuple[Any, ...]:
        """Policy: ``(mean, log_std, {})``; value: ``(value (N, 1), {})``."""
        features = self.net(self.network_input(self, inputs))
        if role == self.policy_role:
            return self.mean_net(features) * self.policy_scale, self.log_std_parameter, {}
        return self.value_net(features) * self.value_scale, {}


def shared_model(
    observation_space: spaces.SpaceLike | None = None,
    action_space: spaces.SpaceLike | None = None,
    device: str | torch.device | None = None,
    structure: str = "",
    roles: Sequence[str] = [],
    parameters: Sequence[Mapping[str, Any]] = [],
) -> GaussianDeterministicModel:
    """A Gaussian policy and a deterministic value sharing one MLP trunk (e.g. for PPO).

    Args:
        observation_space: observation space (or its size).
        action_space: action space (or its size).
        device: where the model computes.
        structure: ignored (skrl 0.10 accepts it; the structure is always Gaussian + Deterministic).
        roles: the policy's role and the value's role, e.g. ``["policy", "value"]``.
        parameters: two dicts of `gaussian_model` / `deterministic_model` arguments (the value's
            defaults to ``output_shape=Shape.ONE``, no output activation); the trunk is built from
            the first one's ``input_shape``, ``hiddens`` and ``hidden_activation``.

    Raises:
        ValueError: not two roles or two parameter dicts, different ``hiddens``, or an unknown
            parameter.
    """
    if len(roles) != 2 or len(parameters) != 2:
        raise ValueError(
            f"shared_model needs two roles and two parameter dicts (policy first, then value); got "
            f"roles={list(roles)} and {len(parameters)} parameter dicts"
        )
    policy = GAUSSIAN.with_arguments(parameters[0], what="shared_model policy parameter")
    value = SHARED_VALUE.with_arguments(parameters[1], what="shared_model value parameter")
    return GaussianDeterministicModel(observation_space, action_space, device, roles, policy, value)
