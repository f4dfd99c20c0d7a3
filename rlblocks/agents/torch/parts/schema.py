"""`TensorSchema`: the tensors an agent stores per step, declared once.

The memory's tensors are created from the schema, and batches are gathered by name into a
NamedTuple whose fields are the schema's names, so no list of names and tuple field order have
to be kept in step by hand::

    schema = TensorSchema(StoredTensor("states", observation_space), StoredTensor("rewards", 1))
    schema.create_in(memory)
    batch = schema.sample(memory, batch_size=64)     # batch.states (64, obs), batch.rewards (64, 1)
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from rlblocks.utils import spaces


@dataclass(frozen=True)
class StoredTensor:
    """One stored tensor: its name, per-sample size (an int or a space) and dtype."""

    name: str
    size: spaces.SpaceLike
    dtype: torch.dtype = torch.float32


class TensorSchema:
    """The stored tensors of an agent, in declaration order.

    Args:
        tensors: the stored tensors; names must be distinct identifiers.
        batch_name: the class name of the batches (``Transitions``, ``Rollout`` ...).

    Attributes:
        names: the tensor names, in declaration order (the batches' field order).
        batch_type: the NamedTuple class of the batches.
    """

    def __init__(self, *tensors: StoredTensor, batch_name: str = "Batch") -> None:
        names = [tensor.name for tensor in tensors]
        if len(set(names)) != len(names):
            raise ValueError(f"stored tensor names must be distinct, got {names}")
        self.tensors = tensors
        self.names = tuple(names)
        self.batch_type = collections.namedtuple(batch_name, self.names)

    def create_in(self, memory: Any) -> None:
        """Create every tensor of the schema in ``memory`` (and in each of ``memory`` if a list)."""
        for tensor in self.tensors:
            memory.create_tensor(name=tensor.name, size=tensor.size, dtype=tensor.dtype)

    def batch(self, tensors: Sequence[torch.Tensor]) -> Any:
        """The batch NamedTuple of ``tensors`` given in the schema's order."""
        return self.batch_type._make(tensors)

    def sample(self, memory: Any, batch_size: int) -> Any:
        """A batch of ``batch_size`` samples drawn by ``memory.sample``, as a batch NamedTuple."""
        return self.batch(memory.sample(self.names, batch_size)[0])


def create_rollout_tensors(agent: Any, schema: TensorSchema, rollouts: int) -> None:
    """Create ``schema``'s tensors in ``agent``'s memories, which must hold exactly one rollout.

    Raises:
        ValueError: a memory whose ``memory_size`` is not ``rollouts``.
    """
    if agent.memory is None:
        return
    if agent.memory.memory_size != rollouts:
        raise ValueError(
            f"{type(agent).__name__}'s memory must hold exactly one rollout: memory_size="
            f'{agent.memory.memory_size} but cfg["rollouts"]={rollouts}; create '
            f"RandomMemory(memory_size={rollouts}, num_envs=env.num_envs)."
        )
    for memory in (agent.memory, *agent.secondary_memories):
        schema.create_in(memory)


def split_batch(batch: Any, indexes: torch.Tensor, sizes: Sequence[int]) -> list[Any]:
    """A NamedTuple ``batch``'s rows ``indexes`` in consecutive batches of ``sizes`` rows, same type.

    Args:
        batch: a NamedTuple of (rows, ·) tensors.
        indexes: (rows,) the order in which rows are taken.
        sizes: the number of rows of each batch (they add up to ``len(indexes)``).
    """
    parts = [tensor[indexes].split(list(sizes)) for tensor in batch]
    return [type(batch)._make(tensors) for tensors in zip(*parts)]
