"""`Shape`: the symbolic sizes of an instantiated network's input and output, and the input it reads."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import torch

from rlblocks.models.torch import Model
from rlblocks.models.torch.base import Inputs
from rlblocks.utils import spaces
from rlblocks.utils.images import ImageLayout, as_pixels, image_layout, is_image_space
from rlblocks.utils.suggest import did_you_mean


class Shape(enum.Enum):
    """Symbolic sizes of a network's input or output (a plain int is a number of units)."""

    ONE = 1
    STATES = 0
    OBSERVATIONS = 0  # an alias of STATES
    ACTIONS = -1
    STATES_ACTIONS = -2


ShapeLike = Shape | int | str
"""A `Shape`, a number of units, or a `Shape` name ("STATES", "one", ...) as written in YAML."""


def as_shape(value: ShapeLike) -> Shape | int:
    """A `Shape` or a positive number of units from a `Shape`, an int or a `Shape` name.

    Raises:
        ValueError: an unknown name or a non-positive number of units.
    """
    if isinstance(value, Shape):
        return value
    if isinstance(value, str):
        name = value.strip().upper().removeprefix("SHAPE.")
        if name not in Shape.__members__:
            raise ValueError(
                f"unknown shape {value!r}{did_you_mean(name, Shape.__members__)}; "
                f"use one of {', '.join(Shape.__members__)} or a number of units"
            )
        return Shape[name]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"a shape must be a Shape, a Shape name or a positive number of units, got {value!r}"
        )
    return value


def as_input_shape(value: ShapeLike) -> Shape:
    """The `Shape` a network reads (an input width always follows from the spaces).

    Raises:
        ValueError: a number of units or an unknown name.
    """
    shape = as_shape(value)
    if not isinstance(shape, Shape):
        raise ValueError(
            f"input_shape must be a Shape (STATES, ACTIONS, STATES_ACTIONS or ONE), got {value!r}: "
            "the input width follows from the spaces"
        )
    return shape


def num_units(model: Model, shape: ShapeLike) -> int:
    """The number of units a shape stands for in ``model`` (one-hot widths for Discrete parts)."""
    shape = as_shape(shape)
    if not isinstance(shape, Shape):
        return shape
    return {
        Shape.ONE: 1,
        Shape.STATES: model.num_observations,
        Shape.ACTIONS: model.num_actions,
        Shape.STATES_ACTIONS: (model.num_observations or 0) + (model.num_actions or 0),
    }[shape]


@dataclass(frozen=True)
class NetworkInput:
    """What a network reads from a model's inputs: states, taken actions, both, or ones.

    The network is ``units`` wide. The env wrappers give Discrete and MultiDiscrete parts of an
    observation as index columns (``spaces.flat_size`` wide); those rows are one-hot encoded to
    ``num_observations`` columns (`spaces.one_hot_encode`), rows already that wide are read as they are.
    With an ``encoder`` (a module of (N, ...) states -> (N, encoder_units) features, e.g. a
    `ConvEncoder`) the network reads its features in place of the states. Image states without an
    encoder are read as flat rows of pixels scaled to [0, 1].
    """

    shape: Shape
    units: int
    index_width: int | None
    """Width of the observation rows to one-hot encode; None when the space has no index columns."""
    image: ImageLayout | None = None
    """The layout of image states (read as flat pixel rows when there is no encoder), else None."""

    @classmethod
    def of(cls, model: Model, input_shape: ShapeLike, encoder_units: int | None = None) -> NetworkInput:
        """The input ``model``'s network reads for ``input_shape`` (states encoded to ``encoder_units``).

        Raises:
            ValueError: ``input_shape`` is not a `Shape` (see `as_input_shape`), or an encoder
                with an input that holds no states.
        """
        shape = as_input_shape(input_shape)
        space = model.observation_space
        has_indexes = space is not None and spaces.has_index_columns(space)
        index_width = spaces.flat_size(space) if has_indexes else None
        image = image_layout(space) if is_image_space(space) else None
        units = num_units(model, shape)
        if encoder_units is not None:
            if shape not in (Shape.STATES, Shape.STATES_ACTIONS):
                raise ValueError(
                    f"an encoder reads the states, but input_shape is {shape.name}; "
                    "use STATES or STATES_ACTIONS"
                )
            units = encoder_units + ((model.num_actions or 0) if shape is Shape.STATES_ACTIONS else 0)
        return cls(shape, units, index_width, image)

    def __call__(
        self, model: Model, inputs: Inputs, encoder: Callable[[torch.Tensor], torch.Tensor] | None = None
    ) -> torch.Tensor:
        """The (N, units) tensor ``model``'s network reads from ``inputs`` (states through ``encoder``)."""
        if self.shape is Shape.ACTIONS:
            return inputs["taken_actions"]
        states = model._states(inputs)
        if self.shape is Shape.ONE:
            return torch.ones(states.shape[0], 1, device=states.device, dtype=torch.float32)
        if encoder is not None:
            states = encoder(states)
        elif self.image is not None:
            states = as_pixels(states, self.image).flatten(1)
        if self.index_width == 1 and states.dim() == 1:
            states = states.unsqueeze(-1)  # a Discrete observation's (N,) indexes
        if self.index_width is not None and states.shape[-1] == self.index_width:
            states = spaces.one_hot_encode(model.observation_space, states)
        if self.shape is Shape.STATES_ACTIONS:
            return torch.cat([states, inputs["taken_actions"]], dim=-1)
        return states
