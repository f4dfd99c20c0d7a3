"""Typed specs of the instantiated models: the network (`MLPSpec`) and each kind's settings.

Every default of the factory functions is written here, once: ``gaussian_model`` takes its
defaults from `GAUSSIAN`, ``deterministic_model`` from `DETERMINISTIC`, ``categorical_model`` from
`CATEGORICAL`. A spec is checked when it is made, before any model exists, and converts to and from
the factories' flat keyword arguments (`ModelSpec.arguments`, `ModelSpec.with_arguments`), which is
how ``shared_model``'s parameter dicts and the CLI's YAML descriptions are written.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from rlblocks.models.torch import functional as F
from rlblocks.models.torch.networks import check_activation, hidden_activations
from rlblocks.models.torch.recurrent import RECURRENT_LAYERS
from rlblocks.utils.model_instantiators.encoders import EncoderSpec
from rlblocks.utils.model_instantiators.shapes import Shape, ShapeLike, as_input_shape, as_shape
from rlblocks.utils.suggest import did_you_mean

if TYPE_CHECKING:
    from typing_extensions import Self


def _set(spec: Any, name: str, value: Any) -> None:
    object.__setattr__(spec, name, value)  # normalising a frozen dataclass's field in __post_init__


def _layer_sizes(hiddens: Any) -> tuple[int, ...]:
    try:
        sizes = None if isinstance(hiddens, str) else tuple(operator.index(size) for size in hiddens)
    except TypeError:
        sizes = None
    if sizes is None or any(size <= 0 for size in sizes):
        raise ValueError(f"hiddens must be a list of positive layer sizes, e.g. [256, 256], got {hiddens!r}")
    return sizes


@dataclass(frozen=True)
class RNNSpec:
    """A recurrent layer before the MLP, e.g. ``{type: lstm, hidden_size: 64, sequence_length: 16}``.

    The model then follows the agents' recurrent contract (`rlblocks.models.torch.recurrent`): the
    network's input goes through the layer, whose output features feed the hidden layers.

    Raises:
        ValueError: an unknown type or a size that is not a positive int.
    """

    type: str = "lstm"
    """"lstm", "gru" or "rnn"."""
    hidden_size: int = 64
    """Features of the state and of the layer's output."""
    num_layers: int = 1
    """Stacked recurrent layers."""
    sequence_length: int = 16
    """Steps per training sequence (the agents read it from the policy)."""

    def __post_init__(self) -> None:
        _set(self, "type", str(self.type).lower())
        if self.type not in RECURRENT_LAYERS:
            raise ValueError(
                f"unknown rnn type {self.type!r}{did_you_mean(self.type, RECURRENT_LAYERS)}; "
                f"use one of {', '.join(RECURRENT_LAYERS)}"
            )
        for name in ("hidden_size", "num_layers", "sequence_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"rnn {name} must be a positive int, got {value!r}")

    @classmethod
    def of(cls, value: RNNSpec | Mapping[str, Any] | None) -> RNNSpec | None:
        """``value`` as a spec: None stays None, a mapping gives its keys.

        Raises:
            ValueError: an unknown key (the message names the nearest), or a bad value.
        """
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"rnn must be a mapping such as {{type: lstm, hidden_size: 64}}, got {value!r}")
        valid = [field.name for field in fields(cls)]
        for name in value:
            if name not in valid:
                raise ValueError(
                    f"unknown rnn key {name!r}{did_you_mean(name, valid)}; valid: {', '.join(valid)}"
                )
        return cls(**value)


@dataclass(frozen=True)
class MLPSpec:
    """An instantiated model's network: what it reads, its hidden layers, what it outputs.

    The fields follow the factories' argument order, so ``MLPSpec(input_shape, hiddens, ...)`` reads
    like their call. Shape names become `Shape` members and lists become tuples.

    Raises:
        ValueError: an unknown shape or activation, a number of units as ``input_shape``, a
            non-positive layer size, or a list of different hidden activations not one per layer.
    """

    input_shape: ShapeLike = Shape.STATES
    """What the network reads: STATES, ACTIONS, STATES_ACTIONS or ONE (a constant 1)."""
    hiddens: tuple[int, ...] = (256, 256)
    """Hidden layer sizes; () gives a linear model."""
    hidden_activation: str | tuple[str, ...] | None = ("relu", "relu")
    """One activation name per hidden layer, or one name (or a list repeating one) for all."""
    output_shape: ShapeLike = Shape.ACTIONS
    """Output units: a `Shape` or a number."""
    output_activation: str | None = "tanh"
    """Activation of the output layer; None for none."""
    output_scale: float = 1.0
    """Factor applied to the output, e.g. the action bound after a tanh."""
    rnn: RNNSpec | Mapping[str, Any] | None = None
    """A recurrent layer between the input and the hidden layers (`RNNSpec`); None for none."""
    encoder: EncoderSpec | Mapping[str, Any] | Sequence[Any] | str | None = None
    """A convolutional encoder of image states before everything else (`EncoderSpec`); None for none."""

    def __post_init__(self) -> None:
        _set(self, "rnn", RNNSpec.of(self.rnn))
        _set(self, "encoder", EncoderSpec.of(self.encoder))
        _set(self, "input_shape", as_input_shape(self.input_shape))
        _set(self, "output_shape", as_shape(self.output_shape))
        _set(self, "hiddens", _layer_sizes(self.hiddens))
        if not (self.hidden_activation is None or isinstance(self.hidden_activation, str)):
            _set(self, "hidden_activation", tuple(self.hidden_activation))
        for name in [*hidden_activations(self.hiddens, self.hidden_activation), self.output_activation]:
            check_activation(name)
        _set(self, "output_scale", float(self.output_scale))


@dataclass(frozen=True)
class ModelSpec:
    """A network and one model kind's settings (the subclasses add the settings)."""

    network: MLPSpec = MLPSpec()
    """The model's network."""

    def arguments(self) -> dict[str, Any]:
        """The factory keyword arguments this spec stands for: the kind's settings, then the network's."""
        settings = {
            field.name: getattr(self, field.name) for field in fields(self) if field.name != "network"
        }
        return {**settings, **{field.name: getattr(self.network, field.name) for field in fields(MLPSpec)}}

    def with_arguments(self, arguments: Mapping[str, Any], what: str = "argument") -> Self:
        """A copy with the given factory keyword arguments replaced.

        ``default.with_arguments(spec.arguments()) == spec`` for any spec of this kind.

        Args:
            arguments: the kind's factory's keyword arguments, e.g. ``{"hiddens": [64]}``.
            what: how the error message calls an argument ("policy parameter", ...).

        Raises:
            ValueError: an unknown argument (the message names the nearest and every valid one), or a
                bad value (see the spec classes).
        """
        network_names = [field.name for field in fields(MLPSpec)]
        valid = [name for name in self.arguments() if name not in network_names] + network_names
        for name in arguments:
            if name not in valid:
                raise ValueError(
                    f"unknown {what} {name!r}{did_you_mean(name, valid)}; valid: {', '.join(valid)}"
                )
        network = replace(self.network, **{k: v for k, v in arguments.items() if k in network_names})
        settings = {k: v for k, v in arguments.items() if k not in network_names}
        return replace(self, network=network, **settings)


@dataclass(frozen=True)
class GaussianSpec(ModelSpec):
    """The settings of a Gaussian policy (`GaussianMixin`'s, plus the initial log-std).

    Raises:
        ValueError: an unknown reduction.
    """

    clip_actions: bool = False
    """Clamp sampled actions to the Box action space's bounds."""
    clip_log_std: bool = True
    """Clamp the log-std to [min_log_std, max_log_std]."""
    min_log_std: float = -20
    """Lower log-std bound."""
    max_log_std: float = 2
    """Upper log-std bound."""
    reduction: str = "sum"
    """How the per-dimension log-prob is reduced: "sum", "mean", "prod" or "none" (a multivariate
    Gaussian's joint log-prob is the "sum")."""
    initial_log_std: float = 0.0
    """Initial value of every log-std entry."""

    def __post_init__(self) -> None:
        F.reduction_from_name(self.reduction)


@dataclass(frozen=True)
class DeterministicSpec(ModelSpec):
    """The settings of a deterministic model (actor, value, critic, Q-network)."""

    clip_actions: bool = False
    """Clamp the output to the Box action space's bounds."""


@dataclass(frozen=True)
class CategoricalSpec(ModelSpec):
    """The settings of a categorical policy; its network gives logits by default.

    Raises:
        ValueError: probabilities (``unnormalized_log_prob=False``) without a softmax output.
    """

    network: MLPSpec = MLPSpec(output_activation=None)
    """The model's network (no output activation: logits)."""
    unnormalized_log_prob: bool = True
    """The network gives logits (True) or probabilities (False, which needs a softmax output)."""

    def __post_init__(self) -> None:
        output_activation = self.network.output_activation
        if not self.unnormalized_log_prob and str(output_activation or "").lower() != "softmax":
            raise ValueError(
                "categorical_model(unnormalized_log_prob=False) reads the network's outputs as "
                f"probabilities, but output_activation={output_activation!r} does not make "
                'them so; pass output_activation="softmax", or keep unnormalized_log_prob=True (logits)'
            )


GAUSSIAN = GaussianSpec()
"""The defaults of ``gaussian_model`` and ``multivariate_gaussian_model``."""
DETERMINISTIC = DeterministicSpec()
"""The defaults of ``deterministic_model``."""
CATEGORICAL = CategoricalSpec()
"""The defaults of ``categorical_model``."""
