"""The plain-JSON form of the emulator's records (dataclasses), driven by their type hints.

`to_plain(record)` gives dicts, lists, strings and numbers that `json.dumps` takes;
`from_plain(cls, data)` builds the record back and checks every value against its field's type.
A key missing from `data` takes the field's default, so a record stored before a field existed
still loads; a key the class does not know, or a value of the wrong type, raises `PlainError`
(the data was written by a newer version, or is damaged). Adding a field to a stored record is
therefore one line: the field, with a default. A field marked `metadata=STORED_APART` (a pod's
log book) is left out; its store keeps it in a form of its own.

Types understood: str, int, float, bool, None, Decimal (a string: exact), datetime (aware, ISO
8601), list[X], tuple[X, ...], tuple[X, Y], dict[str, X], set[X], frozenset[X], X | None,
Literal[...], Any (JSON as it is) and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin

#: Field metadata: "not part of the record's plain form; its store saves it apart".
STORED_APART: Final[Mapping[str, str]] = types.MappingProxyType({"stored": "apart"})

T = TypeVar("T")
_AS_IS: Final = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type[Any], tuple[dataclasses.Field[Any], ...]] = {}


class PlainError(ValueError):
    """Stored data that does not fit the record it should build; `where` is a JSON path."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where


def stored_fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of a dataclass that its plain form holds (init fields not stored apart)."""
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(
            f for f in dataclasses.fields(cls) if f.init and f.metadata.get("stored") != "apart"
        )
    return fields


def to_plain(value: Any) -> Any:
    """`value` as JSON-ready data (dataclasses become dicts of their stored fields)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is list or kind is tuple:
        return [item if type(item) in _AS_IS else to_plain(item) for item in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("cannot store a naive datetime")
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("cannot store a dict with keys that are not strings")
        return {key: to_plain(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in stored_fields(kind)}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((to_plain(item) for item in value), key=repr)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {kind.__name__}")


def from_plain(cls: type[T], data: Any, where: str = "$") -> T:
    """Build a `cls` record from its plain form (`PlainError` when `data` does not fit)."""
    return typing.cast(T, _value(cls, data, where))


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _record(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise PlainError(where, f"expected an object ({cls.__name__}), got {_kind(data)}")
    fields = stored_fields(cls)
    unknown = sorted(set(data) - {f.name for f in fields})
    if unknown:
        raise PlainError(
            where, f"unknown field {unknown[0]!r} of {cls.__name__} (written by a newer version?)"
        )
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in fields:
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise PlainError(where, f"missing field {f.name!r} of {cls.__name__}")
    return cls(**values)


def _value(tp: Any, data: Any, where: str) -> Any:
    if tp is Any:
        return data
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Union or origin is types.UnionType:
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported union {tp!r}: only X | None")
        return _value(options[0], data, where)
    if origin is Literal:
        if data not in args:
            raise PlainError(where, f"expected one of {list(args)!r}, got {data!r}")
        return data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record(tp, data, where)
    if tp is type(None):
        return _expect(data is None, data, "null", where)
    if tp is bool:
        return _expect(isinstance(data, bool), data, "a boolean", where)
    if tp is int:
        return _expect(_is_int(data), data, "an integer", where)
    if tp is float:
        return float(_expect(_is_int(data) or isinstance(data, float), data, "a number", where))
    if tp is str:
        return _expect(isinstance(data, str), data, "a string", where)
    if tp is Decimal:
        return _decimal(data, where)
    if tp is datetime:
        return _datetime(data, where)
    if origin is list:
        return [_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(_list(data, where))]
    if origin in (set, frozenset):
        items = _list(data, where)
        return origin(_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(items))
    if origin is tuple:
        items = _list(data, where)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(items))
        if len(items) != len(args):
            raise PlainError(where, f"expected {len(args)} items, got {len(items)}")
        pairs = enumerate(zip(args, items, strict=True))
        return tuple(_value(a, item, f"{where}[{i}]") for i, (a, item) in pairs)
    if origin is dict:
        if args[0] is not str:
            raise TypeError(f"unsupported dict key type in {tp!r}: only str")
        if not isinstance(data, dict):
            raise PlainError(where, f"expected an object, got {_kind(data)}")
        return {key: _value(args[1], item, f"{where}.{key}") for key, item in data.items()}
    raise TypeError(f"unsupported type {tp!r} at {where}")


def _expect(ok: bool, data: Any, what: str, where: str) -> Any:
    if not ok:
        raise PlainError(where, f"expected {what}, got {_kind(data)}")
    return data


def _is_int(data: Any) -> bool:
    return isinstance(data, int) and not isinstance(data, bool)


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise PlainError(where, f"expected a list, got {_kind(data)}")
    return data


def _decimal(data: Any, where: str) -> Decimal:
    if isinstance(data, str):
        try:
            value = Decimal(data)
        except InvalidOperation:
            pass
        else:
            if value.is_finite():
                return value
    raise PlainError(where, f"expected a decimal number as a string, got {data!r}")


def _datetime(data: Any, where: str) -> datetime:
    if isinstance(data, str):
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            pass
        else:
            if value.tzinfo is not None:
                return value
    raise PlainError(where, f"expected an ISO 8601 time with an offset, got {data!r}")


def _kind(data: Any) -> str:
    return "null" if data is None else type(data).__name__
