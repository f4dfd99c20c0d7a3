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
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.finished_returns: list[float] = []
        self.finished_lengths: list[int] = []
        self._reward_sum = 0.0
        self._reward_count = 0
        self._reward_min = float("inf")
        self._reward_max = float("-inf")

    def record(self, rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Add one step of (N, 1) rewards and episode-end flags."""
        if self._returns is None:
            self._returns = torch.zeros_like(rewards, dtype=torch.float64)
            self._lengths = torch.zeros_like(rewards, dtype=torch.int64)
        self._returns += rewards
        self._lengths += 1
        self._reward_sum += float(rewards.sum())
        self._reward_count += rewards.numel()
        self._reward_min = min(self._reward_min, float(rewards.min()))
        self._reward_max = max(self._reward_max, float(rewards.max()))
        ended = (terminated | truncated).view(-1)
        if bool(ended.any()):
            indexes = ended.nonzero().view(-1)
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
            {"returns": [...], "lengths": [...], "rewards": [min, mean, max] of per-step rewards}.
        """
        summary = {"returns": self.finished_returns, "lengths": self.finished_lengths, "rewards": []}
        if self._reward_count:
            mean = self._reward_sum / self._reward_count
            summary["rewards"] = [self._reward_min, mean, self._reward_max]
        self.finished_returns, self.finished_lengths = [], []
        self._reward_sum, self._reward_count = 0.0, 0
        self._reward_min, self._reward_max = float("inf"), float("-inf")
        return summary
