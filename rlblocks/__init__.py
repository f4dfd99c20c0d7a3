"""rlblocks: reinforcement-learning building blocks for PyTorch.

Importing the package sets up only its own logger (``logging.getLogger("rlblocks")``), whose
records print as ``[rlblocks:WARNING] message``; no global state (root logger, seeds, torch
settings) is touched. ``rlblocks.train``, ``rlblocks.evaluate`` and ``rlblocks.export``
(`rlblocks.workflow`) are imported on first use.
"""

import logging

__version__ = "0.1.0"
__all__ = ["__version__", "evaluate", "export", "logger", "train"]

_WORKFLOW = ("evaluate", "export", "train")
"""`rlblocks.workflow` functions, imported on first use so that ``import rlblocks`` stays light."""


def __getattr__(name: str) -> object:
    if name in _WORKFLOW:
        from rlblocks import workflow

        return getattr(workflow, name)
    raise AttributeError(f"module 'rlblocks' has no attribute {name!r}")


def _make_logger() -> logging.Logger:
    package_logger = logging.getLogger("rlblocks")
    if not any(getattr(handler, "_rlblocks", False) for handler in package_logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(name)s:%(levelname)s] %(message)s"))
        handler._rlblocks = True  # marks our handler so a re-import does not add a second one
        package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    return package_logger


logger = _make_logger()
