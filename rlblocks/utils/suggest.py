"""Suggestions for error messages: the nearest valid name to a mistyped one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: object, candidates: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the closest candidate to ``value``, or "" if none is close."""
    close = difflib.get_close_matches(str(value), list(candidates), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""
