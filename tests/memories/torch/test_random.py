"""RandomMemory.sample: return structure, coverage, replacement, sequences that never cross the head."""

import pytest
import torch

from rlblocks.memories.torch import RandomMemory

NAMES = ("states", "actions", "terminated")


def make_memory(memory_size, num_envs, steps, replacement=True, env_slices=()):
    """states[t, e] = 100 * step + e for the `step`-th write: a value names its write and env."""
    memory = RandomMemory(memory_size, num_envs, device="cpu", replacement=replacement)
    memory.create_tensor("states", 1)
    memory.create_tensor("actions", 2)
    memory.create_tensor("terminated", 1, torch.bool)
    for step in range(steps):
        values = 100.0 * step + torch.arange(num_envs, dtype=torch.float32).view(-1, 1)
        memory.add_samples(states=values, actions=values.repeat(1, 2), terminated=values > 0)
    for count in env_slices:
        start = memory.env_index
        values = 100.0 * steps + torch.arange(start, start + count, dtype=torch.float32).view(-1, 1)
        memory.add_samples(states=values, actions=values.repeat(1, 2), terminated=values > 0)
    return memory


def written_step_and_env(value):
    return int(value) // 100, int(value) % 100


def test_sample_returns_mini_batches_of_tensors_in_names_order():
    memory = make_memory(8, 2, steps=8)
    batches = memory.sample(["actions", "states", "terminated"], batch_size=6, mini_batches=2)
    assert len(batches) == 2
    for actions, states, terminated in batches:
        assert actions.shape == (3, 2) and states.shape == (3, 1) and terminated.shape == (3, 1)
        assert terminated.dtype == torch.bool
        assert torch.equal(actions, states.repeat(1, 2))
        assert torch.equal(terminated, states > 0)


def test_sampling_indexes_are_the_rows_returned():
    memory = make_memory(8, 2, steps=8)
    [[states, _, _]] = memory.sample(NAMES, batch_size=32)
    rows = memory.get_sampling_indexes()
    assert torch.equal(states, memory.tensors_view["states"][rows])
    [[again]] = memory.sample_by_index(["states"], rows)
    assert torch.equal(again, states)


def test_only_written_rows_are_sampled_before_the_memory_fills():
    memory = make_memory(10, 3, steps=2, env_slices=(2,))
    assert len(memory) == 8
    [[states]] = memory.sample(["states"], batch_size=2000)
    assert set(states.view(-1).tolist()) == {0.0, 1.0, 2.0, 100.0, 101.0, 102.0, 200.0, 201.0}


def test_sampling_an_empty_memory_explains():
    with pytest.raises(ValueError, match=r"cannot sample from an empty memory \(len\(memory\) == 0\)"):
        make_memory(4, 1, steps=0).sample(NAMES, batch_size=2)


def test_without_replacement_a_batch_never_repeats_a_row():
    memory = make_memory(1000, 4, steps=1000, replacement=False)
    for batch_size in (10, 256, 1500, 4000):
        memory.sample(NAMES, batch_size=batch_size)
        rows = memory.get_sampling_indexes()
        assert rows.numel() == batch_size
        assert rows.unique().numel() == batch_size
        assert rows.min() >= 0 and rows.max() < 4000


def test_without_replacement_a_batch_larger_than_the_memory_holds_every_row_once():
    memory = make_memory(4, 2, steps=3, replacement=False)
    memory.sample(NAMES, batch_size=100)
    assert sorted(memory.get_sampling_indexes().tolist()) == list(range(6))


def test_without_replacement_draws_are_uniform():
    memory = make_memory(20, 1, steps=20, replacement=False)
    counts = torch.zeros(20)
    for _ in range(2000):
        memory.sample(NAMES, batch_size=4)
        counts += torch.bincount(memory.get_sampling_indexes(), minlength=20)
    # each row expected 2000 * 4 / 20 = 400 times; binomial sd ~ 18
    assert counts.min() > 330 and counts.max() < 470


def test_with_replacement_covers_the_whole_filled_memory():
    memory = make_memory(5, 2, steps=7)
    memory.sample(NAMES, batch_size=5000)
    assert sorted(memory.get_sampling_indexes().unique().tolist()) == list(range(10))


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize(
    ("memory_size", "num_envs", "steps", "env_slices"),
    [(10, 3, 4, ()), (10, 3, 10, ()), (10, 3, 13, ()), (10, 3, 13, (2,)), (6, 1, 17, ())],
)
def test_sequences_are_consecutive_writes_of_one_env(replacement, memory_size, num_envs, steps, env_slices):
    """Each run of L rows holds L consecutive writes of one env: it never crosses the write head."""
    memory = make_memory(memory_size, num_envs, steps, replacement, env_slices)
    length = 3
    [[states, actions, _]] = memory.sample(NAMES, batch_size=40, sequence_length=length)
    assert torch.equal(actions, states.repeat(1, 2))
    runs = states.view(-1, length)
    for run in runs.tolist():
        written = [written_step_and_env(value) for value in run]
        env = written[0][1]
        assert written == [(written[0][0] + offset, env) for offset in range(length)], run
    assert len(memory.get_sampling_indexes()) == runs.numel()


def test_sequences_reach_the_newest_and_the_oldest_complete_steps():
    memory = make_memory(6, 2, steps=9)  # holds writes 3..8
    [[states]] = memory.sample(["states"], batch_size=500, sequence_length=2)
    first_steps = {written_step_and_env(run[0])[0] for run in states.view(-1, 2).tolist()}
    assert first_steps == {3, 4, 5, 6, 7}


def test_sequences_without_replacement_never_repeat_a_row():
    memory = make_memory(50, 2, steps=60, replacement=False)
    for _ in range(20):
        memory.sample(NAMES, batch_size=12, sequence_length=4)
        rows = memory.get_sampling_indexes()
        assert rows.numel() == 48
        assert rows.unique().numel() == 48


def test_sequences_with_mini_batches_split_in_whole_runs():
    memory = make_memory(20, 2, steps=20)
    batches = memory.sample(["states"], batch_size=5, mini_batches=2, sequence_length=3)
    assert [len(batch[0]) for batch in batches] == [6, 9]
    rows = memory.get_sampling_indexes()
    again = memory.sample_by_index(["states"], rows, mini_batches=2, sequence_length=3)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again))


def test_sequences_longer_than_the_data_explain():
    memory = make_memory(10, 2, steps=2)
    with pytest.raises(ValueError, match="holds 2 complete time steps, fewer than sequence_length=3"):
        memory.sample(NAMES, batch_size=4, sequence_length=3)


def test_non_positive_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch_size and sequence_length must be >= 1, got 0 and 1"):
        make_memory(4, 1, steps=2).sample(NAMES, batch_size=0)


def test_a_subset_of_a_wide_group_is_gathered_alone():
    memory = make_memory(8, 2, steps=8)
    memory.create_tensor("big", 40)
    [[states]] = memory.sample(["states"], batch_size=3)
    assert torch.equal(states, memory.tensors_view["states"][memory.get_sampling_indexes()])
