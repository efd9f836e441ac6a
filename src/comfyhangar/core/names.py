"""Deployment names: unique among the deployments that are not terminated."""

from __future__ import annotations

from collections.abc import Container

MAX_NAME_CHARS = 40


def unique_name(base: str, taken: Container[str], *, max_chars: int = MAX_NAME_CHARS) -> str:
    """`base` if it is free, else `base-2`, `base-3` ... (cut to fit `max_chars`)."""
    base = base[:max_chars]
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: max_chars - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1
