"""Per-environment episode returns and lengths, kept on the device so a step costs no host sync.

The episodes that end are found with masks, not indexes, and their returns and lengths are folded
into on-device totals (count, sum, min, max) and a ring of the last ``window`` returns; a summary
or `recent_mean_return` reads them to the host, once per log write or checkpoint. When the caller
knows on the host that no episode ended (``any_ended=False``, from the env's own flags), a step
costs two additions.

Differs from skrl 0.10 (bug #1): when one environment finishes, only its own running return and
length are reset (skrl also resets environment 0's).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from rlblocks.agents.torch.episode_log import EpisodeLog


class EpisodeStatistics:
    """Running returns per env, and the returns and lengths of finished episodes.

    Args:
        window: how many of the latest finished returns `recent_mean_return` averages.
    """

    def __init__(self, window: int = 100) -> None:
        self.window = window
        self._is_allocated = False
        self._steps_since_summary = 0
        # the last `window` returns; slot `window` takes the writes of envs that did not end
        self._ring = torch.zeros(window + 1)
        self._ring_next = torch.zeros((), dtype=torch.int64)
        self._ring_total = torch.zeros((), dtype=torch.int64)
        self.log: EpisodeLog | None = None
        """Where each finished episode is also logged (set by the agent when it writes logs)."""

    def _allocate(self, rewards: torch.Tensor) -> None:
        device = rewards.device
        self._returns = torch.zeros_like(rewards, dtype=torch.float32)
        self._lengths = torch.zeros(rewards.shape, dtype=torch.int64, device=device)
        self._reward_sum = torch.zeros((), dtype=torch.float64, device=device)
        # totals since the last summary: count, sum/min/max of returns and of lengths
        self._count = torch.zeros((), dtype=torch.int64, device=device)
        self._sums = torch.zeros(2, dtype=torch.float64, device=device)
        self._minima = torch.full((2,), float("inf"), dtype=torch.float64, device=device)
        self._maxima = torch.full((2,), float("-inf"), dtype=torch.float64, device=device)
        self._ring = self._ring.to(device)
        self._ring_next = self._ring_next.to(device)
        self._ring_total = self._ring_total.to(device)
        self._steps_since_summary = 0
        self._is_allocated = True

    def record(
        self,
        rewards: torch.Tensor,
        terminated: torch.Tensor,
        truncated: torch.Tensor,
        any_ended: bool | None = None,
        env_steps: int | None = None,
    ) -> None:
        """Add one step of (N, 1) rewards and episode-end flags.

        Args:
            rewards: (N, 1) rewards of the step.
            terminated: (N, 1) bool, the episodes that terminated at the step.
            truncated: (N, 1) bool, the episodes cut (e.g. by a time limit) at the step.
            any_ended: whether some episode ended at this step, when the caller knows it on the
                host (False skips the end-of-episode work); None: not known.
            env_steps: the run's env steps after this step, for the episode log.
        """
        if not self._is_allocated:
            self._allocate(rewards)
        elif self._returns.shape != rewards.shape:
            # another number of envs (e.g. evaluating on 1 env after training on 256): the running
            # episodes of the old envs are dropped, the finished ones kept
            self._returns = torch.zeros_like(rewards, dtype=torch.float32)
            self._lengths = torch.zeros(rewards.shape, dtype=torch.int64, device=rewards.device)
        self._returns += rewards
        self._lengths += 1
        self._reward_sum += rewards.sum()
        self._steps_since_summary += 1
        if any_ended is False:
            return
        self._fold_ended((terminated | truncated).view(-1), env_steps)

    def _fold_ended(self, ended: torch.Tensor, env_steps: int | None = None) -> None:
        """Fold the (N,) ``ended`` envs' episodes into the totals and the ring; restart their counts."""
        returns = self._returns.view(-1)
        lengths = self._lengths.view(-1).to(torch.float64)
        if self.log is not None and env_steps is not None:
            self.log.add(ended, returns, lengths, env_steps)
        count = ended.sum()
        both = torch.stack((returns.to(torch.float64), lengths))  # (2, N)
        mask = ended.unsqueeze(0)
        self._count += count
        self._sums += torch.where(mask, both, 0.0).sum(dim=1)
        self._minima = torch.minimum(self._minima, torch.where(mask, both, float("inf")).amin(dim=1))
        self._maxima = torch.maximum(self._maxima, torch.where(mask, both, float("-inf")).amax(dim=1))
        # ring slots: the k-th ended env (in env order) goes to next + k; only the last `window` count
        order = torch.cumsum(ended, dim=0) - 1
        is_kept = ended & (order >= count - self.window)
        slots = torch.where(is_kept, (self._ring_next + order) % self.window, self.window)
        self._ring.index_put_((slots,), returns)
        self._ring_next = (self._ring_next + count) % self.window
        self._ring_total += count
        returns.masked_fill_(ended, 0.0)
        self._lengths.view(-1).masked_fill_(ended, 0)

    @property
    def recent_returns(self) -> list[float]:
        """Returns of the last ≤ ``window`` finished episodes, oldest first (reads the device)."""
        total, start = torch.stack((self._ring_total, self._ring_next)).tolist()
        if total < self.window:
            return self._ring[:total].tolist()
        return torch.roll(self._ring[: self.window], -start).tolist()

    def restore_recent_returns(self, returns: Iterable[float], replace: bool = False) -> None:
        """Put ``returns`` (oldest first) back as the latest finished episodes (a checkpoint's).

        Args:
            returns: the returns to restore.
            replace: forget the returns recorded so far (loading a checkpoint), instead of keeping
                them before ``returns``.
        """
        kept = [] if replace else self.recent_returns
        recent = [*kept, *(float(value) for value in returns)][-self.window :]
        self._ring[: len(recent)] = torch.tensor(recent, dtype=self._ring.dtype)
        self._ring_next.fill_(len(recent) % self.window)
        self._ring_total.fill_(len(recent))

    @property
    def recent_mean_return(self) -> float | None:
        """Mean return of the last ≤ ``window`` finished episodes; None before the first ends."""
        recent = self.recent_returns
        return sum(recent) / len(recent) if recent else None

    def pop_summary(self) -> dict[str, float | int | None]:
        """Statistics of the episodes finished since the last call (one host transfer), then clear them.

        Returns:
            {"count": finished episodes, "mean_return", "min_return", "max_return", "mean_length",
            "min_length", "max_length" (None when count is 0), "mean_reward": the mean per-step,
            per-env reward since the last call (None if no step)}.
        """
        if not self._steps_since_summary:
            return {"count": 0, "mean_reward": None, **dict.fromkeys(_SUMMARY_KEYS)}
        values = torch.cat(
            (
                self._count.view(1).to(torch.float64),
                self._sums,
                self._minima,
                self._maxima,
                self._reward_sum.view(1),
            )
        ).tolist()
        count, return_sum, length_sum, min_return, min_length, max_return, max_length, reward_sum = values
        count = int(count)
        summary: dict[str, float | int | None] = {"count": count}
        if count:
            summary.update(
                mean_return=return_sum / count,
                min_return=min_return,
                max_return=max_return,
                mean_length=length_sum / count,
                min_length=min_length,
                max_length=max_length,
            )
        else:
            summary.update(dict.fromkeys(_SUMMARY_KEYS))
        summary["mean_reward"] = reward_sum / (self._steps_since_summary * self._returns.numel())
        self._count.zero_()
        self._sums.zero_()
        self._minima.fill_(float("inf"))
        self._maxima.fill_(float("-inf"))
        self._reward_sum.zero_()
        self._steps_since_summary = 0
        return summary


_SUMMARY_KEYS = ("mean_return", "min_return", "max_return", "mean_length", "min_length", "max_length")
