"""Activity sources of the idle guard: each tells whether a deployment's pod is in use now.

A source is anything with a `name` and an async `read(target) -> Signal` (`ActivitySource`).
The guard reads every registered source for each ready deployment; any active signal keeps
the pod awake. A source that fails (raises, or times out) counts as active, and the reason
shows: the guard never stops a pod because it could not see it.

To add one (the runs of ours queued for a pod, say), write a class with `name` and `read` and
append an instance to `IdleGuard.sources` where the runtime builds the guard (runtime.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from comfyhangar.comfyui.client import ComfyUIClient, Retry
from comfyhangar.comfyui.errors import ComfyUIError
from comfyhangar.core.idle import IdlePolicy, Signal
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.services.comfyui_access import ComfyEndpoint

# Read by the pod agent's token proxy (agent/idle_switch.py), never forwarded to ComfyUI.
IDLE_LIMIT_HEADER = "X-Hangar-Idle-Limit-S"
# A read through RunPod's proxy that takes longer than this is a signal that cannot be read.
COMFYUI_READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ActivityTarget:
    """What a source may look at: the deployment (as the guard read it), its last reading
    of this source (for `memo`), the way to its ComfyUI, and its effective idle policy."""

    deployment: Deployment
    previous: Signal | None
    endpoint: Callable[[], Awaitable[ComfyEndpoint]]
    policy: IdlePolicy


class ActivitySource(Protocol):
    name: str

    async def read(self, target: ActivityTarget) -> Signal:
        """This source's signal now. May raise: the guard counts that as active."""
        ...


class ComfyUIActivity:
    """A prompt running or waiting (`GET /prompt`'s `queue_remaining`, ours or anyone's), or
    one that finished since the last look (the newest `/history` entry changed: compared by
    prompt id, so no clock of the pod is trusted). A browser tab with an open websocket and
    nothing queued is not activity."""

    name = "comfyui"

    def __init__(self, *, timeout_s: float = COMFYUI_READ_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s

    async def read(self, target: ActivityTarget) -> Signal:
        endpoint = await target.endpoint()
        try:
            # Each look is also the agent's heartbeat, with the policy its own switch keeps.
            limit = {IDLE_LIMIT_HEADER: f"{target.policy.agent_limit_s:.0f}"}
            async with ComfyUIClient(
                endpoint.base_url,
                headers={**endpoint.headers, **limit},
                timeout=self._timeout_s,
                retry=Retry(attempts=2, base_delay=0.5, max_delay=1.0),
            ) as comfy:
                remaining = await comfy.queue_remaining()
                newest = await comfy.newest_history_id()
        except ComfyUIError as exc:
            return Signal(self.name, True, f"cannot read ComfyUI's queue: {exc}", unreadable=True)
        previous = target.previous.memo if target.previous is not None else None
        if remaining:
            return Signal(self.name, True, f"{remaining} prompt(s) running or queued", memo=newest)
        if newest is not None and newest != previous:
            return Signal(self.name, True, "a prompt finished since the last look", memo=newest)
        return Signal(self.name, False, "no prompt running or queued", memo=newest)


class SetupActivity:
    """Setup steps (installs, downloads) in progress: setup is never idle time."""

    name = "setup"

    async def read(self, target: ActivityTarget) -> Signal:
        steps = target.deployment.setup or {}
        busy = sorted(
            name
            for name, entry in steps.items()
            if isinstance(entry, dict) and entry.get("status") in ("started", "running")
        )
        if busy:
            return Signal(self.name, True, f"setup in progress: {', '.join(busy)}")
        return Signal(self.name, False, "no setup step in progress")


def default_sources() -> list[ActivitySource]:
    """The sources every guard reads (runs of ours are added where the runtime builds it)."""
    return [SetupActivity(), ComfyUIActivity()]
