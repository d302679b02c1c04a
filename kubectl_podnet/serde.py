"""Dataclasses to JSON-ready dicts and back, with camelCase keys.

The report is the contract between node and client; keeping one generic converter
(instead of hand-written to_dict/from_dict per class) means a field added to a
dataclass is serialised, parsed and round-trip tested the same day.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return value


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def from_json(cls: type[T], data: Any) -> T:
    """Build `cls` from `data`; unknown keys are ignored so older clients read newer reports."""
    return typing.cast(T, _convert(cls, data, cls.__name__))


def _convert(hint: Any, data: Any, where: str) -> Any:
    """`data` as the declared `hint`, or ValueError naming the path and what was expected.

    Every declared type is enforced (a report that parses is a report the checks can
    trust): `Literal` values, each arm of a union, dict keys and values, and bool apart
    from int (JSON's `true` is not a port number).
    """
    origin = get_origin(hint)
    if origin is Literal:
        allowed = get_args(hint)
        if not any(data == value and type(data) is type(value) for value in allowed):
            raise ValueError(f"{where}: expected one of {', '.join(map(repr, allowed))}, got {data!r}")
        return data
    if origin in (Union, types.UnionType):
        if data is None and type(None) in get_args(hint):
            return None
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        errors = []
        for option in options:
            try:
                return _convert(option, data, where)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if len(errors) == 1 else f"{where}: none of {' / '.join(errors)}")
    if origin in (list, tuple):
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        (item,) = get_args(hint)[:1]
        converted = [_convert(item, entry, f"{where}[{i}]") for i, entry in enumerate(data)]
        return tuple(converted) if origin is tuple else converted
    if origin is dict:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        key_hint, value_hint = get_args(hint)
        return {
            _convert(key_hint, key, f"{where} key"): _convert(value_hint, value, f"{where}.{key}")
            for key, value in data.items()
        }
    if hint is Any:
        return data
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        hints = _hints(hint)
        kwargs: dict[str, Any] = {}
        for field in dataclasses.fields(hint):
            key = camel(field.name)
            if key in data:
                kwargs[field.name] = _convert(hints[field.name], data[key], f"{where}.{key}")
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise ValueError(f"{where}: missing field {key!r}")
        return hint(**kwargs)
    if hint is type(None):
        if data is not None:
            raise ValueError(f"{where}: expected null, got {type(data).__name__}")
        return None
    if isinstance(data, bool) and hint is not bool:
        raise ValueError(f"{where}: expected {getattr(hint, '__name__', hint)}, got bool")
    if hint is float and isinstance(data, int):
        return float(data)
    if isinstance(hint, type) and not isinstance(data, hint):
        raise ValueError(f"{where}: expected {hint.__name__}, got {type(data).__name__}")
    if not isinstance(hint, type):
        raise TypeError(f"{where}: the serde cannot check the declared type {hint!r}")  # a bug of ours, loudly
    return data
