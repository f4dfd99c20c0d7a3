"""Reading the data inside a pickle without running any of its code.

Unpickling runs code through one door only: every class or function a pickle names is looked up
by ``Unpickler.find_class``, then called. Here that door returns, for any name except numpy's
array, scalar and dtype reconstructors, an inert placeholder class: "calling" it records the
arguments, "setting its state" records the state, and nothing else happens. The result is a tree
of plain values, numpy arrays and `Inert` objects that can be searched for the numbers needed.

This is what lets `load_normalization` read stable-baselines3's ``VecNormalize`` pickles (whose
own loader unpickles arbitrary classes) safely.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

ALLOWED_NUMPY = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
)
"""Globals resolved to the real numpy objects: they only build arrays, scalars and dtypes."""


class Inert:
    """A stand-in for an object of a class the pickle named; it never runs that class's code.

    Attributes:
        args: the positional arguments the pickle "called" the class with.
        state: the state the pickle "set" on the object (usually its ``__dict__``), or None.
        items: key/value pairs and list items the pickle added to it (dict or list subclasses).
    """

    qualified_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Inert:
        """Record the arguments of the "call"; nothing of the named class runs."""
        instance = object.__new__(cls)
        instance.args = args
        instance.state = None
        instance.items = []
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items.append((key, value))

    def append(self, value: Any) -> None:
        """Record a list item (pickle's APPEND)."""
        self.items.append(value)

    def extend(self, values: Any) -> None:
        """Record list items (pickle's APPENDS)."""
        self.items.extend(values)

    def attribute(self, name: str, default: Any = None) -> Any:
        """``name`` from the recorded state (a dict, or a (dict, slots) pair), else ``default``."""
        state = self.state
        if isinstance(state, tuple) and len(state) == 2:
            state = {**(state[0] or {}), **(state[1] or {})}
        return state.get(name, default) if isinstance(state, dict) else default

    def __repr__(self) -> str:
        return f"<inert {self.qualified_name}>"


class InertUnpickler(pickle.Unpickler):
    """An unpickler whose every global, except numpy's reconstructors, is an `Inert` subclass."""

    def find_class(self, module: str, name: str) -> Any:
        """Numpy's reconstructors for arrays/scalars/dtypes; an inert placeholder for anything else."""
        if (module, name) in ALLOWED_NUMPY:
            return _numpy_object(module, name)
        dtype_class = getattr(getattr(np, "dtypes", None), name, None) if module == "numpy.dtypes" else None
        if isinstance(dtype_class, type) and issubclass(dtype_class, np.dtype):
            return dtype_class
        return type(name, (Inert,), {"qualified_name": f"{module}.{name}"})

    def persistent_load(self, pid: Any) -> Any:
        """Persistent ids (torch storages, ...) are not supported here."""
        raise pickle.UnpicklingError("persistent ids are not supported")


def inert_load(data: bytes) -> Any:
    """Unpickle ``data`` into plain values, numpy arrays and `Inert` placeholders.

    Raises:
        pickle.UnpicklingError, and the usual errors of a malformed pickle.
    """
    return InertUnpickler(io.BytesIO(data)).load()


def _numpy_object(module: str, name: str) -> Any:
    if name in ("ndarray", "dtype"):
        return getattr(np, name)
    core = np._core if hasattr(np, "_core") else np.core
    return getattr(core.multiarray, name)
