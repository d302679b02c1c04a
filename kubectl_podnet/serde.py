"""Dataclasses to JSON-ready dicts and back, with camelCase keys.

The report is the contract between node and client; keeping one generic converter
(instead of hand-written to_dict/from_dict per class) means a field added to a
dataclass is serialised, parsed and round-trip tested the same day.
"""

from __future__ import annotations

import dataclasses
import threading
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_KEYS: dict[type, list[tuple[str, str]]] = {}  # a dataclass's (attribute, JSON key) pairs, read once


def to_json(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        keys = _KEYS.get(type(value))
        if keys is None:
            keys = _KEYS[type(value)] = [(f.name, camel(f.name)) for f in dataclasses.fields(value)]
        return {key: to_json(getattr(value, name)) for name, key in keys}
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

    def where(self) -> str:
        return "".join(reversed(self.path))


def from_json(cls: type[T], data: Any) -> T:
    """Build `cls` from `data`; unknown keys are ignored so older clients read newer reports.

    Every declared type is enforced (a report that parses is a report the checks can
    trust): `Literal` values, each arm of a union, dict keys and values, and bool apart
    from int (JSON's `true` is not a port number). A refusal is a ValueError naming the
    path and what was expected.
    """
    try:
        return typing.cast(T, _converter(cls)(data))
    except _Bad as bad:
        raise ValueError(f"{cls.__name__}{bad.where()}: {bad.message}") from None


# One converter per declared type, built on first use: a sweep decodes tens of thousands
# of reports, and re-reading each dataclass's fields and hints per value cost ~1 ms a report.
Converter = Callable[[Any], Any]
_CONVERTERS: dict[Any, Converter] = {}
_PENDING: dict[Any, Converter] = {}  # being built, by the thread holding _BUILDING
_BUILDING = threading.RLock()


def _converter(hint: Any) -> Converter:
    found = _CONVERTERS.get(hint)  # only finished converters are here
    if found is not None:
        return found
    with _BUILDING:  # threads decoding at once wait for the one building
        if hint in _CONVERTERS:
            return _CONVERTERS[hint]
        if hint in _PENDING:  # a type that refers to itself: its converter, once it is built
            return _PENDING[hint]
        slot: list[Converter] = []
        _PENDING[hint] = lambda data: slot[0](data)
        try:
            slot.append(_build(hint))
        finally:
            del _PENDING[hint]
        _CONVERTERS[hint] = slot[0]
        return slot[0]


def _at(step: str, convert: Converter, data: Any) -> Any:
    try:
        return convert(data)
    except _Bad as bad:
        bad.path.append(step)
        raise


def _identity(data: Any) -> Any:
    return data


def _build(hint: Any) -> Converter:
    origin = get_origin(hint)
    if origin is Literal:
        return _literal(get_args(hint))
    if origin in (Union, types.UnionType):
        return _union(get_args(hint))
    if origin in (list, tuple):
        return _sequence(_converter(get_args(hint)[0]), origin is tuple)
    if origin is dict:
        if get_args(hint) == (str, Any):  # (the checks' evidence) only its keys to check
            return _text_keys
        return _mapping(_converter(get_args(hint)[0]), _converter(get_args(hint)[1]))
    if hint is Any:
        return _identity
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint)
    if hint is type(None):
        def null(data: Any) -> Any:
            if data is not None:
                raise _Bad(f"expected null, got {type(data).__name__}")
            return None
        return null
    if not isinstance(hint, type):
        raise TypeError(f"the serde cannot check the declared type {hint!r}")  # a bug of ours, loudly
    return _scalar(hint)


def _scalar(hint: type) -> Converter:
    def convert(data: Any) -> Any:
        if isinstance(data, bool) and hint is not bool:
            raise _Bad(f"expected {hint.__name__}, got bool")
        if hint is float and isinstance(data, int):
            return float(data)
        if not isinstance(data, hint):
            raise _Bad(f"expected {hint.__name__}, got {type(data).__name__}")
        return data
    return convert


def _literal(allowed: tuple[Any, ...]) -> Converter:
    def convert(data: Any) -> Any:
        if not any(data == value and type(data) is type(value) for value in allowed):
            raise _Bad(f"expected one of {', '.join(map(repr, allowed))}, got {data!r}")
        return data
    return convert


def _union(arms: tuple[Any, ...]) -> Converter:
    nullable = type(None) in arms
    options = [_converter(arm) for arm in arms if arm is not type(None)]

    def convert(data: Any) -> Any:
        if data is None and nullable:
            return None
        refusals: list[_Bad] = []
        for option in options:
            try:
                return option(data)
            except _Bad as bad:
                refusals.append(bad)
        if len(refusals) == 1:
            raise refusals[0]
        raise _Bad("none of " + " / ".join(f"{bad.where()}: {bad.message}".lstrip(": ") for bad in refusals))
    return convert


def _sequence(each: Converter, as_tuple: bool) -> Converter:
    def convert(data: Any) -> Any:
        if not isinstance(data, list):
            raise _Bad(f"expected a list, got {type(data).__name__}")
        out = []
        for index, entry in enumerate(data):
            try:
                out.append(each(entry))
            except _Bad as bad:
                bad.path.append(f"[{index}]")
                raise
        return tuple(out) if as_tuple else out
    return convert


def _text_keys(data: Any) -> Any:
    if not isinstance(data, dict):
        raise _Bad(f"expected an object, got {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise _Bad(f"expected str, got {type(key).__name__}")
    return data


def _mapping(key: Converter, value: Converter) -> Converter:
    def convert(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _Bad(f"expected an object, got {type(data).__name__}")
        return {_at(" key", key, k): _at(f".{k}", value, v) for k, v in data.items()}
    return convert


def _record(cls: type) -> Converter:
    hints = _hints(cls)
    plan = [(f.name, camel(f.name), _converter(hints[f.name]),
             f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls)]

    def convert(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _Bad(f"expected an object, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        for name, key, field_converter, required in plan:
            if key in data:
                try:  # inline, not a helper: this line runs for every field of every report
                    kwargs[name] = field_converter(data[key])
                except _Bad as bad:
                    bad.path.append(f".{key}")
                    raise
            elif required:
                raise _Bad(f"missing field {key!r}")
        return cls(**kwargs)
    return convert
