"""The emulator's simulated clock: real time, sped up, and movable forward by tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


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

    def real_seconds_until(self, when: datetime) -> float:
        """How many real seconds until the simulated clock reaches `when` (0 if past)."""
        return max(0.0, (when - self.now()).total_seconds() / self.speed)

    def on_advance(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every `advance()`."""
        self._listeners.append(listener)
