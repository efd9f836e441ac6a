"""A small Server-Sent Events decoder (WHATWG HTML §9.2 "event stream interpretation").

Fed text lines, it yields complete events. An event is dispatched only at its terminating blank
line, so an event cut off by a dropped connection is never seen half-way: resuming from the
last complete event id loses nothing and repeats nothing. The last event id is the stream's
cursor: an event without its own `id:` line carries the one before it (it is not cleared after
each event), and `own_id` says which events brought one.

The one decoder of the package: the RunPod client reads pod logs with it, the CLI reads our own
`/events` and log streams with it. Pure (no I/O): callers feed it lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event. `id` is the stream's last event id at dispatch time."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None
    #: True when this event carried its own `id:` line (False: `id` is inherited).
    own_id: bool = False

    def json(self) -> Any:
        """`data` parsed as JSON."""
        return json.loads(self.data)


class SSEDecoder:
    """Incremental decoder: call `feed(line)` for every line (without its line break)."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self._own_id = False

    @property
    def last_event_id(self) -> str | None:
        """The last `id:` seen (the stream's cursor)."""
        return self._last_id

    def feed(self, line: str) -> ServerSentEvent | None:
        """Process one line; return an event when `line` completes one."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
                self._own_id = True
        elif field == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            self._own_id = False
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._last_id,
            retry=self._retry,
            own_id=self._own_id,
        )
        self._own_id = False
        self._data = []
        self._event = ""
        return event


def decode_lines(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """The events of a stream's lines (without their line breaks), as they complete."""
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
