"""Base classes and lenient field types shared by the RunPod wire models.

Two kinds of model:

- `WireResponse`: what RunPod sends. Lenient: unknown fields are ignored, numbers may arrive as
  strings (pitfall P13), timestamps may be RFC 3339 or Go's default layout, and an enum value
  this client does not know maps to an `UNKNOWN` member instead of failing the whole list.
- `WireRequest`: what we send. Strict: unknown fields are an error, types are not coerced, and
  `to_wire()` serialises exactly the fields that were set (no nulls unless the caller set a
  field to None on purpose where the spec allows null, such as `registry`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

#: Request fields whose spec type admits null: an explicit None is sent as JSON null.
NULLABLE_REQUEST_FIELDS: frozenset[str] = frozenset({"registry"})


class WireResponse(BaseModel):
    """Lenient model of a RunPod response object (camelCase on the wire, snake_case here)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class WireRequest(BaseModel):
    """Strict model of a RunPod request body; serialise with `to_wire()`."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: camelCase keys, no nulls the spec does not allow.

        Fields left at None are omitted; fields with a non-None default (such as `gpu.count`)
        are always sent.
        """
        out: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                if name in NULLABLE_REQUEST_FIELDS and name in self.model_fields_set:
                    out[info.alias or name] = None
                continue
            out[info.alias or name] = _dump(value)
        return out


def _dump(value: Any) -> Any:
    if isinstance(value, WireRequest):
        return value.to_wire()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{4})(?: [A-Z]{2,5})?$"
)


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339, Go's `2006-01-02 15:04:05.999 -0700 MST` layout, or epoch seconds; else None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _GO_TIME.match(text)
    if match:
        date, clock, frac, offset = match.groups()
        frac = (frac or "")[:7]
        text = f"{date}T{clock}{frac}{offset[:3]}:{offset[3:]}"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


def _to_decimal(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().lstrip("$"))
        except InvalidOperation:
            return value
    return value


def _str_map(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(_to_str(v)) for k, v in value.items()}
    if value is None:
        return {}
    return value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


#: A timestamp that tolerates the layouts RunPod has been seen to send; None if unparseable.
LenientDatetime = Annotated[datetime | None, BeforeValidator(parse_timestamp)]
#: A string that also accepts a bare number (e.g. `cudaVersion: 12.8`).
LenientStr = Annotated[str, BeforeValidator(_to_str)]
#: Money or a rate: accepts numbers and numeric strings (`"0.74"`, P13), kept exact.
Money = Annotated[Decimal, BeforeValidator(_to_decimal)]
#: `env`-like string map; values coerced to strings, null to {}.
StrMap = Annotated[dict[str, str], BeforeValidator(_str_map)]

E = TypeVar("E", bound=StrEnum)


def lenient_enum(enum_cls: type[E], fallback: E) -> BeforeValidator:
    """Validator mapping any unknown value (case-insensitively) to `fallback`."""

    def convert(value: Any) -> Any:
        if isinstance(value, enum_cls):
            return value
        if isinstance(value, str):
            for member in enum_cls:
                if member.value.upper() == value.strip().upper():
                    return member
        return fallback

    return BeforeValidator(convert)


NoneAsEmptyList = BeforeValidator(_none_to_list)
