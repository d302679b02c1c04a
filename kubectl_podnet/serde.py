"""Dataclasses to JSON-ready dicts and back, with camelCase keys.

The report is the contract between node and client; keeping one generic converter
(instead of hand-written to_dict/from_dict per class) means a field added to a
dataclass is serialised, parsed and round-trip tested the same day.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

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
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        return _convert(options[0], data, where)
    if origin in (list, tuple):
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list, got {type(data).__name__}")
        (item,) = get_args(hint)[:1]
        converted = [_convert(item, entry, f"{where}[{i}]") for i, entry in enumerate(data)]
        return tuple(converted) if origin is tuple else converted
    if origin is dict or hint is Any:
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
    if hint is float and isinstance(data, int):
        return float(data)
    if isinstance(hint, type) and not isinstance(data, hint):
        raise ValueError(f"{where}: expected {hint.__name__}, got {type(data).__name__}")
    return data
