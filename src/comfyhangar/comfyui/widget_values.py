"""What the ComfyUI frontend does to some widget values when a workflow is queued.

- Dynamic prompts: in a text widget whose input says `dynamicPrompts: true` (CLIPTextEncode's
  `text`, ...), C-style comments are stripped and every `{a|b|c}` is replaced by one of its
  options, chosen with `random()`; `\\{`, `\\|`, `\\}` are literal. The frontend draws from
  `Math.random`; here the caller passes the draw function, so a seeded `random.Random(seed).random`
  makes a conversion repeatable, and the draws a recording consumed replay it exactly.
- Text replacements in the `filename_prefix` of save nodes: `%date:yyyy-MM-dd%` (local time of
  the converting machine in the frontend; here the `now` the caller passes) and `%Node.widget%`
  (the value of a widget of the node whose "Node name for S&R" property, or else title, is Node).

Pure: no I/O, no clock, no global randomness.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

Draw = Callable[[], float]
"""Returns a float in [0, 1), like JavaScript's `Math.random`."""

# JavaScript's `.` does not match these line terminators (Python's matches all but \n).
_COMMENTS = re.compile(r"/\*[\s\S]*?\*/|//[^\n\r\u2028\u2029]*")
_UNESCAPE = re.compile(r"\\([{}|])")
_REPLACEMENT = re.compile(r"%([^%]+)%")
_DATE_TOKENS = re.compile(r"dd?|MM?|hh?|mm?|ss?|yyy?y?")
_UNSAFE_FILENAME = re.compile(r'[/?<>\\:*|"\x00-\x1f\x7f]')


def resolve_dynamic_prompt(text: str, draw: Draw) -> str:
    """The frontend's `processDynamicPrompt`: strip comments, pick one option per `{...}`."""
    source = _COMMENTS.sub("", text)
    pos = 0
    out: list[str] = []

    def escape() -> str:
        nonlocal pos
        # A trailing backslash reads past the end: JavaScript gives "\\undefined".
        following = source[pos] if pos < len(source) else "undefined"
        pos += 1
        return "\\" + following

    def choice_block() -> str:
        nonlocal pos
        options: list[str] = []
        current: list[str] = []
        depth = 0
        while pos < len(source):
            char = source[pos]
            pos += 1
            if char == "\\":
                current.append(escape())
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                if not depth:
                    break
                depth -= 1
            elif char == "|" and not depth:
                options.append("".join(current))
                current = []
                continue
            current.append(char)
        options.append("".join(current))
        chosen = options[math.floor(draw() * len(options))]
        return resolve_dynamic_prompt(chosen, draw)

    while pos < len(source):
        char = source[pos]
        pos += 1
        if char == "\\":
            out.append(escape())
        elif char == "{":
            out.append(choice_block())
        else:
            out.append(char)
    return _UNESCAPE.sub(r"\1", "".join(out))


def format_date(pattern: str, now: datetime) -> str:
    """The frontend's `formatDate`: yyyy, yy, MM, M, dd, d, hh, h, mm, m, ss, s."""

    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "yy":
            return str(now.year)[2:]
        if text == "yyyy":
            return str(now.year)
        parts = {"d": now.day, "M": now.month, "h": now.hour, "m": now.minute, "s": now.second}
        if text[0] in parts:
            return str(parts[text[0]]).rjust(len(text), "0")
        return text

    return _DATE_TOKENS.sub(token, pattern)


class ReplacementSource(Protocol):
    """A node as text replacements see it."""

    @property
    def search_name(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    def widget_value(self, name: str) -> tuple[bool, Any]: ...


def apply_text_replacements(value: str, nodes: Iterable[ReplacementSource], now: datetime) -> str:
    """The frontend's `applyTextReplacements` over every node of the workflow."""
    all_nodes = list(nodes)

    def replace(match: re.Match[str]) -> str:
        text = match.group(1)
        split = text.split(".")
        if len(split) != 2:
            if split[0].startswith("date:"):
                return format_date(split[0][5:], now)
            return match.group(0)
        found = [n for n in all_nodes if n.search_name == split[0]]
        if not found:
            found = [n for n in all_nodes if n.title == split[0]]
        if not found:
            return match.group(0)
        present, widget_value = found[0].widget_value(split[1])
        if not present:
            return match.group(0)
        text_value = js_string("" if widget_value is None else widget_value)
        return _UNSAFE_FILENAME.sub("_", text_value)

    return _REPLACEMENT.sub(replace, value)


def js_string(value: Any) -> str:
    """`String(value)` in JavaScript for JSON values (numbers without a trailing `.0`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)
