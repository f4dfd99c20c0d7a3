"""Turning the errors of a weights-only load into messages a person can act on.

torch's weights-only unpickler refuses any object other than tensors and plain containers, but
its message starts with advice to re-run with ``weights_only=False``, which "will likely succeed":
for a hostile file that is the one action that runs its payload. Every rlblocks load path
(`rlblocks.utils.checkpoint.safe_load`, the migration's loader, memory files, VecNormalize
pickles) goes through `translate`, which names the object the file asked for, says it was refused
because unpickling it could run code, and never repeats that advice.

torch's wording is recognised in its current forms ("... GLOBAL posix.system whose module posix
is blocked", "Unsupported global: GLOBAL x.y", "Unsupported operand ..." for protocol-0 pickles);
where it names nothing, the pickle's opcodes are read (never executed) to find the globals it
names.
"""

from __future__ import annotations

import io
import pickletools
import re
from typing import Any


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupted, untrusted or of the wrong kind."""


MAX_MESSAGE = 600
"""Characters of a quoted value or cause kept in an error message (the rest is elided)."""

SCANNED_BYTES = 4 * 1024 * 1024
"""Bytes of a pickle read to find the globals it names when torch's message names none."""

CODE_RUNNING_MODULES = frozenset(
    {
        "os", "posix", "nt", "sys", "subprocess", "builtins", "__builtin__", "shutil", "io", "_io",
        "importlib", "runpy", "pty", "socket", "ctypes", "marshal", "pickle", "_pickle", "code",
        "codeop", "types", "operator", "functools", "webbrowser", "pydoc", "timeit", "platform",
        "multiprocessing", "asyncio", "signal", "tempfile", "commands", "popen2", "sysconfig",
    }
)  # fmt: skip
"""Top-level modules whose functions can run commands, code or file operations when called."""

_TORCH_PATTERNS = (
    re.compile(r"GLOBAL (\S+) whose module \S+ is blocked"),
    re.compile(r"Unsupported global: GLOBAL (\S+)"),
    re.compile(r"unsupported GLOBAL (\S+)"),
    re.compile(r"Unsupported class (\S+)"),
)
_GLOBAL_OPCODES = frozenset({"GLOBAL", "INST"})
_MEMO_PUT = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MEMO_GET = frozenset({"GET", "BINGET", "LONG_BINGET"})


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, marking how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def short_repr(value: Any, limit: int = 200) -> str:
    """``repr(value)`` cut to ``limit`` characters (a value quoted in an error message)."""
    return shorten(repr(value), limit)


PLAIN_BUILTINS = frozenset(
    {"set", "frozenset", "bytearray", "complex", "slice", "range", "object", "bool", "int", "float"}
    | {"str", "bytes", "list", "dict", "tuple"}
)
"""Builtin types a pickle may name to build plain values."""


def is_code_running(qualified_name: str) -> bool:
    """Whether a global ``module.name`` comes from a module that can run code (`CODE_RUNNING_MODULES`).

    The builtin value types (`PLAIN_BUILTINS`, e.g. ``builtins.set``) do not count.
    """
    module, _, name = qualified_name.partition(".")
    if module in ("builtins", "__builtin__") and name in PLAIN_BUILTINS:
        return False
    return module in CODE_RUNNING_MODULES


def refused_global(error: BaseException, pickle_bytes: bytes | None = None) -> str | None:
    """The global a weights-only load refused (``"posix.system"``), from torch's message or the pickle.

    Args:
        error: the error of the load.
        pickle_bytes: the start of the raw pickle, read when the message names nothing.
    """
    message = str(error)
    for pattern in _TORCH_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1).rstrip(".,;:")
    if pickle_bytes is None:
        return None
    names = pickle_globals(pickle_bytes)
    risky = [name for name in names if is_code_running(name)]
    return (risky or names or [None])[0]


def pickle_globals(data: bytes) -> list[str]:
    """The ``module.name`` globals a pickle names, read from its opcodes (nothing is executed).

    Reading stops at the first malformed opcode; what was found before it is returned.
    """
    names: list[str] = []
    strings: list[Any] = []
    memo: dict[Any, Any] = {}
    try:
        for opcode, argument, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name in _GLOBAL_OPCODES:
                names.append(".".join(str(argument).split(" ", 1)))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif isinstance(argument, str) and opcode.name not in _MEMO_GET and opcode.name not in _MEMO_PUT:
                strings.append(argument)
            elif opcode.name in _MEMO_PUT or opcode.name == "MEMOIZE":
                memo[argument if opcode.name != "MEMOIZE" else len(memo)] = strings[-1] if strings else None
            elif opcode.name in _MEMO_GET:
                strings.append(memo.get(argument))
            if opcode.name == "STOP":
                break
    except Exception:  # a truncated or malformed pickle: keep what was read
        pass
    return names


def is_pickle(data: bytes) -> bool:
    """Whether ``data`` starts with a readable pickle (any protocol), judged from its opcodes only."""
    if data[:1] == b"\x80":
        return True
    try:
        for opcode, _, _ in pickletools.genops(io.BytesIO(data)):
            if opcode.name == "STOP":
                return True
    except Exception:  # not a pickle
        return False
    return False


def refusal_message(origin: str, name: str | None, allowed: str = "tensors and plain containers") -> str:
    """The message of a refused load: what the file holds, why it was refused, what to do instead."""
    if name is None:
        return (
            f"refused to load {origin!r}: it is a pickle the weights-only loader cannot read (protocol 0 "
            f"or 1, or objects other than {allowed}); unpickling it could run code from the file, so only "
            f"{allowed} are loaded. Nothing from the file was run. If the file is your own, re-save only "
            "its tensors (torch.save(model.state_dict(), path)) in the program that wrote it."
        )
    if is_code_running(name):
        return (
            f"refused to load {origin!r}: it holds {name}, a function that could run code from the file "
            "(commands, file operations) when it is unpickled. Nothing from the file was run. Do not open it "
            "with a full unpickler (pickle.load, torch.load with the weights-only check off): get the "
            "file again from a source you trust."
        )
    return (
        f"refused to load {origin!r}: it holds {name}, which is not one of the {allowed} rlblocks "
        "loads; unpickling it would call that code, which could run code from the file. Nothing from "
        "the file was run. If the file is your own, re-save only its tensors "
        "(torch.save(model.state_dict(), path)) in the program that wrote it."
    )


def cause(error: BaseException) -> str:
    """The informative line of a loading error (torch's first lines are generic advice), shortened."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line for line in lines if "weights_only" not in line and not line.startswith("Check the doc")]
    for line in lines:
        if line.startswith(("Unsupported", "invalid load key", "PytorchStreamReader", "Trying to load")):
            return shorten(line, 300)
    text = lines[0] if lines else ""
    return shorten(f"{type(error).__name__}: {text}" if text else type(error).__name__, 300)


def is_refusal(error: BaseException) -> bool:
    """Whether an error is torch's weights-only unpickler refusing something (not damaged bytes)."""
    message = str(error)
    return any(pattern.search(message) for pattern in _TORCH_PATTERNS) or "Unsupported operand" in message


def read_head(stream: Any) -> bytes:
    """The first `SCANNED_BYTES` of a seekable stream, which is rewound afterwards."""
    position = stream.tell()
    try:
        return stream.read(SCANNED_BYTES)
    finally:
        stream.seek(position)
