"""`EpisodeLog`: one CSV line per finished episode (return, length, env steps, wall time).

Like stable-baselines3's Monitor files, ``<experiment>/episodes.csv`` lets a run be read without
TensorBoard. The episodes that end are appended to an on-device buffer with masks (no host sync per
step); `write` reads the buffer once, at the agent's TensorBoard write, and appends the lines. Wall
times between two writes are interpolated from the env steps (the buffer holds steps, not times).
If more than ``capacity`` episodes end between two writes, the first ``capacity`` are logged and the
number left out is written as a comment line.
"""

from __future__ import annotations

import os
import time

import torch

HEADER = "return,length,env_steps,time_s\n"
"""The columns: episode return, length (steps), env steps of the run when it ended, seconds since start."""


class EpisodeLog:
    """Finished episodes buffered on the device and appended to a CSV file at each write.

    Args:
        path: the CSV file (appended to; the header is written when the file is new).
        capacity: the most episodes kept between two writes.
    """

    def __init__(self, path: str, capacity: int = 4096) -> None:
        self.path = path
        self.capacity = capacity
        self._buffer: torch.Tensor | None = (
            None  # (capacity + 1, 3): return, length, env steps; last row a sink
        )
        self._count: torch.Tensor | None = None
        self._started = time.monotonic()
        self._last_write = (0, 0.0)  # (step, seconds) of the previous write

    def add(self, ended: torch.Tensor, returns: torch.Tensor, lengths: torch.Tensor, env_steps: int) -> None:
        """Buffer the episodes of the (N,) ``ended`` envs, with their (N,) returns and lengths.

        Args:
            ended: (N,) bool, the envs whose episode ended at this step.
            returns: (N,) the episodes' returns.
            lengths: (N,) their lengths.
            env_steps: the run's env steps when they ended (this step included).
        """
        if self._buffer is None:
            self._buffer = torch.zeros((self.capacity + 1, 3), dtype=torch.float64, device=returns.device)
            self._count = torch.zeros((), dtype=torch.int64, device=returns.device)
        slots = self._count + torch.cumsum(ended, dim=0) - 1
        slots = torch.where(ended & (slots < self.capacity), slots, self.capacity)
        rows = torch.stack(
            (
                returns.to(torch.float64),
                lengths.to(torch.float64),
                torch.full_like(lengths, env_steps, dtype=torch.float64),
            ),
            dim=1,
        )
        self._buffer.index_put_((slots,), rows)
        self._count += ended.sum()

    def write(self, env_steps: int) -> int:
        """Append the buffered episodes to the file (one host read); returns how many were written.

        Args:
            env_steps: the run's env steps now, to interpolate the episodes' wall times.
        """
        if self._buffer is None:
            return 0
        count = int(self._count)
        kept = min(count, self.capacity)
        rows = self._buffer[:kept].tolist()
        self._count.zero_()
        now = time.monotonic() - self._started
        last_step, last_time = self._last_write
        self._last_write = (env_steps, now)
        lines = []
        for episode_return, length, ended_at in rows:
            fraction = (ended_at - last_step) / max(env_steps - last_step, 1)
            seconds = last_time + min(max(fraction, 0.0), 1.0) * (now - last_time)
            lines.append(f"{episode_return:.6g},{int(length)},{int(ended_at)},{seconds:.3f}\n")
        if count > kept:
            lines.append(f"# {count - kept} more episodes ended before this write and are not listed\n")
        if not lines:
            return 0
        is_new = not os.path.exists(self.path)
        with open(self.path, "a", encoding="utf-8") as stream:
            if is_new:
                stream.write(HEADER)
            stream.writelines(lines)
        return kept
