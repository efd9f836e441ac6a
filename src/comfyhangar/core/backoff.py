"""The one backoff formula: how long to wait before try n+1 after n failures in a row.

The wait before retry `n` (0 for the first retry) is drawn below a ceiling that doubles from
`base_s` up to `max_s`::

    ceiling = min(max_s, base_s * 2**n)
    delay   = ceiling * (1 - jitter + jitter * random())      # random() in [0, 1)

`jitter=1` is "full jitter" (uniform in [0, ceiling]: AWS architecture blog, "Exponential
Backoff And Jitter"), the best spread for a crowd of callers coming back after an outage;
`jitter=0.5` waits between half and all of the ceiling; `jitter=0` waits the ceiling exactly.
Everything in the package that waits after a failure (the RunPod client's `RetryPolicy`, the
reconciler's loop, the log followers, the CLI's stream reconnects) uses this, with its own
numbers. Pure: the random source is injectable.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

_RANDOM = random.Random()  # noqa: S311 - jitter, not secrets; its own generator


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter (see the module docstring for the formula)."""

    base_s: float
    max_s: float
    jitter: float = 1.0
    random: Callable[[], float] = field(default=_RANDOM.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.max_s < 0:
            raise ValueError("delays must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def ceiling(self, retry_number: int) -> float:
        """The longest wait before retry `retry_number` (0-based)."""
        return min(self.max_s, self.base_s * 2.0 ** min(max(retry_number, 0), 60))

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (0-based)."""
        return self.ceiling(retry_number) * (1.0 - self.jitter + self.jitter * self.random())
