"""One typed source for every setting: frozen dataclasses whose values are checked.

Every group of settings of the package (CARE training, CycleGAN training,
validation, experiments) is a subclass of :class:`Settings`: a frozen
dataclass whose fields carry their types. A value that does not fit its field
is refused when the object is made, with the setting named; ``replace`` makes
a changed copy (checked the same way); ``to_dict`` / ``from_dict`` round-trip
through JSON, and ``from_dict`` refuses names it does not know.

Types understood: ``bool``, ``int``, ``float`` (an ``int`` is accepted and
stored as ``float``), ``str``, ``typing.Literal[...]`` (the choices),
``tuple[X, ...]`` and ``tuple[X, Y]`` (lists from JSON become tuples),
``X | None``, nested :class:`Settings`, and ``dict[str, typing.Any]`` (free
JSON data, such as the overrides of a training profile: the setting keeps a
copy of the dict given, checked to be JSON data, tuples stored as lists;
``dict[str, X]`` also checks every value against ``X``). ``to_dict`` returns
copies, so a record cannot be changed through the settings it came from.

No TensorFlow is imported here.

Examples
--------
>>> from dataclasses import dataclass
>>> import typing
>>> @dataclass(frozen=True)
... class Demo(Settings):
...     epochs: int = 10
...     learning_rate: float = 0.001
...     loss: typing.Literal["mae", "mse"] = "mae"
>>> Demo().replace(epochs=2).epochs
2
>>> Demo(learning_rate=1).learning_rate
1.0
>>> Demo(loss="l3")
Traceback (most recent call last):
...
l2l_helpers.settings.SettingsError: loss must be one of 'mae', 'mse', got 'l3'
>>> Demo.from_dict(Demo().to_dict()) == Demo()
True
"""

from __future__ import annotations

import dataclasses
import functools
import json
import numbers
import types
import typing

__all__ = ["SCHEMA_VERSION", "Settings", "SettingsError"]

#: Version of the JSON written by :meth:`Settings.to_dict` into records (``l2l_training.json``,
#: ``sweep.json``, ``validation.json``); records without it were written by l2l 0.1.0.
SCHEMA_VERSION = 1


class SettingsError(ValueError):
    """A setting that does not exist, or a value that does not fit it (the message names both)."""


def _type_name(kind):
    if kind is type(None):
        return "None"
    return getattr(kind, "__name__", str(kind).replace("typing.", ""))


def _check(name, value, kind):
    """``value`` checked (and, where lossless, converted) against the annotation ``kind``."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Literal:
        if value not in args:
            raise SettingsError(f"{name} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _check(name, value, option)
            except SettingsError as error:
                errors.append(str(error))
        raise SettingsError(errors[0] if len(errors) == 1 else f"{name}: {value!r} fits none of {kind}")
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            raise SettingsError(f"{name} must be a sequence, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_check(f"{name}[{i}]", v, args[0]) for i, v in enumerate(value))
        if len(value) != len(args):
            raise SettingsError(f"{name} must have {len(args)} values, got {value!r}")
        return tuple(_check(f"{name}[{i}]", v, a) for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict:
        return _check_dict(name, value, args)
    if isinstance(kind, type) and issubclass(kind, Settings):
        if isinstance(value, dict):
            return kind.from_dict(value)
        if not isinstance(value, kind):
            raise SettingsError(f"{name} must be {kind.__name__} settings, got {value!r}")
        return value
    return _check_scalar(name, value, kind)


def _check_dict(name, value, args):
    """A copy of the dict ``value`` as JSON data (text keys; each value checked when ``args[1]`` is not Any)."""
    if not isinstance(value, dict):
        raise SettingsError(f"{name} must be a dict, got {value!r}")
    if args and args[0] is not str:
        raise TypeError(f"setting {name}: only dicts with text keys (dict[str, ...]) are supported by Settings")
    value_kind = args[1] if len(args) == 2 else typing.Any
    if any(not isinstance(k, str) for k in value):
        raise SettingsError(f"{name} must have text keys, got {list(value)!r}")
    try:
        data = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{name} must be JSON data (numbers, text, lists, dicts), got {value!r}: {error}") from None
    if value_kind in (typing.Any, Ellipsis):
        return data
    return {k: _plain(_check(f"{name}[{k!r}]", v, value_kind)) for k, v in data.items()}


def _check_scalar(name, value, kind):
    if kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{name} must be True or False, got {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SettingsError(f"{name} must be a whole number, got {value!r}")
        return int(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SettingsError(f"{name} must be a number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise SettingsError(f"{name} must be text, got {value!r}")
        return value
    raise TypeError(f"setting {name}: type {_type_name(kind)} is not supported by Settings")


@functools.cache
def _hints(cls):
    return typing.get_type_hints(cls)


def _plain(value):
    """``value`` as JSON data (settings as dicts, tuples as lists; dicts and lists copied)."""
    if isinstance(value, Settings):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base of every group of settings: a frozen, checked dataclass (see the module's docstring)."""

    def __post_init__(self):
        hints = _hints(type(self))
        for field in dataclasses.fields(self):
            value = _check(field.name, getattr(self, field.name), hints[field.name])
            object.__setattr__(self, field.name, value)

    @classmethod
    def names(cls):
        """The names of the settings, in their order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def _refuse_unknown(cls, names):
        unknown = [n for n in names if n not in cls.names()]
        if unknown:
            raise SettingsError(
                f"unknown {cls.__name__} setting{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}; known: {', '.join(cls.names())}"
            )

    def replace(self, **changes):
        """A copy with some settings changed; ``None`` values are ignored (unset command-line options)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        self._refuse_unknown(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """The settings as JSON data (nested settings as dicts, tuples as lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data):
        """Settings from :meth:`to_dict`'s data; unknown names are refused, missing ones take the defaults."""
        cls._refuse_unknown(data)
        return cls(**data)

    def to_json(self):
        """The settings as a JSON text (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text):
        """Settings from :meth:`to_json`'s text."""
        return cls.from_dict(json.loads(text))

    def differences(self, other, prefix=""):
        """Lines ``name: mine -> theirs`` for every setting that differs (nested ones by their path)."""
        lines = []
        for name in self.names():
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, Settings) and isinstance(theirs, Settings):
                lines += mine.differences(theirs, prefix=f"{prefix}{name}.")
            elif mine != theirs:
                lines.append(f"{prefix}{name}: {_plain(mine)!r} -> {_plain(theirs)!r}")
        return lines
