"""The emulator's simulated clock: real time, sped up, and movable forward by tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class ClockAnchor:
    """A reading of the simulated clock: the simulated moment, the wall-clock time it was read
    at (Unix seconds) and the speed the clock ran at. Stored with every commit of a state file.
    """

    simulated: datetime
    wall: float
    speed: float

    def resume(self, wall_now: float) -> datetime:
        """Simulated time at `wall_now`: it ran on at `speed` while nobody was watching, as the
        real cloud does while its client is down. Never earlier than the reading (a wall clock
        set back does not take simulated time back with it)."""
        return self.simulated + timedelta(seconds=max(0.0, wall_now - self.wall) * self.speed)


class SimClock:
    """Simulated UTC time: `speed` simulated seconds pass per real second.

    Everything in the emulator (pod transitions, billing, log timestamps) is computed lazily
    from this clock, so `advance()` moves the whole simulated world at once.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = start or datetime.now(UTC)
        self._real_origin = time.monotonic()
        self._offset = timedelta()
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        """The simulated current time (aware, UTC)."""
        elapsed = (time.monotonic() - self._real_origin) * self.speed
        return self._origin + timedelta(seconds=elapsed) + self._offset

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward by `seconds` (wakes waiting log streams)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += timedelta(seconds=seconds)
        for listener in list(self._listeners):
            listener()

    def anchor(self) -> ClockAnchor:
        """The current reading, to resume from after a restart (`ClockAnchor.resume`)."""
        return ClockAnchor(self.now(), time.time(), self.speed)

    def real_seconds_until(self, when: datetime) -> float:
        """How many real seconds until the simulated clock reaches `when` (0 if past)."""
        return max(0.0, (when - self.now()).total_seconds() / self.speed)

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every `advance()` (once, however often it is registered)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def off_advance(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` after `advance()` (no-op if it was not registered)."""
        if listener in self._listeners:
            self._listeners.remove(listener)
