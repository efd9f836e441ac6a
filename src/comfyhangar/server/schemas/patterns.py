"""String patterns with a sentence for people.

`pattern(regex, hint)` is a `StringConstraints` that also records what the regex means, so a
422 says "letters, digits, '.', '_' or '-' …" instead of pydantic's "String should match
pattern '^[A-Za-z0-9]…'" (see `server/errors.py`).

Anchors: pydantic checks patterns with its Rust regex engine, where `^…$` (no multi-line flag)
means the whole string, as in the ECMAScript patterns of the OpenAPI document that clients
read: `"main\\n"` does not match `^[a-z]+$`. Python's `re` is different: there `$` also
matches before a final newline, so a regex used with `re` in this code base is applied with
`fullmatch` (never `match` with `$`). tests/api/test_strict_input.py sends a trailing newline,
a carriage return and surrounding spaces to every constrained field of every request body.
"""

from __future__ import annotations

from typing import Any

from pydantic import StringConstraints

_HINTS: dict[str, str] = {}

# Printable text with no control character and no leading or trailing whitespace (inner
# spaces are fine): GPU type ids such as "NVIDIA GeForce RTX 4090", budget names.
LABEL_REGEX = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"


def pattern(regex: str, hint: str, **constraints: Any) -> StringConstraints:
    """Constrain a string to `regex`; a mismatch is reported with `hint`."""
    _HINTS[regex] = hint
    return StringConstraints(pattern=regex, **constraints)


def pattern_hint(regex: str) -> str | None:
    """The sentence recorded for `regex`, if any."""
    return _HINTS.get(regex)
