"""`ProgressBar`: a tqdm bar over timesteps showing the rate and the agents' recent mean return.

The per-step cost is one `tqdm.update` and one clock read; the mean return is read from the agents
and written to the bar at most every `refresh_seconds`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import tqdm


class ProgressBar:
    """Progress over the timesteps `initial..total`, with a throttled mean-return postfix.

    Args:
        agents: the agents whose `recent_mean_return` (float or None) is shown.
        initial: the first timestep (a resumed run starts past 0).
        total: the number of timesteps of the whole run.
        disable: show nothing; `update` then does nothing. None: disable when stdout is not a
            terminal (skrl's meaning of `disable_progressbar=None`).
        refresh_seconds: the least time between two postfix refreshes.
    """

    def __init__(
        self,
        agents: Sequence[Any],
        initial: int,
        total: int,
        disable: bool | None = False,
        refresh_seconds: float = 0.5,
    ) -> None:
        self.agents = list(agents)
        self.disabled = not sys.stdout.isatty() if disable is None else disable
        self.refresh_seconds = refresh_seconds
        self._bar = tqdm.tqdm(
            total=total, initial=initial, disable=self.disabled, unit="timestep", smoothing=0.1
        )
        self._next_refresh = time.monotonic() + refresh_seconds

    def update(self) -> None:
        """Count one timestep; refresh the mean return if `refresh_seconds` have passed."""
        if self.disabled:
            return
        self._bar.update(1)
        now = time.monotonic()
        if now >= self._next_refresh:
            self._next_refresh = now + self.refresh_seconds
            self._bar.set_postfix(self.postfix(), refresh=False)

    def postfix(self) -> dict[str, str]:
        """{"mean_return": ...} for one agent, {"mean_return_0": ..., ...} for several; None skipped."""
        postfix = {}
        for index, agent in enumerate(self.agents):
            mean_return = getattr(agent, "recent_mean_return", None)
            if mean_return is not None:
                key = "mean_return" if len(self.agents) == 1 else f"mean_return_{index}"
                postfix[key] = f"{mean_return:.3g}"
        return postfix

    def close(self) -> None:
        """Show the final postfix and close the bar."""
        if not self.disabled:
            self._bar.set_postfix(self.postfix(), refresh=False)
        self._bar.close()
