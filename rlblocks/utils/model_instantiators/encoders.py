"""`EncoderSpec`: the convolutional encoder an instantiated model puts before its MLP.

Written in three ways (the YAML of a CLI model description reads the same)::

    encoder={"type": "nature_cnn"}                                   # Mnih et al. (2015)
    encoder={"type": "conv", "layers": [[16, 3, 1], [32, 3, 2]], "features": 64}
    encoder=[{"conv": [32, 8, 4]}, {"conv": [64, 4, 2]}, {"conv": [64, 3, 1]}, {"linear": 512}]

A conv layer is ``[channels, kernel_size, stride]`` or ``[channels, kernel_size, stride, padding]``;
``features`` (or a final ``{"linear": units}``) adds one Linear layer after the flattened
convolutions (None: none). The model's network then reads the encoder's features instead of the
states (`rlblocks.models.torch.convolutional.ConvEncoder`, which scales uint8 pixels to [0, 1]).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from rlblocks.models.torch.convolutional import NATURE_CNN, NATURE_CNN_FEATURES, ConvEncoder, ConvLayer
from rlblocks.models.torch.networks import check_activation
from rlblocks.utils.images import image_layout
from rlblocks.utils.suggest import did_you_mean

ENCODER_TYPES = ("nature_cnn", "conv")
EXAMPLE = "{type: nature_cnn} or [{conv: [32, 8, 4]}, {conv: [64, 4, 2]}, {linear: 512}]"


def _positive_int(what: str, value: Any, allow_zero: bool = False) -> int:
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number is None or number < (0 if allow_zero else 1):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"encoder {what} must be {kind} int, got {value!r}")
    return number


def conv_layer(value: Any) -> ConvLayer:
    """A `ConvLayer` from ``[channels, kernel_size, stride(, padding)]`` (or a `ConvLayer`).

    Raises:
        ValueError: not 3 or 4 non-negative ints (channels, kernel and stride positive).
    """
    if isinstance(value, ConvLayer):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) not in (3, 4):
        raise ValueError(
            f"a conv layer is [channels, kernel_size, stride] or [channels, kernel_size, stride, padding], "
            f"got {value!r}"
        )
    names = ("channels", "kernel_size", "stride", "padding")
    numbers = [_positive_int(name, item, name == "padding") for name, item in zip(names, value)]
    return ConvLayer(*numbers)


@dataclass(frozen=True)
class EncoderSpec:
    """A convolutional encoder: its type, conv layers, Linear units and activation.

    Raises:
        ValueError: an unknown type or key, layers given with ``nature_cnn`` or missing with
            ``conv``, a malformed layer, or an unknown activation.
    """

    type: str = "nature_cnn"
    """"nature_cnn" (the DQN Nature convolutions, 512 features) or "conv" (``layers``)."""
    layers: tuple[ConvLayer, ...] = ()
    """The convolutions of a "conv" encoder: ``[channels, kernel_size, stride(, padding)]`` each."""
    features: int | None = NATURE_CNN_FEATURES
    """Units of the Linear layer after the flattened convolutions; None for none."""
    activation: str = "relu"
    """The activation after every layer."""

    def __post_init__(self) -> None:
        kind = str(self.type).lower()
        object.__setattr__(self, "type", kind)
        if kind not in ENCODER_TYPES:
            raise ValueError(
                f"unknown encoder type {self.type!r}{did_you_mean(kind, ENCODER_TYPES)}; use one of "
                f"{', '.join(ENCODER_TYPES)}, e.g. {EXAMPLE}"
            )
        layers = tuple(conv_layer(layer) for layer in self.layers)
        if kind == "nature_cnn" and layers and layers != NATURE_CNN:
            raise ValueError('encoder type "nature_cnn" has its own layers; use type "conv" to give layers')
        if kind == "conv" and not layers:
            raise ValueError(f'encoder type "conv" needs layers, e.g. {EXAMPLE}')
        object.__setattr__(self, "layers", layers or NATURE_CNN)
        if self.features is not None:
            object.__setattr__(self, "features", _positive_int("features", self.features))
        check_activation(self.activation)

    @classmethod
    def of(cls, value: Any) -> EncoderSpec | None:
        """``value`` as a spec: None stays None; a type name, a mapping or a layer list (module docstring).

        Raises:
            ValueError: anything else, or a bad value (see the class).
        """
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(type=value)
        if isinstance(value, Mapping):
            valid = [field.name for field in fields(cls)]
            for name in value:
                if name not in valid:
                    raise ValueError(
                        f"unknown encoder key {name!r}{did_you_mean(str(name), valid)}; "
                        f"valid: {', '.join(valid)}"
                    )
            return cls(**value)
        if isinstance(value, Sequence) and value:
            return cls._of_layer_list(value)
        raise ValueError(f"an encoder is written {EXAMPLE}, got {value!r}")

    @classmethod
    def _of_layer_list(cls, items: Sequence[Any]) -> EncoderSpec:
        layers, features = [], None
        for position, item in enumerate(items):
            if not isinstance(item, Mapping) or len(item) != 1:
                raise ValueError(
                    f"encoder layer {position}: expected {{conv: [...]}} or {{linear: units}}, got {item!r}"
                )
            ((kind, argument),) = item.items()
            if kind == "conv" and features is None:
                layers.append(conv_layer(argument))
            elif kind == "linear" and position == len(items) - 1:
                features = _positive_int("linear units", argument)
            else:
                raise ValueError(
                    f"encoder layer {position}: {kind!r} is not accepted here; conv layers come first and "
                    f"one optional {{linear: units}} last, e.g. {EXAMPLE}"
                )
        return cls(type="conv", layers=tuple(layers), features=features)

    def build(self, observation_space: Any) -> ConvEncoder:
        """The encoder for ``observation_space`` (an image space).

        Raises:
            ValueError: the space is not an image space, or the image is too small for the layers.
        """
        return ConvEncoder(image_layout(observation_space), self.layers, self.features, self.activation)
