"""`TargetNetworks`: slowly moving copies of networks, for stable bootstrap targets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class TargetNetworks:
    """(target, source) model pairs: each target is frozen and hard-copied from its source here.

    Args:
        pairs: (target model, source model) pairs; a pair with a None side is left out.
    """

    def __init__(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        self.pairs = [
            (target, source) for target, source in pairs if target is not None and source is not None
        ]
        for target, source in self.pairs:
            target.freeze_parameters(True)
            target.update_parameters(source, polyak=1)

    def update(self, polyak: float) -> None:
        """Every target moves towards its source: θ̄ ← (1 − ρ)·θ̄ + ρ·θ (ρ = ``polyak``; 1: a hard copy)."""
        for target, source in self.pairs:
            target.update_parameters(source, polyak=polyak)
