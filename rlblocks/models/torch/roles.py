"""Per-role settings and run-time state shared by every mixin.

One module can be registered under several roles (a shared policy/value network) and each call
passes its role. Settings of an unknown role fall back to the default role's: the "" role if it
was registered, otherwise the first role registered. Run-time state (the last distribution) is
stored under the call's role; asking for a role that never acted returns the latest state.
Copies (``copy.deepcopy``, pickling) keep the settings and start without run-time state: a stored
distribution holds tensors of the last call's autograd graph, which cannot be deep-copied.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Settings = TypeVar("Settings")
State = TypeVar("State")


class RoleTable(Generic[Settings, State]):
    """Settings registered per role, and the last run-time state per role."""

    def __init__(self) -> None:
        self._settings: dict[str, Settings] = {}
        self._default: Settings | None = None
        self._states: dict[str, State] = {}
        self._latest: State | None = None

    def __getstate__(self) -> dict:
        return {"_settings": self._settings, "_default": self._default, "_states": {}, "_latest": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def register(self, role: str, settings: Settings) -> None:
        """Register ``settings`` for ``role``; "" (or the first role) becomes the default."""
        self._settings[role] = settings
        if role == "" or self._default is None:
            self._default = settings

    def settings(self, role: str) -> Settings:
        """The settings of ``role``, or of the default role if ``role`` was never registered."""
        return self._settings.get(role, self._default)

    def store(self, role: str, state: State) -> None:
        """Remember ``state`` as ``role``'s latest run-time state."""
        self._states[role] = state
        self._latest = state

    def state(self, role: str) -> State | None:
        """``role``'s latest state, else the latest state of any role, else None (never acted)."""
        return self._states.get(role, self._latest)

    def require_state(self, role: str, method: str) -> State:
        """Like `state`, but raise when nothing has acted yet.

        Raises:
            RuntimeError: no `act` call has stored a state.
        """
        state = self.state(role)
        if state is None:
            raise RuntimeError(f"{method}(role={role!r}) needs a distribution: call act() first.")
        return state

    @property
    def roles(self) -> list[str]:
        """The registered roles, in registration order."""
        return list(self._settings)


def role_table(module: object, attribute: str) -> RoleTable:
    """The mixin's table stored on ``module`` under ``attribute``, created on first use."""
    table = module.__dict__.get(attribute)
    if table is None:
        table = RoleTable()
        object.__setattr__(module, attribute, table)
    return table
