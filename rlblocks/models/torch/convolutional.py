"""`ConvEncoder`: raw image observations -> features, for a model's network to read.

The encoder scales the uint8 pixels to [0, 1] once, on the model's device (`images.as_pixels`:
flat rows or (N, *space.shape) tensors, channels first or last), then applies its convolutions,
flattens and, if asked for, one Linear layer::

    pixels (N, C, H, W) -> [Conv2d -> act] x len(layers) -> flatten -> [Linear -> act] -> (N, features)

`NATURE_CNN` is the network of Mnih et al. (2015), "Human-level control through deep
reinforcement learning": 32 8x8 filters of stride 4, 64 4x4 of stride 2, 64 3x3 of stride 1,
then 512 units, ReLU after each.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from rlblocks.models.torch.networks import activation
from rlblocks.utils.images import ImageLayout, as_pixels


class ConvLayer(NamedTuple):
    """One Conv2d: output channels, square kernel size, stride, zero padding."""

    channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0


NATURE_CNN = (ConvLayer(32, 8, 4), ConvLayer(64, 4, 2), ConvLayer(64, 3, 1))
"""The convolutions of the DQN Nature network; followed by a 512-unit Linear layer."""
NATURE_CNN_FEATURES = 512


class ConvEncoder(nn.Module):
    """Convolutions over image observations, then an optional Linear layer.

    Args:
        layout: the observation space's `ImageLayout` ((C, H, W), channels last or not).
        layers: the convolutions, in order.
        features: units of the Linear layer after the flattened convolutions; None for none
            (the flattened convolution output is the encoder's output).
        activation_name: the activation after every layer.

    Attributes:
        convolutions: ``nn.Sequential`` of Conv2d and activations (Conv2d at even indices).
        linear: ``nn.Sequential(Linear, activation)``, or None.
        output_features: the width of the encoder's (N, output_features) output.

    Raises:
        ValueError: no convolution, or convolutions that shrink the image to nothing.
    """

    def __init__(
        self,
        layout: ImageLayout,
        layers: Sequence[ConvLayer],
        features: int | None = NATURE_CNN_FEATURES,
        activation_name: str = "relu",
    ) -> None:
        super().__init__()
        if not layers:
            raise ValueError("a convolutional encoder needs at least one convolution layer")
        self.layout = layout
        modules: list[nn.Module] = []
        channels = layout.channels
        for layer in layers:
            modules += [
                nn.Conv2d(channels, layer.channels, layer.kernel_size, layer.stride, layer.padding),
                activation(activation_name),
            ]
            channels = layer.channels
        self.convolutions = nn.Sequential(*modules)
        try:
            with torch.no_grad():
                output = self.convolutions(torch.zeros(1, *layout.shape))
        except RuntimeError:  # a kernel larger than what is left of the image
            output = torch.zeros(0)
        if output.numel() == 0:
            raise ValueError(
                f"the convolutions {[tuple(layer) for layer in layers]} shrink a {layout.shape} image to "
                "nothing; use smaller kernels or strides, or padding"
            )
        flat = output.numel()
        self.linear = (
            None
            if features is None
            else nn.Sequential(nn.Linear(flat, features), activation(activation_name))
        )
        self.output_features = flat if features is None else features

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        """(N, output_features) features of raw (0..255) image observations, flat or shaped."""
        features = self.convolutions(as_pixels(states, self.layout)).flatten(1)
        return features if self.linear is None else self.linear(features)
