import gymnasium
import numpy as np
import pytest
import torch

from rlblocks.agents.torch.parts import StoredTensor, TensorSchema, split_batch
from rlblocks.memories.torch import RandomMemory


def schema():
    return TensorSchema(
        StoredTensor("states", gymnasium.spaces.Box(-1, 1, (3,), np.float32)),
        StoredTensor("actions", gymnasium.spaces.Discrete(4), torch.int64),
        StoredTensor("terminated", 1, torch.bool),
        batch_name="Transitions",
    )


def test_memory_tensors_come_from_the_schema_and_batches_are_named_by_it():
    memory = RandomMemory(memory_size=5, num_envs=2)
    declared = schema()
    declared.create_in(memory)
    assert memory.get_tensor_by_name("states").shape == (5, 2, 3)
    assert memory.get_tensor_by_name("actions").dtype == torch.int64
    for step in range(5):
        memory.add_samples(
            states=torch.full((2, 3), float(step)),
            actions=torch.full((2, 1), step, dtype=torch.int64),
            terminated=torch.tensor([[step == 4], [False]]),
        )
    batch = declared.sample(memory, batch_size=6)
    assert type(batch).__name__ == "Transitions" and batch._fields == ("states", "actions", "terminated")
    # every sampled row is one stored transition: the state's value is its action, whatever the order
    assert torch.equal(batch.states[:, 0].long(), batch.actions[:, 0])
    assert batch.terminated.dtype == torch.bool


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        TensorSchema(StoredTensor("states", 1), StoredTensor("states", 2))


def test_split_batch_takes_rows_in_order_and_keeps_the_batch_type():
    batch = schema().batch(
        [torch.arange(12.0).view(4, 3), torch.arange(4).view(4, 1), torch.zeros(4, 1, dtype=torch.bool)]
    )
    first, second = split_batch(batch, torch.tensor([3, 1, 0, 2]), [2, 2])
    assert type(first) is type(batch)
    assert first.actions.view(-1).tolist() == [3, 1] and second.actions.view(-1).tolist() == [0, 2]
    assert torch.equal(second.states, torch.tensor([[0.0, 1, 2], [6, 7, 8]]))
