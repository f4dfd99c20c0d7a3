"""Index arithmetic of the circular buffer: row orders, mini-batch splits and random draws.

Rows are numbered time-major: the sample of environment `e` at time step `t` is row
`t * num_envs + e` of the flat (memory_size * num_envs, ...) views.
"""

from __future__ import annotations

import torch


def env_major_order(memory_size: int, num_envs: int, device: torch.device | None = None) -> torch.Tensor:
    """Every row, environment by environment: env 0's steps 0..T-1, then env 1's, ...

    Returns:
        (memory_size * num_envs,) long tensor; consecutive entries of one environment are
        consecutive time steps, which is what recurrent models need.
    """
    rows = torch.arange(memory_size * num_envs, device=device).view(memory_size, num_envs)
    return rows.t().reshape(-1)


def split_sizes(num_rows: int, mini_batches: int, unit: int = 1) -> list[int]:
    """Sizes of exactly `mini_batches` consecutive batches covering `num_rows` rows.

    Batches hold whole units of `unit` rows (a sequence of a recurrent model); when the units do not
    divide evenly the last batches are one unit larger, e.g. 8 rows in 3 batches give [2, 3, 3].

    Raises:
        ValueError: `num_rows` is not a multiple of `unit`, or there are fewer units than batches.
    """
    if mini_batches < 1:
        raise ValueError(f"mini_batches must be >= 1, got {mini_batches}")
    units, remainder = divmod(num_rows, unit)
    if remainder:
        raise ValueError(
            f"{num_rows} rows do not form whole sequences of sequence_length={unit}; "
            "use a memory_size (or batch) that is a multiple of the sequence length."
        )
    if mini_batches > units:
        what = "rows" if unit == 1 else f"sequences of {unit} rows"
        raise ValueError(
            f"cannot split {units} {what} into {mini_batches} mini-batches; use mini_batches <= {units}."
        )
    base, extra = divmod(units, mini_batches)
    return [base * unit] * (mini_batches - extra) + [(base + 1) * unit] * extra


def draw_distinct(num_candidates: int, count: int, device: torch.device | None = None) -> torch.Tensor:
    """`min(count, num_candidates)` distinct integers, uniform in [0, num_candidates), in random order.

    For a small batch from a large range this avoids the O(num_candidates) permutation: draw with
    replacement until `count` distinct values appear, then keep a random `count` of them. Which
    values appear is symmetric in the labels, so every subset is equally likely.
    """
    if count >= num_candidates or 4 * count > num_candidates:
        return torch.randperm(num_candidates, device=device)[:count]
    distinct = torch.empty(0, dtype=torch.long, device=device)
    while distinct.numel() < count:
        draws = torch.randint(num_candidates, (count + count // 4 + 8,), device=device)
        distinct = torch.unique(torch.cat((distinct, draws)))
    return distinct[torch.randperm(distinct.numel(), device=device)[:count]]


def complete_steps(memory_index: int, env_index: int, filled: bool, memory_size: int) -> tuple[int, int]:
    """The time steps every environment has written, in chronological order, as (first, count).

    Time step `t` is complete when all environments wrote it. Before the buffer wraps these are
    0..memory_index-1. Once it has wrapped they run from the oldest step (the write head) around to
    the newest; a step the head is part-way through (env_index > 0) mixes new and old data and is
    left out.
    """
    if not filled:
        return 0, memory_index
    is_partial = env_index > 0
    return (memory_index + is_partial) % memory_size, memory_size - is_partial


def sequence_rows(
    starts: torch.Tensor, sequence_length: int, first_step: int, memory_size: int, num_envs: int
) -> torch.Tensor:
    """Rows of the runs starting at `starts`, each run `sequence_length` consecutive steps of one env.

    Args:
        starts: (B,) long; start `s` is the run of env `s % num_envs` beginning `s // num_envs`
            complete steps after `first_step` (see `complete_steps`).
        sequence_length: L, the steps per run.
        first_step: the oldest complete time step.
        memory_size: time steps in the buffer (the runs wrap around its end).
        num_envs: environments per time step.

    Returns:
        (B * L,) long: run i occupies entries i*L .. i*L + L-1, oldest step first.
    """
    offsets = torch.arange(sequence_length, device=starts.device)
    steps = (first_step + (starts // num_envs).unsqueeze(1) + offsets) % memory_size
    return (steps * num_envs + (starts % num_envs).unsqueeze(1)).view(-1)
