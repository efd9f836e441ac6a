"""Failed sign-ins, counted per account and per address, in a sliding window.

After `per_account` failures for one account name (from anywhere), or `per_address` from one
client address (for any names), within `window_s`, further attempts are refused with 429
`too_many_attempts` until the oldest failure leaves the window, whatever the password. A
success clears the account's count. The counts live in the process (a restart forgets them;
replicas count each on their own): they slow guessing down, the argon2 hashes do the rest.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from comfyhangar.core.errors import TooManyAttempts

MAX_TRACKED = 10_000


class LoginLimits:
    """Sliding-window failure counts by account name and by client address."""

    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account = per_account
        self.per_address = per_address
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, account: str, address: str) -> None:
        """TooManyAttempts (429) when either count is at its limit."""
        for key, limit in (
            (f"user:{account.lower()}", self.per_account),
            (f"ip:{address}", self.per_address),
        ):
            times = self._recent(key)
            if len(times) >= limit:
                wait = max(1, int(self.window_s - (self._clock() - times[0])) + 1)
                error = TooManyAttempts(
                    f"too many failed sign-ins {'for this account' if key.startswith('user:') else 'from this address'}; "
                    f"try again in {wait} s"
                )
                error.details["retry_after_s"] = wait
                raise error

    def failed(self, account: str, address: str) -> None:
        """Count one failure against both the account and the address."""
        if len(self._failures) >= MAX_TRACKED:
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            del self._failures[oldest]
        now = self._clock()
        for key in (f"user:{account.lower()}", f"ip:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        self._failures.pop(f"user:{account.lower()}", None)
