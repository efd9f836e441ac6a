"""Carrying out one reconciler decision on RunPod, under the deployment's lease.

Each action is: take the lease (only if the deployment is unchanged since the cycle looked at
it), call RunPod with no transaction open, then record the outcome and its events in one
transaction under the lease. A create first records its intent, so a server killed in the
middle never creates blindly again: the next attempt lists pods and matches the tag first.

At most `ActionSettings.max_concurrent` actions run at once in a process; the others wait, with
no lease held, terminates and stops first (they end billing), then in the order planned. A
thousand deploys at once thus make a steady stream of RunPod calls and database writes rather
than a thousand leases renewed while they all wait for the database; an action that waited
past a change of its deployment (a terminate asked meanwhile) does not take the lease and is
dropped, so a create nobody wants any more is never sent.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.lifecycle import DeploymentState, Desired, PodAction
from comfyhangar.runpod import ConflictError, NotFoundError, RunPodClient, RunPodError
from comfyhangar.runpod.models import Cloud, Pod
from comfyhangar.runpod.provisioning import (
    CreatePodFailedError,
    ProvisioningPolicy,
    create_tagged_pod,
)
from comfyhangar.server.background.leases import Lease, LeaseLostError, acquire, renewing, utcnow
from comfyhangar.server.background.pod_rows import record_pod
from comfyhangar.server.db.events import append_event, append_state_event
from comfyhangar.server.db.models import Deployment
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.pod_spec import POD_LABEL, candidates_for, create_request
from comfyhangar.server.services.secrets import load_secrets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSettings:
    lease_s: float = 30.0
    # After an interrupted create, wait this long before creating again (pods can take a
    # moment to show in RunPod's list).
    create_settle_s: float = 30.0
    provisioning: ProvisioningPolicy = field(default_factory=ProvisioningPolicy)
    # Extra `agent run` arguments (the operator's download policy and endpoints).
    agent_args: tuple[str, ...] = ()
    # Actions running at once (RunPod calls in flight, leases held); the rest wait their turn.
    max_concurrent: int = 16


# Which waiting action goes first: those that end billing.
_PRIORITY = {PodAction.TERMINATE: 0, PodAction.STOP: 1}


class ActionSlots:
    """At most `size` holders at a time; waiters get a slot by priority (lower first), then
    in the order they came."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # the slot came as we were cancelled: pass it on
            raise  # (a cancelled waiter left in the heap is skipped by release)

    def release(self) -> None:
        while self._waiters:
            _, _, turn = heapq.heappop(self._waiters)
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1


@dataclass(frozen=True)
class Planned:
    """An action the cycle decided, with what it saw."""

    deployment_id: str
    version: int
    action: PodAction
    spec: dict[str, Any]
    pod_id: str | None
    create_intent_at: datetime | None


class PodActions:
    """Runs planned actions; one at a time per deployment within this process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        catalog: Catalog,
        settings: ActionSettings,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._catalog = catalog
        self._settings = settings
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots = ActionSlots(settings.max_concurrent)
        self._last_error: dict[str, str] = {}  # per deployment, to report each error once

    def busy(self, deployment_id: str) -> bool:
        return deployment_id in self._running

    def start(self, planned: Planned) -> None:
        """Run `planned` in the background unless this process already acts on that deployment."""
        if planned.deployment_id in self._running:
            return
        task = asyncio.create_task(
            self._run(planned), name=f"{planned.action}:{planned.deployment_id}"
        )
        self._running[planned.deployment_id] = task
        task.add_done_callback(lambda _t: self._running.pop(planned.deployment_id, None))

    async def wait_idle(self) -> None:
        """Wait for every action in flight (tests and shutdown)."""
        while self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _run(self, planned: Planned) -> None:
        await self._slots.acquire(_PRIORITY.get(planned.action, 2))
        try:
            await self._act_under_lease(planned)
        finally:
            self._slots.release()

    async def _act_under_lease(self, planned: Planned) -> None:
        settings = self._settings
        intent: dict[str, Any] = {}
        if planned.action is PodAction.CREATE:
            intent = {"create_intent_at": planned.create_intent_at or utcnow()}
        lease = await acquire(
            self._sessions,
            planned.deployment_id,
            planned.version,
            settings.lease_s,
            extra=lambda: intent,
        )
        if lease is None:
            return  # changed since the cycle looked, or another process acts on it
        try:
            async with renewing(lease, settings.lease_s):
                if planned.action is PodAction.CREATE:
                    await self._create(lease, planned)
                else:
                    await self._act(lease, planned)
        except LeaseLostError:
            log.warning("lease lost on %s; the next cycle sees the truth", planned.deployment_id)
        except Exception:
            log.exception("action %s on %s failed", planned.action, planned.deployment_id)
            await lease.release()
            raise

    async def _create(self, lease: Lease, planned: Planned) -> None:
        recovering = planned.create_intent_at is not None
        policy = self._settings.provisioning
        if recovering:
            # A create may have happened before a crash: look before creating again.
            policy = ProvisioningPolicy(**{**policy.__dict__, "check_existing": True})
        spec = planned.spec
        try:
            catalog = await self._catalog.gpus(Cloud(spec["cloud"]))
            outcome = await create_tagged_pod(
                self._client,
                deployment_id=planned.deployment_id,
                label=POD_LABEL,
                request=create_request(
                    spec,
                    await load_secrets(self._sessions, planned.deployment_id),
                    agent_args=self._settings.agent_args,
                ),
                candidates=candidates_for(spec, catalog),
                policy=policy,
            )
        except CreatePodFailedError as exc:
            if exc.reason in ("outcome_unknown", "unavailable", "rate_limited"):
                await self._note_error(
                    lease, f"create not confirmed yet ({exc.reason}); will retry"
                )
                return
            await self._failed(lease, _failure_text(exc))
            return
        except RunPodError as exc:
            await self._note_error(lease, f"create could not be sent: {exc}")
            return
        pod = outcome.pod
        self._last_error.pop(planned.deployment_id, None)
        async with self._sessions() as session, session.begin():
            # A stop or terminate asked while the create ran keeps its state (stopping,
            # terminating): the next cycle acts on it. The row lock holds off such a request
            # until this commits.
            desired = await session.scalar(
                select(Deployment.desired_state)
                .where(Deployment.id == planned.deployment_id)
                .with_for_update()
            )
            values: dict[str, Any] = {"pod_id": pod.id, "create_intent_at": None}
            if desired == Desired.RUNNING.value:
                values.update(state=DeploymentState.PROVISIONING.value, state_reason=None)
            await lease.apply(session, values)
            await record_pod(session, pod, planned.deployment_id)
            await append_event(
                session,
                EventType.POD_CREATED,
                deployment_id=planned.deployment_id,
                pod_id=pod.id,
                data={
                    "gpu": pod.gpu_type_id,
                    "gpu_count": pod.gpu.count if pod.gpu else 0,
                    "data_center_id": pod.data_center_id,
                    "cost_per_hour": str(pod.cost),
                    "adopted": outcome.adopted,
                    "attempts": [
                        {"candidate": str(a.candidate), "result": a.result, "detail": a.detail}
                        for a in outcome.attempts
                    ],
                },
            )
            if "state" in values:
                await _state_event(
                    session, planned.deployment_id, DeploymentState.PROVISIONING, pod_id=pod.id
                )
        for extra in outcome.duplicates:
            log.warning("duplicate pod %s for %s: terminating it", extra.id, planned.deployment_id)
            await self._client.ensure_terminated(extra.id)

    async def _act(self, lease: Lease, planned: Planned) -> None:
        pod_id = planned.pod_id
        if pod_id is None:
            await lease.release()
            return
        action = planned.action
        try:
            pod: Pod | None
            if action is PodAction.TERMINATE:
                await self._client.ensure_terminated(pod_id)
                pod = None
            elif action is PodAction.STOP:
                pod = await self._client.stop_pod(pod_id)
            elif action is PodAction.START:
                pod = await self._client.start_pod(pod_id)
            else:
                pod = await self._client.restart_pod(pod_id)
        except (ConflictError, NotFoundError):
            await lease.release()  # the pod moved on; the next cycle decides again
            return
        except RunPodError as exc:
            await self._note_error(lease, f"{action} failed: {exc}")
            return
        self._last_error.pop(planned.deployment_id, None)
        values: dict[str, Any] = {}
        if action in (PodAction.START, PodAction.RESTART):
            values.update(setup_ready=False, setup={}, restart_requested=False)
        async with self._sessions() as session, session.begin():
            await lease.apply(session, values)
            if pod is not None:
                await record_pod(session, pod, planned.deployment_id)
            await append_event(
                session,
                EventType.POD_ACTION,
                deployment_id=planned.deployment_id,
                pod_id=pod_id,
                data={"action": action.value, "status": pod.status.value if pod else "TERMINATED"},
            )

    async def _failed(self, lease: Lease, reason: str) -> None:
        async with self._sessions() as session, session.begin():
            await lease.apply(
                session,
                {
                    "state": DeploymentState.FAILED.value,
                    "state_reason": reason,
                    "create_intent_at": None,
                },
            )
            await append_event(
                session,
                EventType.ERROR,
                deployment_id=lease.deployment_id,
                data={"message": reason},
            )
            await _state_event(session, lease.deployment_id, DeploymentState.FAILED, reason=reason)

    async def _note_error(self, lease: Lease, message: str) -> None:
        """Release the lease; report the error once (not again every cycle while it lasts)."""
        repeated = self._last_error.get(lease.deployment_id) == message
        self._last_error[lease.deployment_id] = message
        async with self._sessions() as session, session.begin():
            await lease.apply(session, {})
            if not repeated:
                await append_event(
                    session,
                    EventType.ERROR,
                    deployment_id=lease.deployment_id,
                    data={"message": message},
                )


async def _state_event(
    session: AsyncSession,
    deployment_id: str,
    state: DeploymentState,
    *,
    pod_id: str | None = None,
    reason: str | None = None,
) -> None:
    """The state change a create makes (always from `creating`)."""
    await append_state_event(
        session,
        deployment_id,
        state.value,
        DeploymentState.CREATING.value,
        pod_id=pod_id,
        reason=reason,
    )


def _failure_text(exc: CreatePodFailedError) -> str:
    reasons = {
        "no_capacity": "no GPU of the requested types is available right now",
        "insufficient_balance": "the RunPod balance cannot cover an hour of this pod",
        "invalid_request": "RunPod refused the pod request",
    }
    last = exc.last_error.detail if exc.last_error is not None else ""
    head = reasons.get(exc.reason, exc.reason)
    return f"{head}: {last}" if last else head
