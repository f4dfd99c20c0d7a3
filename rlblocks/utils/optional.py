"""Importing an optional package that a config key asked for, with an error that names the install."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_for_key(module: str, key: str, install: str) -> ModuleType:
    """Import ``module``, needed because the config key ``key`` is set.

    Raises:
        ImportError: the package is missing; the message names the key and the install command.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{key} is True but {module} is not installed: {install}, or set it to False"
        ) from error
