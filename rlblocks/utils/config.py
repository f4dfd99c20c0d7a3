"""Typed configs behind skrl's public config dicts.

Every agent keeps skrl's ``*_DEFAULT_CONFIG`` dict, derived from a dataclass so the two cannot
drift. ``Config.from_dict(cfg)`` merges a user's (partial, possibly nested) dict onto the
defaults, coerces numbers given as strings (YAML reads ``1e-3`` as a string), validates ranges in
``__post_init__``, and rejects unknown keys with the nearest valid one. A config reads like the
public dict (``cfg["lambda"]``, ``cfg.get("lambda")``, ``dict(cfg)``), so skrl code that reads
dict configs keeps working. ``from_dict(cfg, allow_unknown=True)`` keeps top-level keys that are
not fields: skrl's templates for custom agents and trainers pass keys of their own.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from rlblocks.utils.load_errors import short_repr
from rlblocks.utils.suggest import did_you_mean

ConfigType = TypeVar("ConfigType", bound="Config")


class ConfigKeyError(KeyError):
    """An unknown config key; the message names the nearest valid key."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclasses.dataclass(kw_only=True)
class Config:
    """Base class: a dataclass whose fields are the public config keys.

    Subclasses may rename a public key that is not a valid identifier via ``PUBLIC_KEYS``
    (field name -> public key, e.g. ``{"gae_lambda": "lambda"}``). A field whose type is another
    `Config` is a nested section, merged deeply.
    """

    PUBLIC_KEYS: ClassVar[dict[str, str]] = {}
    KIND: ClassVar[str] = ""
    """What the config configures, for error messages ("PPO", "experiment", ...)."""
    _extras: ClassVar[Mapping[str, Any]] = types.MappingProxyType({})
    """Top-level keys that are not fields (only with ``allow_unknown``); set per instance."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Make the class's own ``__post_init__`` (its range checks) first refuse NaN and ±inf.

        Range checks cannot see NaN (every comparison with it is false), and a config built as a
        dataclass (``PPOConfig(learning_rate=nan)``) does not pass through `from_dict`.
        """
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is None or getattr(own, "checks_finite_numbers", False):
            return

        def __post_init__(self: Config) -> None:
            check_finite_numbers(self)
            own(self)

        __post_init__.checks_finite_numbers = True  # type: ignore[attr-defined]
        __post_init__.__doc__ = own.__doc__
        cls.__post_init__ = __post_init__  # type: ignore[method-assign]

    def __post_init__(self) -> None:
        """Refuse NaN and ±inf in numeric fields (subclasses add their range checks)."""
        check_finite_numbers(self)

    @classmethod
    def from_dict(
        cls: type[ConfigType], cfg: Mapping[str, Any] | None = None, *, allow_unknown: bool = False
    ) -> ConfigType:
        """Build the config from a public dict merged onto the defaults.

        Args:
            cfg: the public dict (partial, possibly nested). A config of this class is copied; a
                config of another class is read as its public dict.
            allow_unknown: keep top-level keys that are not fields instead of rejecting them; they
                are read by ``cfg[key]`` and ``cfg.get(key)`` and written by ``to_dict``. Nested
                sections ("experiment") stay strict.

        Raises:
            ConfigKeyError: a key is not a known config key (the message suggests the nearest).
            ValueError: a value is out of range or of the wrong type.
        """
        if isinstance(cfg, cls):
            return copy.deepcopy(cfg)
        cfg = cfg.to_dict() if isinstance(cfg, Config) else dict(cfg or {})
        by_public_key = {cls.public_key(field.name): field for field in dataclasses.fields(cls)}
        hints = typing.get_type_hints(cls)
        values, extras = {}, {}
        for key, value in cfg.items():
            if key in by_public_key:
                field = by_public_key[key]
                values[field.name] = _coerce(key, value, hints[field.name])
            elif allow_unknown:
                extras[key] = value
            else:
                kind = cls.KIND or cls.__name__.removesuffix("Config")
                raise ConfigKeyError(
                    f'unknown {kind} config key "{key}"{did_you_mean(key, by_public_key)}; '
                    f"valid keys: {', '.join(sorted(by_public_key))}"
                )
        config = cls(**values)
        if extras:
            config._extras = extras
        return config

    @classmethod
    def public_key(cls, field_name: str) -> str:
        """The public dict key of a field."""
        return cls.PUBLIC_KEYS.get(field_name, field_name)

    @property
    def extras(self) -> dict[str, Any]:
        """A copy of the top-level keys that are not fields (kept by ``from_dict(allow_unknown=True)``)."""
        return dict(self._extras)

    def to_dict(self) -> dict[str, Any]:
        """The public dict (nested sections as dicts), as skrl's ``*_DEFAULT_CONFIG`` is laid out.

        The fields come first, in declaration order, then the extra keys.
        """
        result = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            result[self.public_key(field.name)] = value.to_dict() if isinstance(value, Config) else value
        result.update(self._extras)
        return result

    # ------------------------------------------------------------------ read like a dict
    def __getitem__(self, key: str) -> Any:
        """Read a value by its public key (``cfg["lambda"]``), as skrl's dict configs are read.

        Raises:
            ConfigKeyError: no field or extra key has this public key.
        """
        for field in dataclasses.fields(self):
            if self.public_key(field.name) == key:
                return getattr(self, field.name)
        if key in self._extras:
            return self._extras[key]
        raise ConfigKeyError(f'unknown config key "{key}"{did_you_mean(key, self.keys())}')

    def get(self, key: str, default: Any = None) -> Any:
        """``cfg[key]``, or ``default`` when there is no such key (as ``dict.get``)."""
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> list[str]:
        """The public keys: fields, then extra keys (``dict(cfg)`` and ``**cfg`` use it)."""
        return [self.public_key(field.name) for field in dataclasses.fields(self)] + list(self._extras)

    def items(self) -> list[tuple[str, Any]]:
        """(public key, value) pairs; nested sections stay configs (``to_dict`` gives dicts)."""
        return [(key, self[key]) for key in self.keys()]

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The default public dict."""
        return cls().to_dict()


def _coerce(key: str, value: Any, hint: Any) -> Any:
    """Merge nested sections; turn numeric strings into numbers for int/float fields."""
    if isinstance(hint, type) and issubclass(hint, Config):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f'config section "{key}" must be a dict, got {short_repr(value)}')
        return hint.from_dict(value)
    numeric = _numeric_types(hint)
    if not numeric or value is None or (isinstance(value, str) and _admits_strings(hint)):
        return value
    if isinstance(value, bool):
        raise ValueError(f'config key "{key}" must be a number, got {short_repr(value)}')
    if isinstance(value, str):
        for kind in (int, float):
            if kind in numeric:
                try:
                    return kind(value)
                except ValueError:
                    pass
        raise ValueError(f'config key "{key}" must be a number, got the string {short_repr(value)}')
    if not isinstance(value, numbers.Real):
        raise ValueError(
            f'config key "{key}" must be a number, got {short_repr(value)} ({type(value).__name__}); '
            f"e.g. {key}=0.001, not a list or a string"
        )
    if not math.isfinite(value):
        raise ValueError(f'config key "{key}" must be a finite number, got {short_repr(value)}')
    if numeric == {int}:
        if isinstance(value, numbers.Integral):
            return int(value)
        if float(value).is_integer():
            return int(value)  # 1e5 written in a config
        raise ValueError(f'config key "{key}" must be an integer, got {short_repr(value)}')
    if isinstance(value, numbers.Integral) and int not in numeric:
        return float(value)
    return value


def check_finite_numbers(config: Config) -> None:
    """Raise ValueError when a numeric field of ``config`` holds NaN or ±inf, naming its public key."""
    hints = _type_hints(type(config))
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if (
            _numeric_types(hints[field.name])
            and isinstance(value, numbers.Real)
            and not isinstance(value, bool)
            and not math.isfinite(value)
        ):
            raise ValueError(
                f'config key "{config.public_key(field.name)}" must be a finite number, '
                f"got {short_repr(value)}"
            )


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, computed once per class."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _numeric_types(hint: Any) -> set[type]:
    """The numeric types (int, float) a field's annotation admits."""
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if is_union else (hint,)
    return {option for option in options if option in (int, float)}


def _admits_strings(hint: Any) -> bool:
    """Whether a field's annotation is a union with ``str`` (e.g. ``int | str``: a count or "auto")."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and str in typing.get_args(hint)


def check_range(
    name: str, value: float, low: float | None = None, high: float | None = None, *, strict_low: bool = False
) -> None:
    """Raise ValueError unless ``low <= value <= high`` (``low < value`` with ``strict_low``).

    Raises:
        ValueError: the value is out of range.
    """
    below = low is not None and (value <= low if strict_low else value < low)
    above = high is not None and value > high
    if below or above:
        lower = f"> {low}" if strict_low else f">= {low}"
        bounds = " and ".join(
            part
            for part in (lower if low is not None else "", f"<= {high}" if high is not None else "")
            if part
        )
        raise ValueError(f'config key "{name}" must be {bounds}, got {short_repr(value)}')


def check_positive(name: str, value: float) -> None:
    """Raise ValueError unless ``value > 0``."""
    check_range(name, value, 0, strict_low=True)


def check_non_negative(name: str, value: float) -> None:
    """Raise ValueError unless ``value >= 0``."""
    check_range(name, value, 0)
