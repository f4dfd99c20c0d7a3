"""Per-environment episode returns and lengths, kept as tensors so a step costs no Python loop.

Differs from skrl 0.10 (bug #1): when one environment finishes, only its own running return and
length are reset (skrl also resets environment 0's).
"""

from __future__ import annotations

from collections import deque

import torch


class EpisodeStatistics:
    """Running returns/lengths per env, and the returns of finished episodes.

    Attributes:
        recent_returns: returns of the last ≤100 finished episodes (never cleared).
        finished_returns, finished_lengths: episodes finished since the last `pop_finished`.
    """

    def __init__(self, window: int = 100) -> None:
        self._returns: torch.Tensor | None = None
        self._lengths: torch.Tensor | None = None
        self._reward_total: torch.Tensor | None = None
        self._num_steps = 0
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.finished_returns: list[float] = []
        self.finished_lengths: list[int] = []

    def record(self, rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Add one step of (N, 1) rewards and episode-end flags (a few tensor ops; one sync)."""
        if self._returns is None:
            self._returns = torch.zeros_like(rewards)
            self._lengths = torch.zeros_like(rewards, dtype=torch.int64)
            self._reward_total = torch.zeros_like(rewards)
        self._returns += rewards
        self._lengths += 1
        self._reward_total += rewards
        self._num_steps += 1
        ended = terminated | truncated
        if ended.any():
            indexes = ended.view(-1).nonzero().view(-1)
            returns = self._returns.view(-1)[indexes].tolist()
            self.recent_returns.extend(returns)
            self.finished_returns.extend(returns)
            self.finished_lengths.extend(self._lengths.view(-1)[indexes].tolist())
            self._returns.view(-1)[indexes] = 0
            self._lengths.view(-1)[indexes] = 0

    @property
    def recent_mean_return(self) -> float | None:
        """Mean return of the last ≤100 finished episodes; None before the first ends."""
        return sum(self.recent_returns) / len(self.recent_returns) if self.recent_returns else None

    def pop_summary(self) -> dict[str, list[float]]:
        """Statistics since the last call, then clear them.

        Returns:
            {"returns": [...], "lengths": [...], "mean_reward": [mean per-step reward] or []}.
        """
        summary = {"returns": self.finished_returns, "lengths": self.finished_lengths, "mean_reward": []}
        if self._num_steps:
            summary["mean_reward"] = [float(self._reward_total.mean()) / self._num_steps]
            self._reward_total.zero_()
        self.finished_returns, self.finished_lengths = [], []
        self._num_steps = 0
        return summary
