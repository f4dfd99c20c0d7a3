"""The temporary files of atomic writes: their names, and removing those a killed write left behind.

`rlblocks.utils.checkpoint.atomic_write` writes into ``.tmp-rlblocks-<pid>-<8 random
characters><suffix>`` beside the destination and renames it over the destination; a process killed
mid-write (``kill -9``, a power cut) leaves that file. `remove_orphan_temporaries` runs when a run
directory is opened again (``rlblocks train --resume``, ``rlblocks eval``, ``Agent.init``) and
removes only files of that pattern whose write cannot be in progress.
"""

from __future__ import annotations

import contextlib
import os
import re
import time

from rlblocks import logger

PREFIX = ".tmp-rlblocks-"
_NAME = re.compile(r"\.tmp-rlblocks-(\d+)-[a-z0-9_]{8}(?:\.[A-Za-z0-9]+)?")
"""`PREFIX`, the writer's pid, `tempfile.mkstemp`'s 8 random characters, the suffix (".pt", ".tmp")."""
_ORPHAN_AGE_SECONDS = 3600.0
"""Where a process cannot be probed (not POSIX), a temporary file untouched this long is an orphan."""
being_written: set[str] = set()
"""Absolute paths of the temporary files this process is writing now (`atomic_write` keeps it)."""


def prefix() -> str:
    """The ``tempfile.mkstemp`` prefix of this process's temporary files."""
    return f"{PREFIX}{os.getpid()}-"


def remove_orphan_temporaries(*directories: str | os.PathLike) -> list[str]:
    """Remove the temporary files that killed atomic writes left in ``directories``.

    Only regular files named like this module's (``.tmp-rlblocks-<pid>-...``) are removed, and only
    when no write can be in progress: process ``<pid>`` is gone, or it is this process and it is not
    writing that file. Sub-folders are not searched; missing directories are skipped.

    Returns:
        the paths removed.
    """
    removed = []
    for directory in directories:
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            match = _NAME.fullmatch(name)
            path = os.path.abspath(os.path.join(directory, name))
            if match is None or os.path.islink(path) or not os.path.isfile(path):
                continue
            if _may_be_written(path, int(match.group(1))):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    if removed:
        logger.info(f"removed {len(removed)} temporary file(s) left by an interrupted write: {removed}")
    return removed


def _may_be_written(path: str, pid: int) -> bool:
    """Whether process ``pid`` may still be writing its temporary file ``path``."""
    if pid == os.getpid():
        return path in being_written
    if os.name != "posix":  # os.kill(pid, 0) is no probe there
        return time.time() - os.path.getmtime(path) < _ORPHAN_AGE_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's process
        return True
    return True
