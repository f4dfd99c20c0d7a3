"""`RandomMemory`: uniform random sampling from the rows written so far (the replay buffer).

`sample(names, batch_size)` draws `batch_size` rows uniformly, with or without replacement. With
`sequence_length = L > 1` it draws `batch_size` runs instead, each L consecutive time steps of one
environment (B * L rows, run i at rows i*L .. i*L + L-1), for recurrent models.

Runs never cross the write head: a run covers only complete time steps (written by every
environment) in chronological order, so it never mixes the newest data with the oldest. Once
the buffer has wrapped a run may continue from the last time step into the first, which
is the next step in time. Without replacement runs never overlap, so no row repeats in a batch.

Differs from skrl 0.10 (see docs/differences.md, "Memories"): skrl starts runs anywhere in
[0, len - (L-1) * num_envs), so a run can straddle the write head (old and new data) and the
latest L-1 steps are never sampled once the buffer wraps; without replacement it draws a full
permutation of the memory for every batch, where rlblocks draws only what it needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rlblocks.memories.torch.base import Batches, Memory
from rlblocks.memories.torch.indexes import complete_steps, draw_distinct, sequence_rows


class RandomMemory(Memory):
    """A memory sampled uniformly at random (see the module docstring for sequences)."""

    def __init__(
        self,
        memory_size: int,
        num_envs: int = 1,
        device: str | torch.device | None = None,
        export: bool = False,
        export_format: str = "pt",
        export_directory: str = "",
        replacement: bool = True,
    ) -> None:
        """Create an empty random-sampling memory.

        Args:
            memory_size: time steps kept per environment (>= 1).
            num_envs: environments written per time step (>= 1).
            device: "cpu", "cuda:0", ...; None picks "cuda:0" if available, else "cpu".
            export: save the memory (see `Memory.save`) each time it fills up.
            export_format: "pt", "npz" ("np" is an alias) or "csv".
            export_directory: where exports go (under a "memories" folder).
            replacement: draw rows with replacement (a row may repeat within a batch); without
                it a batch never repeats a row and holds at most `len(memory)` rows.
        """
        super().__init__(memory_size, num_envs, device, export, export_format, export_directory)
        self._replacement = replacement

    def sample(
        self, names: Sequence[str], batch_size: int, mini_batches: int = 1, sequence_length: int = 1
    ) -> Batches:
        """Draw a random batch of rows (or of runs of `sequence_length` steps).

        Args:
            names: tensor names; each batch lists their tensors in this order.
            batch_size: rows to draw (runs, with sequence_length > 1).
            mini_batches: split the batch into this many consecutive mini-batches (the last ones
                one row or run larger when they do not divide evenly).
            sequence_length: steps per run; 1 draws single rows.

        Returns:
            `mini_batches` lists of contiguous tensors, (batch_size * sequence_length, *shape) in all.
            The flat rows drawn are kept for `get_sampling_indexes`.

        Raises:
            KeyError: an unknown name.
            ValueError: the memory holds too little data, or a count is not positive.
        """
        if batch_size < 1 or sequence_length < 1:
            raise ValueError(
                f"batch_size and sequence_length must be >= 1, got {batch_size} and {sequence_length}"
            )
        if sequence_length == 1:
            rows = self._draw(len(self), batch_size)
        else:
            rows = self._draw_sequences(batch_size, sequence_length)
        self.sampling_indexes = rows
        if mini_batches == 1:
            return [self._storage.gather(names, rows)]
        return self.sample_by_index(names, rows, mini_batches, sequence_length)

    def _draw(self, num_candidates: int, count: int) -> torch.Tensor:
        """`count` integers from [0, num_candidates) (at most num_candidates without replacement)."""
        if num_candidates < 1:
            raise ValueError(
                "cannot sample from an empty memory (len(memory) == 0); add samples first, or sample "
                "after the agent's learning starts."
            )
        if self._replacement:
            return torch.randint(num_candidates, (count,), device=self.device)
        return draw_distinct(num_candidates, count, self.device)

    def _draw_sequences(self, count: int, sequence_length: int) -> torch.Tensor:
        """Rows of `count` runs of `sequence_length` complete, chronological steps of one env."""
        first_step, num_steps = complete_steps(
            self.memory_index, self.env_index, self.filled, self.memory_size
        )
        num_starts = num_steps - sequence_length + 1  # start steps whose run fits
        if num_starts < 1:
            raise ValueError(
                f"the memory holds {num_steps} complete time steps, fewer than sequence_length="
                f"{sequence_length}; add samples first or use a shorter sequence."
            )
        if self._replacement:
            starts = torch.randint(num_starts * self.num_envs, (count,), device=self.device)
        else:
            # Non-overlapping runs: start steps shift, shift + L, shift + 2L, ... for one random shift.
            shift = int(torch.randint(min(sequence_length, num_starts), ()))
            num_windows = (num_starts - 1 - shift) // sequence_length + 1
            windows = draw_distinct(num_windows * self.num_envs, count, self.device)
            step = (windows // self.num_envs) * sequence_length + shift
            starts = step * self.num_envs + windows % self.num_envs
        return sequence_rows(starts, sequence_length, first_step, self.memory_size, self.num_envs)
