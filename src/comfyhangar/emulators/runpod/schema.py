"""A tiny hand-written JSON validator: enough to check RunPod's request bodies strictly.

Each rule is a small object with `check(value, path) -> list of error strings`; messages
read like RunPod's (`"$: additional properties 'bogus' not allowed"`, `"$.gpu.count: must be
>= 1"`). The request schemas themselves live in `bodies.py`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@functools.cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """An OpenAPI (ECMAScript) pattern compiled for Python's `re`, with ECMAScript's `$`.

    Without the multi-line flag, ECMAScript's `$` matches only at the very end of the input;
    Python's also matches before a final newline, so "12.8\n" would pass `^\\d+\\.\\d+$`.
    Each `$` outside a character class becomes `\\Z`. Apply the result with `search`, as
    JSON Schema does.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return re.compile("".join(out))


class Rule(Protocol):
    def check(self, value: Any, path: str) -> list[str]: ...


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@dataclass(frozen=True)
class Str:
    min_length: int = 0
    pattern: str | None = None
    enum: Sequence[str] | None = None
    nullable: bool = False

    def check(self, value: Any, path: str) -> list[str]:
        if value is None and self.nullable:
            return []
        if not isinstance(value, str):
            return [f"{path}: expected string{' or null' if self.nullable else ''}"]
        if len(value) < self.min_length:
            return [f"{path}: length must be >= {self.min_length}"]
        if self.pattern is not None and not ecma_pattern(self.pattern).search(value):
            return [f"{path}: must match pattern {self.pattern}"]
        if self.enum is not None and value not in self.enum:
            return [f"{path}: must be one of {', '.join(self.enum)}"]
        return []


@dataclass(frozen=True)
class Int:
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: Any, path: str) -> list[str]:
        if not _is_int(value):
            return [f"{path}: expected integer"]
        if self.minimum is not None and value < self.minimum:
            return [f"{path}: must be >= {self.minimum}"]
        if self.maximum is not None and value > self.maximum:
            return [f"{path}: must be <= {self.maximum}"]
        return []


@dataclass(frozen=True)
class Bool:
    def check(self, value: Any, path: str) -> list[str]:
        return [] if isinstance(value, bool) else [f"{path}: expected boolean"]


@dataclass(frozen=True)
class Arr:
    items: Rule
    max_items: int | None = None

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            return [f"{path}: expected array"]
        if self.max_items is not None and len(value) > self.max_items:
            return [f"{path}: must have at most {self.max_items} items"]
        errors: list[str] = []
        for index, item in enumerate(value):
            errors += self.items.check(item, f"{path}[{index}]")
        return errors


@dataclass(frozen=True)
class StrMap:
    """An object whose values are all strings (env)."""

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        return [f"{path}.{k}: expected string" for k, v in value.items() if not isinstance(v, str)]


@dataclass(frozen=True)
class Obj:
    """A closed object: unknown properties are errors, `required` must be present."""

    props: Mapping[str, Rule]
    required: Sequence[str] = ()
    min_properties: int = 0
    extra: Sequence[str] = field(default_factory=tuple)

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        errors: list[str] = []
        missing = [name for name in self.required if name not in value]
        if missing:
            errors.append(f"{path}: missing properties {', '.join(repr(m) for m in missing)}")
        unknown = [name for name in value if name not in self.props]
        if unknown:
            names = ", ".join(repr(u) for u in unknown)
            errors.append(f"{path}: additional properties {names} not allowed")
        if len(value) < self.min_properties:
            errors.append(f"{path}: must have at least {self.min_properties} properties")
        for name, rule in self.props.items():
            if name in value:
                errors += rule.check(value[name], f"{path}.{name}")
        return errors
