"""`UnfinishedEpisodes`: each env's episode still running at the end of a rollout, kept for the next.

CEM scores whole episodes, but an episode may start in one rollout and end in a later one (a
500-step CartPole episode spans many rollouts). The steps of such an episode are carried over,
so the episode is scored, with all its steps, in the rollout where it ends.

A carried block is (L, N, ·), as long as the longest running episode: in the columns of envs
whose episode began later, the earlier rows are padding, marked invalid and made one-step
"episodes" of their own (ended, reward 0) so that they never join a real one. An episode longer
than ``max_steps`` is dropped and the rest of it, once it ends, is not scored either.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class Steps(NamedTuple):
    """A block of (T, N, ·) steps: states as acted on, (T, N, 1) actions, rewards and episode ends."""

    states: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    episode_ends: torch.Tensor


class UnfinishedEpisodes:
    """The carried steps of the running episodes (see the module docstring).

    Args:
        max_steps: the longest episode kept; a longer one is not scored.
    """

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self._carried: Steps | None = None
        self._carried_valid: torch.Tensor | None = None
        self._unknown_start: torch.Tensor | None = None

    def join(self, rollout: Steps) -> tuple[Steps, torch.Tensor]:
        """The carried steps followed by ``rollout``, and (T, N, 1) bool: the steps that may be scored.

        A step may be scored when its episode's first step is in the block: padding and the rest
        of a dropped episode may not.
        """
        ends = rollout.episode_ends
        if self._unknown_start is None:
            self._unknown_start = torch.zeros_like(ends[0])
        is_first_segment = (torch.cumsum(ends.to(torch.int32), dim=0) - ends.to(torch.int32)) == 0
        valid = ~(self._unknown_start & is_first_segment)
        # an episode that starts in this rollout is known from its first step
        self._unknown_start = self._unknown_start & ~ends.any(dim=0)
        if self._carried is None:
            return rollout, valid
        block = Steps(*(torch.cat([old, new], dim=0) for old, new in zip(self._carried, rollout)))
        return block, torch.cat([self._carried_valid, valid], dim=0)

    def keep(self, block: Steps, valid: torch.Tensor, is_finished: torch.Tensor) -> None:
        """Keep the running episodes of ``block`` (its valid, unfinished steps) for the next `join`.

        Reads the block's earliest running step on the host (once per rollout).
        """
        running = valid & ~is_finished
        too_long = running.sum(dim=0) > self.max_steps
        self._unknown_start = self._unknown_start | too_long
        running = running & ~too_long
        is_running_at = running.flatten(1).any(dim=1)
        if not bool(is_running_at.any()):
            self._carried = self._carried_valid = None
            return
        start = int(torch.argmax(is_running_at.to(torch.int8)))
        kept = running[start:]
        rows = Steps(*(tensor[start:] for tensor in block))
        self._carried = Steps(
            states=rows.states,
            actions=rows.actions,
            rewards=torch.where(kept, rows.rewards, torch.zeros_like(rows.rewards)),
            episode_ends=rows.episode_ends | ~kept,
        )
        self._carried_valid = kept

    def clear(self) -> None:
        """Forget the carried steps (the envs are reset: every episode starts afresh)."""
        self._carried = self._carried_valid = self._unknown_start = None
