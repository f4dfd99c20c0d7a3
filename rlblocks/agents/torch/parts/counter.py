"""`StepCounter`: a count that checkpoints save and resumes restore."""

from __future__ import annotations

from collections.abc import Mapping


class StepCounter:
    """A counter saved in checkpoints (e.g. TD3's critic updates, which set the policy-delay phase)."""

    def __init__(self) -> None:
        self.count = 0

    def state_dict(self) -> dict[str, int]:
        """The count, for checkpoints."""
        return {"count": self.count}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        """Restore the count from a checkpoint."""
        self.count = int(state["count"])
