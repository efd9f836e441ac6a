"""String patterns with a sentence for people.

`pattern(regex, hint)` is a `StringConstraints` that also records what the regex means, so a
422 says "letters, digits, '.', '_' or '-' …" instead of pydantic's "String should match
pattern '^[A-Za-z0-9]…'" (see `server/errors.py`).
"""

from __future__ import annotations

from typing import Any

from pydantic import StringConstraints

_HINTS: dict[str, str] = {}


def pattern(regex: str, hint: str, **constraints: Any) -> StringConstraints:
    """Constrain a string to `regex`; a mismatch is reported with `hint`."""
    _HINTS[regex] = hint
    return StringConstraints(pattern=regex, **constraints)


def pattern_hint(regex: str) -> str | None:
    """The sentence recorded for `regex`, if any."""
    return _HINTS.get(regex)
