"""The log follower backs off while RunPod is down or rate-limits it, and recovers at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from comfyhangar.runpod.errors import RateLimitedError, RunPodUnavailableError
from comfyhangar.runpod.models import LogEvent
from comfyhangar.server.background import log_follower
from comfyhangar.server.background.log_follower import (
    RETRY_MAX_S,
    LogFollower,
    Target,
    retry_delay,
)


def test_retry_delay_doubles_to_a_cap_and_obeys_retry_after() -> None:
    down = RunPodUnavailableError("connection refused")
    ceilings = [retry_delay(n, 5.0, down, rand=lambda: 1.0) for n in range(1, 9)]
    assert ceilings == [5.0, 10.0, 20.0, 40.0, 80.0, RETRY_MAX_S, RETRY_MAX_S, RETRY_MAX_S]
    assert retry_delay(3, 5.0, down, rand=lambda: 0.0) == 10.0  # jitter: half to all of it
    limited = RateLimitedError("slow down", status=429, retry_after=42.0)
    assert retry_delay(1, 5.0, limited) == 42.0


class _DownClient:
    """A RunPod whose log stream fails `failures` times, then serves one line and ends."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def stream_logs(self, pod_id: str, **_: Any) -> AsyncIterator[LogEvent]:
        self.calls += 1
        return self._stream()

    async def _stream(self) -> AsyncIterator[LogEvent]:
        if self.calls <= self.failures:
            raise RunPodUnavailableError("RunPod is down")
        yield LogEvent(id="1", line="hello", source="stdout", ts=None)


async def test_follower_waits_longer_after_each_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(log_follower.asyncio, "sleep", fake_sleep)
    monkeypatch.setattr(log_follower._jitter, "random", lambda: 1.0)
    client = _DownClient(failures=5)
    follower = LogFollower(None, client, interval_s=2.0)  # type: ignore[arg-type]
    committed: list[list[LogEvent]] = []

    async def cursor(_: str) -> str | None:
        return None

    async def commit(_: Target, __: str | None, batch: list[LogEvent]) -> str:
        committed.append(batch)
        return batch[-1].id

    monkeypatch.setattr(follower, "_cursor", cursor)
    monkeypatch.setattr(follower, "_commit", commit)
    async with asyncio.timeout(10):
        await follower._follow(Target("dep", "pod"))
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert client.calls == 6
    assert [e.line for b in committed for e in b] == ["hello"]
