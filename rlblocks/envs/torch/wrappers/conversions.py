"""Conversions between environment data (numpy, nested dicts/tuples) and the agents' flat tensors.

Observations become one row per environment:

- a Discrete observation space gives its index as an int64 (N, 1) column, as skrl 0.10 does, so
  tabular agents can index their tables with it;
- an image space (a uint8 Box of 2 or 3 dimensions, `rlblocks.utils.images`) gives uint8
  (N, *space.shape) tensors, e.g. (N, 4, 84, 84) Atari frame stacks, never upcast (memories keep
  them as uint8; a model's convolutional encoder scales them once, on its device);
- every other space gives a float32 (N, flat_size) row: Box flattened, MultiDiscrete and
  MultiBinary one column per component, Dict sub-spaces in sorted key order, Tuple in index order;
  a Discrete inside a Dict or Tuple is one column holding its index, as in skrl 0.10 (memories and
  ``tensor_to_space`` read rows that way). A network wanting one-hot inputs encodes the rows with
  `rlblocks.utils.spaces.one_hot_encode`, as the model instantiators do.

Actions go the other way: a flat (N, A) tensor becomes a batch the env accepts (numpy arrays of the
space's dtype, nested like the space), and `first_action` takes the row of a single env.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlblocks.utils.images import is_image_space
from rlblocks.utils.spaces import flat_size, flatten_sample, space_kind, sub_spaces


def observations_to_tensor(space: Any, observations: Any, device: torch.device) -> torch.Tensor:
    """(N, flat_size) tensor of a batch of observations (every leaf has a leading N axis).

    Images are uint8 (N, *space.shape) (see the module docstring).

    The result owns its memory: an env that later mutates the array it returned cannot change it.
    """
    kind = space_kind(space)
    if kind == "discrete":
        return owned_tensor(observations, np.int64, (-1, 1), device)
    if kind in ("dict", "tuple"):
        return flatten_sample(space, observations, device)  # concatenation copies
    if is_image_space(space):
        return owned_tensor(observations, np.uint8, (-1, *space.shape), device)
    return owned_tensor(observations, np.float32, (len(observations), -1), device)


def owned_tensor(data: Any, dtype: type, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """A tensor holding its own copy of array-like `data`, as `dtype`, reshaped, on `device`."""
    tensor = torch.from_numpy(np.array(data, dtype=dtype).reshape(shape))  # np.array copies
    return tensor if device.type == "cpu" else tensor.to(device)


def step_tensors(
    rewards: Any, terminated: Any, truncated: Any, num_envs: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(rewards float32, terminated bool, truncated bool), each (num_envs, 1), from env outputs.

    Raises:
        TypeError: a reward is None (numpy would silently turn it into NaN).
    """
    if rewards is None or (
        (
            isinstance(rewards, (list, tuple))
            or (isinstance(rewards, np.ndarray) and rewards.dtype.kind == "O")
        )
        and any(reward is None for reward in np.ravel(np.asarray(rewards, dtype=object)))
    ):
        raise TypeError(
            f"the environment's step() returned the reward {rewards!r}: a reward must be a number (one "
            "float per env), never None. Fix the env's step(), or wrap the env to replace it, e.g. "
            "gymnasium.wrappers.TransformReward(env, lambda reward: 0.0 if reward is None else reward)."
        )
    shape = (num_envs, 1)
    return (
        owned_tensor(rewards, np.float32, shape, device),
        owned_tensor(terminated, np.bool_, shape, device),
        owned_tensor(truncated, np.bool_, shape, device),
    )


def observation_to_tensor(space: Any, observation: Any, device: torch.device) -> torch.Tensor:
    """(1, flat_size) tensor of one environment's observation (no batch axis); images (1, *shape)."""
    return observations_to_tensor(space, add_batch_axis(space, observation), device)


def add_batch_axis(space: Any, sample: Any) -> Any:
    """The sample with a leading axis of size 1 on every leaf, nested like the space."""
    kind = space_kind(space)
    if kind == "dict":
        return {key: add_batch_axis(sub, sample[key]) for key, sub in sub_spaces(space)}
    if kind == "tuple":
        return tuple(add_batch_axis(sub, sample[index]) for index, sub in sub_spaces(space))
    return np.asarray(sample)[None]


def tensor_to_actions(space: Any, actions: torch.Tensor, num_envs: int) -> Any:
    """A batch of env actions from a flat (num_envs, flat_size(space)) tensor.

    Box and MultiBinary leaves are reshaped to (num_envs, *space.shape) with the space's dtype;
    Discrete leaves become int64 (num_envs,); MultiDiscrete int64 (num_envs, *nvec.shape). Float
    tensors given for integer spaces are rounded. Dict spaces give dicts, Tuple spaces tuples.

    Raises:
        ValueError: `actions` is not one row of `flat_size(space)` values per environment.
    """
    width = flat_size(space)
    actions = torch.as_tensor(actions)
    if actions.ndim == 0 or actions.shape[0] != num_envs or actions.numel() != num_envs * width:
        raise ValueError(
            f"actions for {space} should be (num_envs, {width}) = ({num_envs}, {width}), got "
            f"{tuple(actions.shape)}; pass one row of {width} value(s) per environment "
            "(the first dimension is the environment)."
        )
    rows = actions.detach().reshape(num_envs, width).cpu()
    return _split_columns(space, rows, 0)[0]


def first_action(space: Any, batch: Any) -> Any:
    """The action of the first environment of a batch from `tensor_to_actions`, for a single env.

    Discrete actions become a Python int, as gymnasium's single envs expect.
    """
    kind = space_kind(space)
    if kind == "dict":
        return {key: first_action(sub, batch[key]) for key, sub in sub_spaces(space)}
    if kind == "tuple":
        return tuple(first_action(sub, batch[index]) for index, sub in sub_spaces(space))
    if kind == "discrete":
        return int(batch[0])
    return batch[0]


def _split_columns(space: Any, rows: torch.Tensor, start: int) -> tuple[Any, int]:
    """(batch for `space` read from columns start:..., the next free column)."""
    kind = space_kind(space)
    if kind in ("dict", "tuple"):
        parts = {}
        for key, sub in sub_spaces(space):
            parts[key], start = _split_columns(sub, rows, start)
        return (parts if kind == "dict" else tuple(parts.values())), start
    end = start + flat_size(space)
    columns = rows[:, start:end]
    if kind == "discrete":
        return _as_integers(columns).reshape(-1), end
    if kind == "multi_discrete":
        return _as_integers(columns).reshape(-1, *space.nvec.shape).astype(space.dtype), end
    if kind == "multi_binary":
        return _as_integers(columns).reshape(-1, *space.shape).astype(space.dtype), end
    if kind == "box":
        return columns.numpy().astype(space.dtype).reshape(-1, *space.shape), end
    raise ValueError(
        f"Cannot convert actions to {space!r}: an int or a shape is not an action space the env "
        "accepts; give the env a gymnasium space."
    )


def _as_integers(columns: torch.Tensor) -> np.ndarray:
    if columns.is_floating_point():
        columns = columns.round()
    return columns.to(torch.int64).numpy()


def with_final_observations(
    space: Any, states: torch.Tensor, final_observations: dict[int, Any], device: torch.device
) -> torch.Tensor:
    """A copy of `states` whose rows `i` are replaced by `final_observations[i]` (one env's obs each).

    Used with envs that reset in the same step as the episode ends and hand the final observation
    over in `infos`: `states` are the reset observations, the result the true next states.
    """
    if not final_observations:
        return states
    next_states = states.clone()
    for index, observation in final_observations.items():
        next_states[index] = observation_to_tensor(space, observation, device)[0]
    return next_states
