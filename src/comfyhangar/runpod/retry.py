"""When and how long to wait before trying a RunPod request again.

Only requests that are safe to repeat are retried: reads (GET), PATCH, DELETE and the pod
actions start/stop/restart/terminate. A create (POST /v2/pods, POST /v2/network-volumes) is
never retried here: see `comfyhangar.runpod.provisioning` for the tagged, reconciled create.

What is retried: 5xx, transport failures (connect, timeout, reset, protocol errors) and 429.
What is not: every other 4xx (the same request would fail the same way).

Delays are exponential with full jitter (`uniform(0, min(max_delay, base * 2**n))`, AWS
architecture blog "Exponential Backoff And Jitter": the package's one formula, `core.backoff`); a 429 waits what `Retry-After` says
(plus a little jitter so a crowd of callers does not return in one instant). Two budgets bound a
call: `max_attempts` and `max_elapsed` seconds (waits included); a `Retry-After` longer than the
remaining budget ends the call at once with the `RateLimitedError`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from comfyhangar.core.backoff import Backoff
from comfyhangar.runpod.errors import (
    RateLimitedError,
    RunPodError,
    RunPodUnavailableError,
    ServerError,
)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget and backoff shape. Defaults suit production; tests shrink the delays.

    - `max_attempts`: total tries of one request, the first included (1 = never retry).
    - `base_delay`, `max_delay`: backoff cap for try n is `min(max_delay, base_delay * 2**n)`.
    - `max_elapsed`: stop retrying once this many seconds have passed since the first try.
    - `retry_after_jitter`: extra fraction (0.1 = up to 10 %) added to a `Retry-After` wait.
    - `default_retry_after`: wait for a 429 that carries no `Retry-After`.
    - `sleep`, `rng`: injectable for tests.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_elapsed: float = 90.0
    retry_after_jitter: float = 0.1
    default_retry_after: float = 1.0
    sleep: Sleep = field(default=asyncio.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_elapsed < 0:
            raise ValueError("delays must not be negative")

    def backoff(self, retry_number: int) -> float:
        """Full-jitter delay before retry `retry_number` (0 for the first retry)."""
        shape = Backoff(self.base_delay, self.max_delay, jitter=1.0, random=self.rng.random)
        return shape.delay(retry_number)

    def delay_for(self, error: RunPodError, retry_number: int) -> float:
        """Seconds to wait before retrying after `error` (which must be retryable)."""
        if isinstance(error, RateLimitedError):
            wait = error.retry_after
            if wait is None:
                wait = max(self.default_retry_after, self.backoff(retry_number))
            return wait * (1.0 + self.rng.uniform(0.0, self.retry_after_jitter))
        return self.backoff(retry_number)

    def with_attempts(self, max_attempts: int) -> RetryPolicy:
        """A copy of this policy with another attempt budget."""
        return RetryPolicy(
            max_attempts=max_attempts,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            max_elapsed=self.max_elapsed,
            retry_after_jitter=self.retry_after_jitter,
            default_retry_after=self.default_retry_after,
            sleep=self.sleep,
            rng=self.rng,
        )


#: Production default.
DEFAULT_RETRY_POLICY = RetryPolicy()

#: Never retry (one attempt).
NO_RETRY = RetryPolicy(max_attempts=1)


def is_retryable(error: RunPodError) -> bool:
    """True for failures worth repeating an idempotent request for: 5xx, transport, 429."""
    return isinstance(error, ServerError | RunPodUnavailableError | RateLimitedError)
