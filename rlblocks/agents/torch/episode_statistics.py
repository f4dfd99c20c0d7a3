"""Per-environment episode returns and lengths, kept as tensors so a step costs no Python loop.

Differs from skrl 0.10 (bug #1): when one environment finishes, only its own running return and
length are reset (skrl also resets environment 0's).
"""

from __future__ import annotations

from collections import deque

import torch


class EpisodeStatistics:
    """Running returns per env, and the returns and lengths of finished episodes.

    A step costs three tensor ops (add the rewards, or the end flags, test them); lengths come from
    the step at which each env's episode started, and the mean per-step reward since the last
    summary from the returns, so neither needs per-step work.

    Attributes:
        recent_returns: returns of the last ≤100 finished episodes (never cleared).
        finished_returns, finished_lengths: episodes finished since the last `pop_summary`.
        any_ended: whether an episode ended at the last recorded step.
    """

    def __init__(self, window: int = 100) -> None:
        self._returns: torch.Tensor | None = None
        self._episode_starts: torch.Tensor | None = None
        self._returns_at_summary: torch.Tensor | None = None
        self._num_steps = 0
        self._steps_since_summary = 0
        self._finished_reward_since_summary = 0.0
        self.recent_returns: deque[float] = deque(maxlen=window)
        self.finished_returns: list[float] = []
        self.finished_lengths: list[int] = []
        self.any_ended = False

    def record(self, rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor) -> None:
        """Add one step of (N, 1) rewards and episode-end flags."""
        if self._returns is None:
            self._returns = torch.zeros_like(rewards)
            self._returns_at_summary = torch.zeros_like(rewards)
            self._episode_starts = torch.zeros(rewards.shape, dtype=torch.int64, device=rewards.device)
        self._returns += rewards
        self._num_steps += 1
        self._steps_since_summary += 1
        ended = terminated | truncated
        self.any_ended = bool(ended.any())
        if self.any_ended:
            indexes = ended.view(-1).nonzero().view(-1)
            returns = self._returns.view(-1)[indexes]
            lengths = self._num_steps - self._episode_starts.view(-1)[indexes]
            finished = returns.tolist()
            self.recent_returns.extend(finished)
            self.finished_returns.extend(finished)
            self.finished_lengths.extend(lengths.tolist())
            # what these episodes had already earned at the last summary was counted there
            self._finished_reward_since_summary += float(
                (returns - self._returns_at_summary.view(-1)[indexes]).sum()
            )
            self._returns.view(-1)[indexes] = 0
            self._returns_at_summary.view(-1)[indexes] = 0
            self._episode_starts.view(-1)[indexes] = self._num_steps

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
        if self._steps_since_summary:
            running = float((self._returns - self._returns_at_summary).sum())
            total = self._finished_reward_since_summary + running
            summary["mean_reward"] = [total / (self._steps_since_summary * self._returns.numel())]
            self._returns_at_summary.copy_(self._returns)
        self.finished_returns, self.finished_lengths = [], []
        self._steps_since_summary = 0
        self._finished_reward_since_summary = 0.0
        return summary
