"""The model classes the factories return, each built from its spec.

Every model's ``net`` is `rlblocks.models.torch.networks.mlp` (Linear layers at even indices), fed
by a `NetworkInput`; ``spec`` keeps what the model was built from.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rlblocks.models.torch import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultivariateGaussianMixin,
)
from rlblocks.models.torch.base import Inputs
from rlblocks.models.torch.networks import mlp
from rlblocks.models.torch.recurrent import RecurrentLayer
from rlblocks.utils.model_instantiators.shapes import NetworkInput, num_units
from rlblocks.utils.model_instantiators.spec import CategoricalSpec, DeterministicSpec, GaussianSpec, MLPSpec


class _MLPModel(Model):
    """What every instantiated model shares: ``net``, its input and output scale, ``rnn``, ``encoder``.

    An optional convolutional ``encoder`` of image states (`ConvEncoder`) is applied first.

    With a recurrent layer (``network.rnn``) the model follows the agents' recurrent contract: its
    specification declares the states, ``inputs["rnn"]`` feeds the layer and the next states are
    returned in ``outputs["rnn"]`` (see `rlblocks.models.torch.recurrent`).
    """

    def _build(self, network: MLPSpec) -> None:
        self.encoder = None if network.encoder is None else network.encoder.build(self.observation_space)
        encoder_units = None if self.encoder is None else self.encoder.output_features
        self.network_input = NetworkInput.of(self, network.input_shape, encoder_units)
        self.input_shape = self.network_input.shape
        self.output_units = num_units(self, network.output_shape)
        self.output_scale = network.output_scale
        units = self.network_input.units
        self.rnn = None
        if network.rnn is not None:
            rnn = network.rnn
            self.rnn = RecurrentLayer(rnn.type, units, rnn.hidden_size, rnn.num_layers, rnn.sequence_length)
            units = rnn.hidden_size
        self.net = mlp(
            units, network.hiddens, network.hidden_activation, self.output_units, network.output_activation
        )

    def get_specification(self) -> dict[str, Any]:
        """The recurrent layer's ``{"rnn": ...}`` specification, or {} without one."""
        return {} if self.rnn is None else self.rnn.specification()

    def _output(self, inputs: Inputs) -> tuple[torch.Tensor, dict[str, Any]]:
        """``output_scale · net(input)`` and the outputs ({"rnn": next states} with a recurrent layer)."""
        features, outputs = self.network_input(self, inputs, self.encoder), {}
        if self.rnn is not None:
            features, states = self.rnn(features, inputs["rnn"], inputs.get("terminated"))
            outputs = {"rnn": states}
        output = self.net(features)
        return (output if self.output_scale == 1.0 else output * self.output_scale), outputs


class _GaussianMLPModel(_MLPModel):
    """Both Gaussian models' parts: the mean from ``net``, a state-independent ``log_std_parameter``."""

    def _build_gaussian(self, spec: GaussianSpec) -> None:
        self.spec = spec
        self._build(spec.network)
        self.log_std_parameter = nn.Parameter(torch.full((self.output_units,), float(spec.initial_log_std)))

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
        """``(mean (N, A), log_std (A,), outputs)``."""
        mean, outputs = self._output(inputs)
        return mean, self.log_std_parameter, outputs


class GaussianModel(GaussianMixin, _GaussianMLPModel):
    """A diagonal Gaussian policy: mean = ``output_scale · net(input)``, log-std a learned (A,) parameter."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, spec: GaussianSpec) -> None:
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(
            self, spec.clip_actions, spec.clip_log_std, spec.min_log_std, spec.max_log_std, spec.reduction
        )
        self._build_gaussian(spec)


class MultivariateGaussianModel(MultivariateGaussianMixin, _GaussianMLPModel):
    """A Gaussian policy with a joint log-prob; same network as `GaussianModel`."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, spec: GaussianSpec) -> None:
        """Build the model (see `GaussianModel`).

        Raises:
            ValueError: ``spec.reduction`` is not "sum" (the joint log-prob sums the dimensions).
        """
        if spec.reduction != "sum":
            raise ValueError(
                f'a multivariate Gaussian log-prob is the joint one (reduction "sum"), got '
                f"reduction={spec.reduction!r}; use GaussianModel for another reduction"
            )
        Model.__init__(self, observation_space, action_space, device)
        MultivariateGaussianMixin.__init__(
            self, spec.clip_actions, spec.clip_log_std, spec.min_log_std, spec.max_log_std
        )
        self._build_gaussian(spec)


class DeterministicModel(DeterministicMixin, _MLPModel):
    """A value, critic, Q-network or deterministic actor: ``output_scale · net(input)``."""

    def __init__(
        self, observation_space: Any, action_space: Any, device: Any, spec: DeterministicSpec
    ) -> None:
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions=spec.clip_actions)
        self.spec = spec
        self._build(spec.network)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        """``(output (N, units), outputs)``."""
        return self._output(inputs)


class CategoricalModel(CategoricalMixin, _MLPModel):
    """A categorical policy: ``net`` gives logits (or probabilities)."""

    def __init__(self, observation_space: Any, action_space: Any, device: Any, spec: CategoricalSpec) -> None:
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob=spec.unnormalized_log_prob)
        self.spec = spec
        self._build(spec.network)

    def compute(self, inputs: Inputs, role: str = "") -> tuple[torch.Tensor, dict[str, Any]]:
        """``(logits or probabilities (N, n), outputs)``."""
        return self._output(inputs)
