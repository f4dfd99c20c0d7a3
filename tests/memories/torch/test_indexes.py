"""Index arithmetic: env-major order, mini-batch splits, distinct draws, complete steps, sequence rows."""

import pytest
import torch

from rlblocks.memories.torch.indexes import (
    complete_steps,
    draw_distinct,
    env_major_order,
    sequence_rows,
    split_sizes,
)


def test_env_major_order_lists_each_env_in_time_order():
    assert env_major_order(3, 2).tolist() == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize(
    ("num_rows", "mini_batches", "unit", "expected"),
    [
        (8, 1, 1, [8]),
        (8, 4, 1, [2, 2, 2, 2]),
        (8, 3, 1, [2, 3, 3]),
        (10, 3, 1, [3, 3, 4]),
        (12, 2, 3, [6, 6]),
        (15, 2, 3, [6, 9]),
        (5, 5, 1, [1, 1, 1, 1, 1]),
    ],
)
def test_split_sizes_gives_exactly_mini_batches(num_rows, mini_batches, unit, expected):
    assert split_sizes(num_rows, mini_batches, unit) == expected


def test_split_sizes_errors():
    with pytest.raises(ValueError, match="cannot split 2 sequences of 3 rows into 3 mini-batches"):
        split_sizes(6, 3, 3)
    with pytest.raises(ValueError, match="7 rows do not form whole sequences of sequence_length=3"):
        split_sizes(7, 1, 3)
    with pytest.raises(ValueError, match="mini_batches must be >= 1, got 0"):
        split_sizes(7, 0)


@pytest.mark.parametrize(
    ("num_candidates", "count"), [(10, 3), (10, 10), (10, 20), (1_000_000, 256), (100, 20)]
)
def test_draw_distinct_gives_distinct_values_in_range(num_candidates, count):
    values = draw_distinct(num_candidates, count)
    assert values.numel() == min(count, num_candidates)
    assert values.unique().numel() == values.numel()
    assert values.min() >= 0 and values.max() < num_candidates


def test_draw_distinct_order_is_random():
    values = draw_distinct(1_000_000, 256)
    assert not torch.equal(values, values.sort().values)


@pytest.mark.parametrize(
    ("memory_index", "env_index", "filled", "expected"),
    [
        (0, 0, False, (0, 0)),
        (3, 0, False, (0, 3)),
        (3, 2, False, (0, 3)),
        (3, 0, True, (3, 5)),
        (3, 1, True, (4, 4)),
        (4, 1, True, (0, 4)),
        (0, 0, True, (0, 5)),
    ],
)
def test_complete_steps(memory_index, env_index, filled, expected):
    assert complete_steps(memory_index, env_index, filled, memory_size=5) == expected


def test_sequence_rows_follow_one_env_and_wrap_around_the_end():
    # memory_size 4, num_envs 2, oldest complete step 2: start 3 is env 1 from step (2 + 1) % 4 = 3
    rows = sequence_rows(torch.tensor([0, 3]), 3, first_step=2, memory_size=4, num_envs=2)
    assert rows.tolist() == [4, 6, 0, 7, 1, 3]
