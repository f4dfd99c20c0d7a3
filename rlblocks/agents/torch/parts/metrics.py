"""`Metrics`: values tracked for TensorBoard, kept on the device until a write reads them.

Tracking a 0-d tensor costs no host synchronisation: values are appended as they come and
reduced on the device when written, all tags together, with one device-to-host transfer.
A tag ending in "(min)" or "(max)" is reduced by its min or max, any other by its mean.
"""

from __future__ import annotations

from typing import Any

import torch


class Metrics:
    """Tracked values by tag, since the last `pop`.

    Attributes:
        values: {tag: [floats or 0-d tensors]}, the values tracked since the last `pop`.
    """

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}

    def add(self, tag: str, value: Any) -> None:
        """Track ``value`` (a number or a 0-d tensor, detached here) under ``tag``."""
        if torch.is_tensor(value):
            value = value.detach()
        self.values.setdefault(tag, []).append(value)

    def add_statistics(self, tag: str, values: torch.Tensor) -> None:
        """Track the max, min and mean of ``values`` under "<tag> (max)", "<tag> (min)", "<tag> (mean)"."""
        values = values.detach()
        self.add(f"{tag} (max)", values.max())
        self.add(f"{tag} (min)", values.min())
        self.add(f"{tag} (mean)", values.mean())

    def pop(self) -> dict[str, float]:
        """Every tag's reduced value as a float, then forget them; one host transfer per device."""
        reduced: dict[str, Any] = {tag: _reduce(tag, values) for tag, values in self.values.items()}
        self.values = {}
        on_device = [tag for tag, value in reduced.items() if torch.is_tensor(value)]
        by_device: dict[torch.device, list[str]] = {}
        for tag in on_device:
            by_device.setdefault(reduced[tag].device, []).append(tag)
        for tags in by_device.values():
            numbers = torch.stack([reduced[tag].to(torch.float32) for tag in tags]).tolist()
            reduced.update(zip(tags, numbers))
        return {tag: float(value) for tag, value in reduced.items()}


def _reduce(tag: str, values: list[Any]) -> Any:
    """The min, max or mean of ``values`` (a tensor if any value is one, else a float)."""
    if not any(torch.is_tensor(value) for value in values):
        if tag.endswith("(min)"):
            return min(values)
        if tag.endswith("(max)"):
            return max(values)
        return sum(values) / len(values)
    device = next(value.device for value in values if torch.is_tensor(value))
    stacked = torch.stack([torch.as_tensor(value, dtype=torch.float32, device=device) for value in values])
    if tag.endswith("(min)"):
        return stacked.min()
    if tag.endswith("(max)"):
        return stacked.max()
    return stacked.mean()
