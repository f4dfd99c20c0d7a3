"""`HostFlag`: a flag set on the device that the host reads without waiting for the device.

Used for checks that must not stall a training step (NaN/inf data and losses, invalid
probabilities): the device sets the flag, the host reads it at a later, cheap moment.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class HostFlag:
    """A 0-d bool tensor set on the device that the host reads without waiting for the device.

    On CPU the tensor shares its memory with a numpy array, so a read is exact and costs nothing.
    On CUDA `publish` starts a copy to pinned host memory (no wait) and `read` returns the last
    copy that has landed (its initial value before): a read lags the device by the copies in flight.
    """

    def __init__(self, device: torch.device, value: bool) -> None:
        self._event: Any = None
        self._last = value
        if device.type == "cpu":
            self._host = np.full((), value, dtype=np.bool_)
            self.tensor = torch.from_numpy(self._host)
            self._pinned = None
        else:
            self.tensor = torch.full((), value, dtype=torch.bool, device=device)
            self._pinned = torch.full((), value, dtype=torch.bool, pin_memory=True)
            self._host = self._pinned.numpy()

    def publish(self) -> None:
        """CUDA: copy the device value to the host asynchronously (unless a copy is in flight)."""
        if self._pinned is None or (self._event is not None and not self._event.query()):
            return
        self._pinned.copy_(self.tensor, non_blocking=True)
        self._event = torch.cuda.Event()
        self._event.record(torch.cuda.current_stream(self.tensor.device))

    def read(self, wait: bool = False) -> bool:
        """The value on the host (CUDA: of the last copy that has landed; ``wait``: of the device now)."""
        if self._pinned is None:
            return bool(self._host)
        if wait:
            if self._event is not None:
                self._event.synchronize()
            self._event = None
            self.publish()
            self._event.synchronize()
        if self._event is not None and self._event.query():
            self._last = bool(self._host)
        return self._last

    def set(self, value: bool) -> None:
        """Set the device value; on CUDA a copy still in flight (of the old value) is not read."""
        self.tensor.fill_(value)
        self._last = value
        self._event = None
