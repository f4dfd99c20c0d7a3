"""Image observations: which spaces are images, their (C, H, W) layout, and how models read them.

An image space is a `Box` of dtype uint8 with 2 (H, W) or 3 dimensions: channels first (C, H, W),
as gymnasium's ``FrameStackObservation`` over ``AtariPreprocessing`` gives (4, 84, 84), or channels
last (H, W, C) with C <= 4 < H, as raw ALE frames (210, 160, 3). The env wrappers hand such
observations over as uint8 tensors of shape (N, *space.shape), memories store them as uint8 rows,
and a model's convolutional encoder turns them into float (N, C, H, W) pixels in [0, 1] once, on
the model's device (`as_pixels`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch

from rlblocks.utils import spaces

PIXEL_SCALE = 255.0
"""uint8 pixel values are divided by this to lie in [0, 1]."""


class ImageLayout(NamedTuple):
    """How a flat or shaped observation becomes (N, C, H, W) pixels."""

    channels: int
    height: int
    width: int
    channels_last: bool
    """The space's shape is (H, W, C): the pixels are permuted to (C, H, W)."""

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return (self.channels, self.height, self.width)


def is_image_space(space: Any) -> bool:
    """Whether ``space`` is a uint8 Box of 2 or 3 dimensions (see the module docstring)."""
    try:
        if spaces.space_kind(space) != "box":
            return False
    except ValueError:
        return False
    return np.dtype(space.dtype) == np.uint8 and len(space.shape) in (2, 3)


def image_layout(space: Any) -> ImageLayout:
    """The (C, H, W) layout of an image space.

    (H, W) has one channel; (A, B, C) is channels last when C <= 4 < A, else channels first.

    Raises:
        ValueError: ``space`` is not an image space.
    """
    if not is_image_space(space):
        raise ValueError(
            f"expected an image observation space (a uint8 Box of shape (C, H, W), (H, W, C) or (H, W)), "
            f"got {space!r}; a convolutional encoder reads images only: use an MLP for other spaces, or "
            "wrap the env so that it returns uint8 frames (e.g. gymnasium's AtariPreprocessing)"
        )
    shape = tuple(int(size) for size in space.shape)
    if len(shape) == 2:
        return ImageLayout(1, shape[0], shape[1], False)
    if shape[2] <= 4 < shape[0]:
        return ImageLayout(shape[2], shape[0], shape[1], True)
    return ImageLayout(*shape, False)


def storage_dtype(space: Any, is_preprocessed: bool = False) -> torch.dtype:
    """The dtype a memory stores observations of ``space`` in: uint8 for raw images, else float32.

    Args:
        space: the observation space.
        is_preprocessed: the agent stores the output of a state preprocessor (floats) instead of
            the raw observations.
    """
    return torch.uint8 if is_image_space(space) and not is_preprocessed else torch.float32


def as_pixels(states: torch.Tensor, layout: ImageLayout) -> torch.Tensor:
    """Float (N, C, H, W) pixels in [0, 1] from raw image observations.

    Args:
        states: (N, *space.shape) observations or their flat (N, C·H·W) rows, of any dtype holding
            the raw values 0..255 (uint8 as stored, or float as an exported policy may be fed).
        layout: the space's `image_layout`.
    """
    if layout.channels_last:
        images = states.reshape(-1, layout.height, layout.width, layout.channels).permute(0, 3, 1, 2)
    else:
        images = states.reshape(-1, *layout.shape)
    return images.to(torch.float32) / PIXEL_SCALE
