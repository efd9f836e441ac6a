"""Shaping deployments for the API: database rows plus the reconciler's latest pod metrics.

The list (`GET /deployments`) is rendered to JSON once and kept by query (`RenderedLists`)
until anything it shows may have changed; see `RenderedLists` for what ends an entry.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from comfyhangar.core.idle import IdlePolicy
from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.core.setup_progress import SETUP_ORDER
from comfyhangar.runpod.models import Pod
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import (
    DeploymentDetail,
    DeploymentLinks,
    DeploymentView,
    GpuView,
    PodView,
    SetupStep,
    StateChange,
)
from comfyhangar.server.services.costs import NO_COST, DeploymentCost
from comfyhangar.server.services.idle import idle_view

DEFAULT_IDLE = IdlePolicy()
API = "/api/v1"


def pod_view(row: PodRow | None, live: Pod | None) -> PodView | None:
    if row is None or row.gone_at is not None:
        return None
    runtime = live.runtime if live is not None else None
    return PodView(
        id=row.id,
        status=live.status.value if live is not None else row.status,
        cost_per_hour=live.cost if live is not None else row.cost_per_hour,
        data_center_id=row.data_center_id,
        uptime_s=runtime.uptime if runtime else None,
        gpu_util=[g.util or 0 for g in runtime.gpus] if runtime else [],
        gpu_memory_util=[g.memory_util or 0 for g in runtime.gpus] if runtime else [],
        cpu_util=runtime.cpu.util if runtime and runtime.cpu else None,
        memory_util=runtime.memory.util if runtime and runtime.memory else None,
        last_seen_at=row.last_seen_at,
    )


def setup_steps(dep: Deployment) -> list[SetupStep]:
    steps = dep.setup or {}
    return [SetupStep(step=name, **steps[name]) for name in SETUP_ORDER if name in steps]


def deployment_view(
    dep: Deployment,
    row: PodRow | None,
    live: Pod | None,
    *,
    simulated: bool,
    cost: DeploymentCost | None = None,
    idle_default: IdlePolicy = DEFAULT_IDLE,
) -> DeploymentView:
    spec = dep.spec
    link = f"{API}/deployments/{dep.id}"
    pod = pod_view(row, live)
    # The one-click link: `/open` redirects to the pod's proxy with the pod token; the token
    # itself never appears in a JSON view.
    comfyui = (
        f"{link}/open" if pod is not None and dep.state == DeploymentState.READY.value else None
    )
    return DeploymentView(
        id=dep.id,
        name=dep.name,
        state=DeploymentState(dep.state),
        desired_state=Desired(dep.desired_state),
        reason=dep.state_reason,
        simulated=simulated,
        gpu=GpuView(id=spec["gpu"]["id"], count=spec["gpu"]["count"]),
        cloud=spec["cloud"],
        image=spec["image"],
        container_disk_gb=spec["container_disk_gb"],
        volume_gb=spec.get("volume_gb"),
        network_volume_id=spec.get("network_volume_id"),
        created_at=dep.created_at,
        updated_at=dep.updated_at,
        pod=pod,
        setup=setup_steps(dep),
        cost=(cost or NO_COST).view(),
        idle=idle_view(dep, idle_default),
        links=DeploymentLinks(
            self=link,
            logs=f"{link}/logs",
            events=f"{API}/events?deployment_id={dep.id}",
            comfyui=comfyui,
        ),
    )


def deployment_detail(
    dep: Deployment,
    row: PodRow | None,
    live: Pod | None,
    history: Sequence[Event],
    *,
    simulated: bool,
    cost: DeploymentCost | None = None,
    idle_default: IdlePolicy = DEFAULT_IDLE,
) -> DeploymentDetail:
    view = deployment_view(
        dep, row, live, simulated=simulated, cost=cost, idle_default=idle_default
    )
    changes = [
        StateChange(
            state=DeploymentState(e.data["state"]), at=e.created_at, reason=e.data.get("reason")
        )
        for e in history
    ]
    return DeploymentDetail(**view.model_dump(), history=changes)


# --- The rendered list ---------------------------------------------------------------------

ListKey = tuple[str | None, int | None, int]  # (state, limit, offset)
_VIEW = DeploymentView.__pydantic_serializer__
_LIST_HEAD = b'{"deployments":['
_LIST_TAIL = b"]}"


def render_list(
    deployments: Sequence[tuple[Deployment, PodRow | None]],
    live: Mapping[str, Pod],
    costs: Mapping[str, DeploymentCost],
    *,
    simulated: bool,
    idle_default: IdlePolicy = DEFAULT_IDLE,
) -> tuple[bytes, dict[str, Pod | None]]:
    """The list's JSON (as `DeploymentList` serialises it), and the live pods it shows."""
    items: list[bytes] = []
    used: dict[str, Pod | None] = {}
    for dep, row in deployments:
        pod = live.get(dep.pod_id) if dep.pod_id else None
        if dep.pod_id:
            used[dep.pod_id] = pod
        view = deployment_view(
            dep, row, pod, simulated=simulated, cost=costs.get(dep.id), idle_default=idle_default
        )
        items.append(_VIEW.to_json(view))
    return _LIST_HEAD + b",".join(items) + _LIST_TAIL, used


@dataclass
class RenderedList:
    """One query's list as JSON, with what it was rendered from (to tell when it is stale)."""

    tokens: tuple[int, int]  # (commit generation, newest event id) when rendering began
    body: bytes
    live: dict[str, Pod | None]  # the reconciler's pod of each listed pod id, as rendered
    made_at: float = field(default_factory=time.monotonic)

    def shows_live(self, live: Mapping[str, Pod]) -> bool:
        """True while every listed pod's metrics are those rendered (identity, then equality)."""
        for pod_id, rendered in self.live.items():
            now = live.get(pod_id)
            if now is not rendered and now != rendered:
                return False
        return True


Render = Callable[[], Awaitable[tuple[bytes, dict[str, Pod | None]]]]


class RenderedLists:
    """The list endpoint's JSON bodies by query, kept while nothing they show has changed.

    An entry serves only while all of these hold; otherwise the list is rendered again:
    - no transaction of this process committed since its rendering began (`invalidate` is
      called after every commit: every write of the server goes through `session.begin()`,
      so a state, a pod row, a setup step, a metered cost or a lease changes the generation);
    - the event hub has read no newer event (events other server processes append);
    - the reconciler's latest listing holds the same pod (status, rate, metrics) for every
      listed pod id;
    - it is younger than `max_age_s`, when set (with a shared database, for what other server
      processes write without an event).
    Nothing in it moves with the clock alone (cost so far is what the meter billed, written
    like anything else). Renders of one query are shared by the requests that arrive while
    it runs, if nothing changed since it began.
    """

    MAX_ENTRIES = 16

    def __init__(self, *, max_age_s: float | None = None) -> None:
        self.max_age_s = max_age_s
        self.generation = 0
        self.renders = 0  # how many times a list was rendered (for tests and profiling)
        self._entries: OrderedDict[ListKey, RenderedList] = OrderedDict()
        self._inflight: dict[ListKey, tuple[tuple[int, int], asyncio.Future[RenderedList]]] = {}

    def invalidate(self) -> None:
        """Something the list may show changed: no entry rendered before now serves again."""
        self.generation += 1
        self._entries.clear()

    def _fresh(self, entry: RenderedList, tokens: tuple[int, int], live: Mapping[str, Pod]) -> bool:
        if entry.tokens != tokens or not entry.shows_live(live):
            return False
        return self.max_age_s is None or time.monotonic() - entry.made_at < self.max_age_s

    async def body(
        self,
        key: ListKey,
        *,
        event_id: int,
        live: Mapping[str, Pod],
        render: Render,
    ) -> bytes:
        """The list's JSON for `key`: kept if still true, else rendered (once for all waiters)."""
        tokens = (self.generation, event_id)
        entry = self._entries.get(key)
        if entry is None or not self._fresh(entry, tokens, live):
            entry = await self._shared_render(key, tokens, render)
            if not entry.shows_live(live):  # the reconciler moved on while it rendered
                entry = await self._render(key, (self.generation, event_id), render)
        return entry.body

    async def _shared_render(
        self,
        key: ListKey,
        tokens: tuple[int, int],
        render: Render,
    ) -> RenderedList:
        pending = self._inflight.get(key)
        if pending is None or pending[0] != tokens:  # none, or begun before a change
            future = asyncio.ensure_future(self._render(key, tokens, render))
            pending = (tokens, future)
            self._inflight[key] = pending

            def _done(done: asyncio.Future[RenderedList]) -> None:
                if self._inflight.get(key, (None, None))[1] is done:
                    del self._inflight[key]

            future.add_done_callback(_done)
        return await asyncio.shield(pending[1])

    async def _render(
        self,
        key: ListKey,
        tokens: tuple[int, int],
        render: Render,
    ) -> RenderedList:
        body, live = await render()
        self.renders += 1
        entry = RenderedList(tokens, body, live)
        if tokens[0] == self.generation:  # nothing committed while it rendered
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.MAX_ENTRIES:
                self._entries.popitem(last=False)
        return entry
