"""Injected failures, switched on by tests (and by anyone who wants to see a client cope)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

LOST_CREATE_MODES = ("drop", "gateway", "stall")


@dataclass
class Faults:
    """Failure knobs; all off by default. Change the attributes at any time.

    - `latency_s`: real seconds added before every answer.
    - `hold_creates`: an `asyncio.Event`; while it is not set, every `POST /v2/pods` waits for it
      before it is carried out (a create stays in flight for exactly as long as a test wants).
    - `error_rate`: share (0..1) of requests answered 500/502/503 problem+json, before any
      side effect.
    - `burst_429(n, retry_after)`: the next `n` authenticated requests get 429.
    - `propagation_s`: for this many simulated seconds after its create, a pod is missing
      from `GET /v2/pods` and 404 on its own paths (RunPod's control-plane propagation, P4).
    - `lose_create_responses`: probability (0..1) that `POST /v2/pods` creates the pod (it
      exists and bills) but the client gets no clean answer. One of `lost_create_modes`, at
      random: "drop" sends the 201 status and headers, then drops the connection mid-body;
      "gateway" answers 502 or 504 problem+json; "stall" waits `stall_s` real seconds, then
      drops like "drop" (a client whose timeout is shorter sees a read timeout).
    """

    latency_s: float = 0.0
    hold_creates: asyncio.Event | None = field(default=None, repr=False)
    propagation_s: float = 0.0
    error_rate: float = 0.0
    lose_create_responses: float = 0.0
    lost_create_modes: tuple[str, ...] = LOST_CREATE_MODES
    stall_s: float = 30.0
    pending_429: int = field(default=0, repr=False)
    retry_after_429: int = field(default=1, repr=False)

    def burst_429(self, n: int, retry_after: int = 1) -> None:
        """Answer the next `n` authenticated requests with 429 and `Retry-After: retry_after`."""
        self.pending_429 = n
        self.retry_after_429 = retry_after

    def take_429(self) -> int | None:
        """Consume one injected 429; its Retry-After, or None when no burst is pending."""
        if self.pending_429 <= 0:
            return None
        self.pending_429 -= 1
        return self.retry_after_429
