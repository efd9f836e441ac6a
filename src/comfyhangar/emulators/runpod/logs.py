"""Pod log lines: scheduled (simulated transitions) and appended, with resumable SSE ids."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

SOURCES = ("container", "system")
_EVENT_ID = re.compile(r"^(?P<ts>.+)/(?P<seq>\d{12})$")


def rfc3339(moment: datetime) -> str:
    """`2026-06-01T12:02:03.123456Z`, the emulator's timestamp format."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime | None:
    """An aware datetime, or None when `text` is not RFC 3339 with an offset."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@dataclass(frozen=True)
class LogLine:
    """One delivered line; `seq` is per pod and strictly increasing, as is `ts`."""

    seq: int
    ts: datetime
    source: str
    line: str

    @property
    def event_id(self) -> str:
        return f"{rfc3339(self.ts)}/{self.seq:012d}"

    def payload(self) -> dict[str, str]:
        return {"ts": rfc3339(self.ts), "source": self.source, "line": self.line}


@dataclass
class LogBook:
    """The lines of one pod. Scheduled lines are numbered only when their time has come, so
    sequence numbers follow delivery order and a resumed stream never misses one."""

    lines: list[LogLine] = field(default_factory=list)
    pending: list[tuple[datetime, str, str]] = field(default_factory=list)

    def schedule(self, ts: datetime, source: str, line: str) -> None:
        self.pending.append((ts, source, line))
        self.pending.sort(key=lambda item: item[0])

    def cancel_pending(self) -> None:
        self.pending.clear()

    def materialize(self, now: datetime) -> None:
        """Turn every scheduled line whose time has come into a numbered line."""
        due = [item for item in self.pending if item[0] <= now]
        self.pending = [item for item in self.pending if item[0] > now]
        for ts, source, line in due:
            self._add(ts, source, line)

    def append(self, now: datetime, source: str, line: str) -> LogLine:
        self.materialize(now)
        return self._add(now, source, line)

    def _add(self, ts: datetime, source: str, line: str) -> LogLine:
        if self.lines and ts < self.lines[-1].ts:
            ts = self.lines[-1].ts
        entry = LogLine(len(self.lines) + 1, ts, source, line)
        self.lines.append(entry)
        return entry

    def next_pending(self) -> datetime | None:
        return self.pending[0][0] if self.pending else None

    def start_index(
        self, last_event_id: str | None, since: datetime | None, tail: int, source: str | None
    ) -> int:
        """Index in `lines` of the first line to send (Last-Event-ID > since > tail)."""
        if last_event_id:
            match = _EVENT_ID.match(last_event_id)
            if match:
                return min(int(match["seq"]), len(self.lines))
            moment = parse_rfc3339(last_event_id)
            if moment is not None:
                return next(
                    (i for i, ln in enumerate(self.lines) if ln.ts > moment), len(self.lines)
                )
        if since is not None:
            return next((i for i, ln in enumerate(self.lines) if ln.ts >= since), len(self.lines))
        if tail == 0:
            return len(self.lines)
        matching = [i for i, ln in enumerate(self.lines) if source in (None, ln.source)]
        return matching[-tail] if len(matching) >= tail else 0
