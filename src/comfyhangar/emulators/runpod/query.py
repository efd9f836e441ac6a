"""Query-string parsing shared by the handlers (422 for malformed values)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.requests import Request

from comfyhangar.emulators.runpod.problems import invalid
from comfyhangar.emulators.runpod.schema import ecma_pattern


def csv(request: Request, name: str, allowed: Sequence[str] | None = None) -> list[str] | None:
    """A comma-separated (or repeated) query parameter, None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    if allowed is not None:
        wrong = [item for item in items if item not in allowed]
        if wrong:
            raise invalid([f"$.{name}: {wrong[0]!r} must be one of {', '.join(allowed)}"])
    return items


def pattern_list(request: Request, name: str, pattern: str) -> list[str] | None:
    items = csv(request, name)
    if items is not None:
        wrong = [item for item in items if not ecma_pattern(pattern).search(item)]
        if wrong:
            raise invalid([f"$.{name}: {wrong[0]!r} must match pattern {pattern}"])
    return items


def integer(request: Request, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"-?\d+", raw):
        raise invalid([f"$.{name}: expected integer"])
    value = int(raw)
    if value < minimum:
        raise invalid([f"$.{name}: must be >= {minimum}"])
    if maximum is not None and value > maximum:
        raise invalid([f"$.{name}: must be <= {maximum}"])
    return value


def boolean(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise invalid([f"$.{name}: expected boolean"])
    return raw == "true"


def choice(request: Request, name: str, allowed: Sequence[str]) -> str | None:
    raw = request.query_params.get(name)
    if raw is not None and raw not in allowed:
        raise invalid([f"$.{name}: must be one of {', '.join(allowed)}"])
    return raw
