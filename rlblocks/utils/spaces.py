"""Spaces shared by models, memories and env wrappers.

A *space* here is an int, a sequence of ints (a shape), or a gymnasium space: Box, Discrete,
MultiDiscrete, MultiBinary, Dict and Tuple, nested to any depth. Spaces of the legacy ``gym``
package are recognised by their class names, so ``gym`` is never imported.

Every space has two sizes:

- ``compute_space_size(space)`` (``number_of_elements=True``): what a network sees, e.g. a
  one-hot Discrete(4) has 4 elements and MultiDiscrete([3, 2]) has 5.
- ``flat_size(space)`` (``number_of_elements=False``): the width of a flat observation/action row,
  where a Discrete takes one column (its index) and MultiDiscrete one column per component.

Flat rows put Dict sub-spaces in sorted key order and Tuple sub-spaces in index order.
`one_hot_encode` turns a flat row into a network input of ``compute_space_size`` columns (every
index one-hot, as ``gymnasium.spaces.flatten`` lays it out).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy as np
import torch

SpaceLike = int | Sequence[int] | gymnasium.spaces.Space | Any
"""An int, a sequence of ints, or a gymnasium (or legacy gym) space."""

SUPPORTED_SPACES = "int, sequence of int, Box, Discrete, MultiDiscrete, MultiBinary, Dict, Tuple"

_KINDS = {
    gymnasium.spaces.Box: "box",
    gymnasium.spaces.Discrete: "discrete",
    gymnasium.spaces.MultiDiscrete: "multi_discrete",
    gymnasium.spaces.MultiBinary: "multi_binary",
    gymnasium.spaces.Dict: "dict",
    gymnasium.spaces.Tuple: "tuple",
}
_LEGACY_GYM_KINDS = {
    "Box": "box",
    "Discrete": "discrete",
    "MultiDiscrete": "multi_discrete",
    "MultiBinary": "multi_binary",
    "Dict": "dict",
    "Tuple": "tuple",
}


def space_kind(space: Any) -> str:
    """The kind of a space: "int", "shape", "box", "discrete", ... (see `SUPPORTED_SPACES`).

    Raises:
        ValueError: the space is of an unsupported type.
    """
    for space_class, kind in _KINDS.items():
        if isinstance(space, space_class):
            return kind
    if type(space).__module__.split(".")[0] == "gym":
        for klass in type(space).__mro__:
            if klass.__name__ in _LEGACY_GYM_KINDS:
                return _LEGACY_GYM_KINDS[klass.__name__]
    if isinstance(space, (bool, np.bool_)):
        raise unsupported_space_error(space)
    if isinstance(space, (int, np.integer)) or type(space) is float:
        return "int"
    if isinstance(space, (tuple, list, torch.Size)) and all(
        isinstance(item, (int, np.integer)) for item in space
    ):
        return "shape"
    raise unsupported_space_error(space)


def unsupported_space_error(space: Any) -> ValueError:
    """The error raised for a space no rlblocks component supports."""
    return ValueError(
        f"Space type {type(space)} not supported (got {space!r}); supported: {SUPPORTED_SPACES}. "
        "Convert the space with a gymnasium wrapper (e.g. FlattenObservation) first."
    )


def sub_spaces(space: Any) -> list[tuple[str | int, Any]]:
    """The (key, sub-space) pairs of a Dict (sorted keys) or Tuple (index order) space."""
    if space_kind(space) == "dict":
        return sorted(space.spaces.items())
    return list(enumerate(space.spaces))


def compute_space_size(space: SpaceLike, number_of_elements: bool = True) -> int:
    """Number of elements of a space.

    Args:
        space: the space or shape.
        number_of_elements: if False, Discrete counts as 1 and MultiDiscrete as its number of
            components (the flat-row width); otherwise as n and sum(nvec) (the one-hot width).

    Raises:
        ValueError: the space is of an unsupported type.
    """
    kind = space_kind(space)
    if kind == "int":
        return int(space)
    if kind == "shape":
        return int(math.prod(int(item) for item in space))
    if kind == "box":
        return int(math.prod(space.shape))
    if kind == "discrete":
        return int(space.n) if number_of_elements else 1
    if kind == "multi_discrete":
        return int(np.sum(space.nvec)) if number_of_elements else int(np.prod(space.nvec.shape))
    if kind == "multi_binary":
        return int(np.prod(space.n))
    return sum(compute_space_size(sub, number_of_elements) for _, sub in sub_spaces(space))


def flat_size(space: SpaceLike) -> int:
    """Width of a flat row holding one sample of the space (Discrete takes one column)."""
    return compute_space_size(space, number_of_elements=False)


def tensor_to_space(tensor: torch.Tensor, space: SpaceLike, start: int = 0) -> torch.Tensor | dict | tuple:
    """Map the columns ``start:start+flat_size(space)`` of a flat (N, k) tensor onto a space.

    Box and MultiBinary rows are reshaped to (N, *shape); Discrete gives (N, 1); MultiDiscrete
    gives (N, *nvec.shape); Dict gives a dict (sorted keys) and Tuple a tuple, recursively.

    Raises:
        ValueError: unsupported space, a tensor with no batch dimension, or fewer columns than the
            space needs.
    """
    kind = space_kind(space)
    if not torch.is_tensor(tensor) or tensor.dim() < 2:
        shape = tuple(tensor.shape) if torch.is_tensor(tensor) else type(tensor).__name__
        raise ValueError(
            f"tensor_to_space needs a (N, k) tensor of flat rows, got {shape}; "
            "add the batch dimension with tensor.unsqueeze(0)."
        )
    if kind in ("dict", "tuple"):
        mapped = {}
        offset = start
        for key, sub in sub_spaces(space):
            mapped[key] = tensor_to_space(tensor, sub, offset)
            offset += flat_size(sub)
        return mapped if kind == "dict" else tuple(mapped.values())
    if kind in ("int", "shape"):
        raise ValueError(
            f"tensor_to_space needs a gymnasium space, got {space!r}; an int or a shape does not say "
            "how to split the tensor. Pass e.g. gymnasium.spaces.Box(-inf, inf, shape)."
        )
    end = start + flat_size(space)
    if tensor.shape[-1] < end:
        raise ValueError(
            f"tensor_to_space: {space} needs columns {start}:{end}, but the tensor is "
            f"{tuple(tensor.shape)}; pass a (N, {end}) tensor or a smaller start."
        )
    columns = tensor[..., start:end]
    if kind == "discrete":
        return columns
    shape = space.nvec.shape if kind == "multi_discrete" else space.shape
    return columns.reshape(*tensor.shape[:-1], *shape)


def flatten_sample(space: SpaceLike, sample: Any, device: str | torch.device | None = None) -> torch.Tensor:
    """Flatten a batch of samples (numpy/tensor, dict or tuple of them) into a float (N, flat_size) row.

    ``sample`` has a leading batch dimension N on every leaf, as vector environments return it.
    Discrete leaves become their index (one column); Dict keys are taken in sorted order.
    """
    kind = space_kind(space)
    if kind in ("dict", "tuple"):
        parts = [flatten_sample(sub, sample[key], device) for key, sub in sub_spaces(space)]
        return torch.cat(parts, dim=-1)
    leaf = torch.as_tensor(np.asarray(sample) if not torch.is_tensor(sample) else sample, device=device)
    return leaf.reshape(leaf.shape[0], -1).to(torch.float32)


def has_index_columns(space: SpaceLike) -> bool:
    """True when a flat row of the space holds indexes: a Discrete or MultiDiscrete leaf at any depth."""
    kind = space_kind(space)
    if kind in ("dict", "tuple"):
        return any(has_index_columns(sub) for _, sub in sub_spaces(space))
    return kind in ("discrete", "multi_discrete")


def one_hot_encode(space: SpaceLike, rows: torch.Tensor) -> torch.Tensor:
    """Flat (..., flat_size) rows with every index one-hot encoded: float32 (..., compute_space_size).

    An index i of Discrete(n, start) becomes n columns holding a 1 at i - start; a MultiDiscrete
    gives one such block per component (row-major); Box and MultiBinary columns are kept. The
    layout is ``gymnasium.spaces.flatten``'s: for a batch ``x`` of Dict(a=Box(3,), b=Discrete(4))
    samples, ``one_hot_encode(space, flatten_sample(space, x))[i]`` equals ``flatten(space, x_i)``.

    Raises:
        ValueError: ``rows`` are not ``flat_size(space)`` wide.
    """
    width = flat_size(space)
    if rows.dim() == 0 or rows.shape[-1] != width:
        raise ValueError(
            f"one_hot_encode: flat rows of {space} are {width} wide, got a tensor of shape "
            f"{tuple(rows.shape)}; pass (N, {width}) rows (e.g. the env wrapper's states)."
        )
    return _one_hot_columns(space, rows)


def _one_hot_columns(space: SpaceLike, rows: torch.Tensor) -> torch.Tensor:
    kind = space_kind(space)
    if kind in ("dict", "tuple"):
        blocks, start = [], 0
        for _, sub in sub_spaces(space):
            end = start + flat_size(sub)
            blocks.append(_one_hot_columns(sub, rows[..., start:end]))
            start = end
        return torch.cat(blocks, dim=-1)
    if kind == "discrete":
        return _one_hot(rows[..., 0], int(space.n), int(getattr(space, "start", 0)))  # gym < 0.26: no start
    if kind == "multi_discrete":
        starts = getattr(space, "start", np.zeros_like(space.nvec)).reshape(-1)
        components = zip(space.nvec.reshape(-1), starts)
        return torch.cat(
            [_one_hot(rows[..., j], int(n), int(low)) for j, (n, low) in enumerate(components)], dim=-1
        )
    return rows.float()


def _one_hot(indexes: torch.Tensor, n: int, start: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(indexes.long() - start, n).float()


def sample_space(space: SpaceLike, batch_size: int, device: str | torch.device | None = None) -> torch.Tensor:
    """Draw `batch_size` uniform samples of an action space as a flat (batch_size, flat_size) tensor.

    Box: each dimension in its own bounds (a normal draw where a bound is infinite), float32.
    Discrete, MultiDiscrete, MultiBinary: int64. Dict/Tuple: the leaves side by side, float32.
    """
    kind = space_kind(space)
    if kind == "box":
        return _sample_box(space, batch_size, device)
    if kind == "discrete":
        low = int(getattr(space, "start", 0))  # gym < 0.26 Discrete has no start
        return torch.randint(low, low + int(space.n), (batch_size, 1), device=device)
    if kind == "multi_discrete":
        nvec = torch.as_tensor(space.nvec.reshape(-1), device=device)
        start = torch.as_tensor(getattr(space, "start", np.zeros_like(space.nvec)).reshape(-1), device=device)
        uniform = torch.rand(batch_size, nvec.numel(), device=device)
        return (uniform * nvec).long().clamp_max(nvec - 1) + start
    if kind == "multi_binary":
        return torch.randint(0, 2, (batch_size, compute_space_size(space)), device=device)
    if kind in ("dict", "tuple"):
        parts = [sample_space(sub, batch_size, device).float() for _, sub in sub_spaces(space)]
        return torch.cat(parts, dim=-1)
    raise ValueError(
        f"Cannot sample from {space!r}: an int or a shape has no bounds; use a gymnasium space "
        "(e.g. Box(-1, 1, shape)) as the action space."
    )


def _sample_box(space: Any, batch_size: int, device: str | torch.device | None) -> torch.Tensor:
    low = torch.as_tensor(np.asarray(space.low, dtype=np.float64).reshape(-1), device=device)
    high = torch.as_tensor(np.asarray(space.high, dtype=np.float64).reshape(-1), device=device)
    shape = (batch_size, low.numel())
    bounded = torch.isfinite(low) & torch.isfinite(high)
    uniform = torch.rand(shape, device=device, dtype=torch.float64)
    finite_low = torch.where(torch.isfinite(low), low, torch.zeros_like(low))
    finite_high = torch.where(torch.isfinite(high), high, torch.zeros_like(high))
    samples = finite_low + uniform * (finite_high - finite_low)
    if not bool(bounded.all()):
        normal = torch.randn(shape, device=device, dtype=torch.float64)
        exponential = torch.empty(shape, device=device, dtype=torch.float64).exponential_()
        only_low = torch.isfinite(low) & ~torch.isfinite(high)
        only_high = ~torch.isfinite(low) & torch.isfinite(high)
        samples = torch.where(only_low, finite_low + exponential, samples)
        samples = torch.where(only_high, finite_high - exponential, samples)
        samples = torch.where(~torch.isfinite(low) & ~torch.isfinite(high), normal, samples)
    return samples.to(torch.float32)


def box_bounds(space: Any, device: str | torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-dimension (low, high) of a Box space as flat float32 tensors of shape (flat_size,)."""
    low = torch.as_tensor(np.asarray(space.low, dtype=np.float32).reshape(-1), device=device)
    high = torch.as_tensor(np.asarray(space.high, dtype=np.float32).reshape(-1), device=device)
    return low, high


def is_discrete(space: Any) -> bool:
    """True for a Discrete space (gymnasium or legacy gym)."""
    try:
        return space_kind(space) == "discrete"
    except ValueError:
        return False


def is_box(space: Any) -> bool:
    """True for a Box space (gymnasium or legacy gym)."""
    try:
        return space_kind(space) == "box"
    except ValueError:
        return False
