"""`PolicyInputs`: a policy's input dict that notes whether the model read ``"alpha"``."""

from __future__ import annotations

from typing import Any


class PolicyInputs(dict):
    """A dict of policy inputs recording whether ``"alpha"`` was looked up (``[]``, ``get`` or ``in``).

    RPO uses it once to learn whether the policy perturbs its mean itself, as skrl 1.x's RPO
    models do from ``inputs["alpha"]``.
    """

    is_alpha_read = False

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """``dict.get``, noting a lookup of "alpha"."""
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def _note(self, key: Any) -> None:
        if key == "alpha":
            self.is_alpha_read = True
