"""SIGTERM (a container stop, a cluster preemption) handled like Ctrl-C while training.

`stop_requests_as_interrupts` turns SIGTERM into a `TerminationRequested` exception, a
`KeyboardInterrupt`, so the code that saves a checkpoint on Ctrl-C saves one on SIGTERM too; the
command then exits with the conventional status 128 + signal number (143).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM arrived during the block; ``signal_number`` is the signal's."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"terminated by signal {signal_number}")
        self.signal_number = signal_number


@contextlib.contextmanager
def stop_requests_as_interrupts() -> Iterator[None]:
    """Inside the block, SIGTERM raises `TerminationRequested`; the previous handler comes back after.

    Only the main thread can install signal handlers; elsewhere the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_termination(signal_number: int, frame: FrameType | None) -> None:
        raise TerminationRequested(signal_number)

    previous = signal.signal(signal.SIGTERM, raise_termination)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
