"""`ProgressBar`: progress in environment steps, as a tqdm bar on a terminal or as plain lines.

On a terminal the bar shows env steps, env steps/s and the agents' recent mean return. Where stdout
is not a terminal (a log file on a cluster, CI) a redrawn bar would pile up into one endless line,
so a plain line is printed every `line_seconds` instead::

    [rlblocks] 40,960/200,000 env steps (20%) | 4,612 env steps/s | mean return 231 | ETA 0:00:34

The per-step cost is one counter update and one clock read; the mean return and the losses (the
values the agent last wrote to TensorBoard, already on the host) are read at most every
`refresh_seconds` for the bar and once per line.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Sequence
from typing import Any

import tqdm

MODES = ("auto", "bar", "lines", "none")
"""The trainer's ``progress`` values: "auto" is the bar on a terminal and plain lines otherwise."""


class ProgressBar:
    """Progress over the timesteps `initial..total`, counted in environment steps.

    Args:
        agents: the agents whose `recent_mean_return` (float or None) and `last_written` losses
            (a dict of the values last written to TensorBoard, when they have one) are shown.
        initial: the first timestep (a resumed run starts past 0).
        total: the number of timesteps of the whole run.
        disable: show nothing. None: hide the bar when stdout is not a terminal (skrl's meaning of
            `disable_progressbar=None`; plain lines are printed instead with ``mode`` "auto").
        refresh_seconds: the least time between two refreshes of the bar's postfix.
        env_steps_per_timestep: environment steps per timestep (the number of envs, times the ranks).
        mode: "auto" (bar on a terminal, lines otherwise), "bar", "lines" or "none".
        line_seconds: the time between two plain lines.
    """

    def __init__(
        self,
        agents: Sequence[Any],
        initial: int,
        total: int,
        disable: bool | None = False,
        refresh_seconds: float = 0.5,
        env_steps_per_timestep: int = 1,
        mode: str = "auto",
        line_seconds: float = 30.0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}.")
        self.agents = list(agents)
        is_terminal = sys.stdout.isatty()
        if disable:
            mode = "none"
        elif mode == "auto":
            mode = "bar" if is_terminal else "lines"
        if mode == "bar" and disable is None and not is_terminal:
            mode = "lines"
        self.mode = mode
        self.disabled = mode != "bar"
        self.refresh_seconds = refresh_seconds
        self.line_seconds = line_seconds
        self._per_timestep = max(1, int(env_steps_per_timestep))
        self._initial, self._total = initial * self._per_timestep, total * self._per_timestep
        self._done = self._initial
        self._bar = tqdm.tqdm(
            total=self._total,
            initial=self._initial,
            disable=self.disabled,
            unit=" env steps",
            smoothing=0.1,
        )
        self._started = time.monotonic()
        self._next_refresh = self._started + refresh_seconds
        self._next_line = self._started + line_seconds

    def update(self) -> None:
        """Count one timestep; refresh the postfix or print a line when their time has come."""
        if self.mode == "none":
            return
        self._done += self._per_timestep
        if self.mode == "bar":
            self._bar.update(self._per_timestep)
            now = time.monotonic()
            if now >= self._next_refresh:
                self._next_refresh = now + self.refresh_seconds
                self._bar.set_postfix(self.postfix(), refresh=False)
            return
        now = time.monotonic()
        if now >= self._next_line:
            self._next_line = now + self.line_seconds
            self._print_line(now)

    def postfix(self) -> dict[str, str]:
        """{"mean_return": ...} for one agent, {"mean_return_0": ..., ...} for several; None skipped."""
        postfix = {}
        for index, agent in enumerate(self.agents):
            mean_return = getattr(agent, "recent_mean_return", None)
            if mean_return is not None:
                key = "mean_return" if len(self.agents) == 1 else f"mean_return_{index}"
                postfix[key] = f"{mean_return:.3g}"
        return postfix

    def line(self, now: float | None = None) -> str:
        """The plain progress line: env steps, rate, mean return, losses, ETA."""
        elapsed = max((time.monotonic() if now is None else now) - self._started, 1e-9)
        rate = (self._done - self._initial) / elapsed
        parts = [f"{self._done:,}/{self._total:,} env steps ({100 * self._done / max(self._total, 1):.0f}%)"]
        parts.append(f"{rate:,.0f} env steps/s")
        parts += [f"{key.replace('_', ' ')} {value}" for key, value in self.postfix().items()]
        losses = self._losses()
        if losses:
            parts.append(", ".join(f"{tag} {value:.3g}" for tag, value in losses.items()))
        if rate > 0:
            remaining = (self._total - self._done) / rate
            parts.append(f"ETA {datetime.timedelta(seconds=round(remaining))}")
        return "[rlblocks] " + " | ".join(parts)

    def _losses(self) -> dict[str, float]:
        losses = {}
        for index, agent in enumerate(self.agents):
            written = getattr(agent, "last_written", None) or {}
            suffix = "" if len(self.agents) == 1 else f" ({index})"
            losses.update(
                {f"{tag}{suffix}": value for tag, value in written.items() if tag.startswith("Loss")}
            )
        return losses

    def _print_line(self, now: float | None = None) -> None:
        print(self.line(now), flush=True)

    def close(self) -> None:
        """Show the final postfix and close the bar, or print the last line."""
        if self.mode == "bar":
            self._bar.set_postfix(self.postfix(), refresh=False)
        elif self.mode == "lines" and self._done > self._initial:
            self._print_line()
        self._bar.close()
