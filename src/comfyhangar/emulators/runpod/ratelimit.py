"""Account request quotas in fixed windows, reported as IETF draft `RateLimit` headers."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class Window:
    name: str
    quota: int
    seconds: int
    started: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if not self.started or now - self.started >= self.seconds:
            self.started = now
            self.used = 0

    def reset_in(self, now: float) -> int:
        if not self.started:
            return self.seconds
        return max(1, math.ceil(self.started + self.seconds - now))


class RateLimiter:
    """Minute, hour and day windows (real time). `take()` counts one request or names the
    exhausted window; `headers()` gives `RateLimit` and `RateLimit-Policy`."""

    def __init__(self, per_minute: int, per_hour: int, per_day: int) -> None:
        self.windows = [
            Window("minute", per_minute, 60),
            Window("hour", per_hour, 3600),
            Window("day", per_day, 86400),
        ]

    def take(self) -> Window | None:
        """Count a request; return the exhausted window instead when one is."""
        now = time.monotonic()
        for window in self.windows:
            window.roll(now)
        for window in self.windows:
            if window.used >= window.quota:
                return window
        for window in self.windows:
            window.used += 1
        return None

    def retry_after(self, window: Window) -> int:
        return window.reset_in(time.monotonic())

    def headers(self) -> dict[str, str]:
        now = time.monotonic()
        state = ", ".join(
            f'"{w.name}";r={max(0, w.quota - w.used)};t={w.reset_in(now)}' for w in self.windows
        )
        policy = ", ".join(f'"{w.name}";q={w.quota};w={w.seconds}' for w in self.windows)
        return {"RateLimit": state, "RateLimit-Policy": policy}
