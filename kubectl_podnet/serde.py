"""Dataclasses to JSON-ready dicts and back, with camelCase keys.

The report is the contract between node and client; keeping one generic converter
(instead of hand-written to_dict/from_dict per class) means a field added to a
dataclass is serialised, parsed and round-trip tested the same day.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
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


class _Bad(ValueError):
    """A value that does not fit; `path` is filled in on the way out (".key", "[i]")."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []


def from_json(cls: type[T], data: Any) -> T:
    """Build `cls` from `data`; unknown keys are ignored so older clients read newer reports."""
    try:
        return typing.cast(T, _converter(cls)(data))
    except _Bad as bad:
        raise ValueError(f"{cls.__name__}{''.join(reversed(bad.path))}: {bad.message}") from None


# One converter per type hint, built on first use: a sweep decodes tens of thousands of
# reports, and re-reading each dataclass's fields and hints per value cost ~1 ms a report.
_CONVERTERS: dict[Any, Callable[[Any], Any]] = {}


def _converter(hint: Any) -> Callable[[Any], Any]:
    found = _CONVERTERS.get(hint)
    if found is None:
        found = _CONVERTERS[hint] = _build(hint)
    return found


def _identity(data: Any) -> Any:
    return data


def _build(hint: Any) -> Callable[[Any], Any]:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = next(arg for arg in get_args(hint) if arg is not type(None))
        resolved: list[Callable[[Any], Any]] = []

        def optional(data: Any) -> Any:
            if data is None:
                return None
            if not resolved:  # at first use, not at build: a type may refer to itself
                resolved.append(_converter(inner))
            return resolved[0](data)
        return optional
    if origin in (list, tuple):
        return _sequence(get_args(hint)[0], origin is tuple)
    if origin is dict or hint is Any:
        return _identity
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint)
    if hint is float:
        def number(data: Any) -> Any:
            if isinstance(data, int):
                return float(data)
            if not isinstance(data, float):
                raise _Bad(f"expected float, got {type(data).__name__}")
            return data
        return number
    if isinstance(hint, type):
        def checked(data: Any) -> Any:
            if not isinstance(data, hint):
                raise _Bad(f"expected {hint.__name__}, got {type(data).__name__}")
            return data
        return checked
    return _identity  # Literal and the like: taken as sent


def _resolve(resolved: list[Callable[[Any], Any]], hint: Any) -> Callable[[Any], Any]:
    resolved.append(_converter(hint))
    return resolved[0]


def _sequence(item: Any, as_tuple: bool) -> Callable[[Any], Any]:
    resolved: list[Callable[[Any], Any]] = []

    def convert(data: Any) -> Any:
        if not isinstance(data, list):
            raise _Bad(f"expected a list, got {type(data).__name__}")
        each = resolved[0] if resolved else _resolve(resolved, item)
        out = []
        for index, entry in enumerate(data):
            try:
                out.append(each(entry))
            except _Bad as bad:
                bad.path.append(f"[{index}]")
                raise
        return tuple(out) if as_tuple else out
    return convert


def _record(cls: type) -> Callable[[Any], Any]:
    hints = _hints(cls)
    fields = dataclasses.fields(cls)
    plan: list[tuple[str, str, Callable[[Any], Any], bool]] = []

    def convert(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _Bad(f"expected an object, got {type(data).__name__}")
        if not plan:  # at first use, not at build: a type may refer to itself
            plan[:] = [(f.name, camel(f.name), _converter(hints[f.name]),  # whole, so threads racing here agree
                        f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING) for f in fields]
        kwargs: dict[str, Any] = {}
        for name, key, field_converter, required in plan:
            if key in data:
                try:
                    kwargs[name] = field_converter(data[key])
                except _Bad as bad:
                    bad.path.append(f".{key}")
                    raise
            elif required:
                raise _Bad(f"missing field {key!r}")
        return cls(**kwargs)
    return convert
