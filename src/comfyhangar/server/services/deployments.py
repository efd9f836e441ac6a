"""Deployments as users see them: create, list, read, and ask for stop/start/restart/terminate.

The service never calls RunPod to change anything: it records what the user wants (and the
event that says so) in one transaction, then wakes the reconciler, which acts under a lease.
It reads RunPod only to validate a new deployment against the live catalog, so a bad GPU or an
impossible count is refused before anything is stored.

Names are unique among deployments that are not terminated: a create whose name is taken is a
409 `name_taken` naming the deployment that has it, checked first (before the catalog and
preflight) and enforced by the database's partial unique index when creates race.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, defer

from comfyhangar.agent.manifest import MANIFEST_VERSION, Policy
from comfyhangar.core.access import Principal
from comfyhangar.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NameTaken,
    NotFound,
    UpstreamUnavailable,
)
from comfyhangar.core.idle import IdlePolicy
from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.runpod import NotFoundError, RunPodClient, RunPodError
from comfyhangar.runpod.models import Cloud
from comfyhangar.server.db.events import STATE_EVENT, append_event, append_state_event
from comfyhangar.server.db.models import Deployment, DeploymentSecret, Event, LogLine
from comfyhangar.server.db.models import Pod as PodRow
from comfyhangar.server.schemas.deployments import NOT_IN_SPEC, DeploymentCreate
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.catalog import Catalog, check_offer
from comfyhangar.server.services.costs import cost_in, row_rate
from comfyhangar.server.services.idle import merge_policy, policy_json
from comfyhangar.server.services.manifests import validate_manifest
from comfyhangar.server.services.preflight import Disk, Preflight
from comfyhangar.server.services.presets import PRESETS, merge
from comfyhangar.server.services.secrets import (
    CIVITAI_TOKEN,
    HF_TOKEN,
    POD_TOKEN,
    SecretBox,
    load_secrets,
    new_pod_token,
)
from comfyhangar.server.views import RenderedLists

# With a database other server processes write to, what they change without an event (a cost
# metered there, a lease's pod id) reaches this process's rendered lists within this.
SHARED_DATABASE_LIST_MAX_AGE_S = 1.0
_WROTE = "comfyhangar.rendered_lists.wrote"  # session.info: this transaction wrote something


class DeploymentService:
    """Intent changes and reads. `wake` nudges the reconciler after each change."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: RunPodClient,
        catalog: Catalog,
        wake: Callable[[], None],
        admission: Callable[[dict[str, Any], str | None], Awaitable[None]] | None = None,
        *,
        policy: Policy | None = None,
        preflight: Preflight | None = None,
        idle_default: IdlePolicy | None = None,
        secret_box: SecretBox | None = None,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._catalog = catalog
        self._wake = wake
        # Raises when a pod of this spec may not run now (a budget cannot cover an hour of it).
        self.admission = admission
        # What manifests may download from (the operator's allow-list).
        self.policy = policy or Policy()
        # Checks models against Hugging Face / Civitai before anything is stored (None: off).
        self.preflight = preflight
        # The server's idle policy: a deploy's `idle` fields are merged into it.
        self.idle_default = idle_default or IdlePolicy()
        # Encrypts the deployment secrets at rest (None: stored as given, for tests only).
        self.secret_box = secret_box
        # The list endpoint's rendered JSON (see `RenderedLists`); None when the sessions'
        # commits cannot be watched (then every list is rendered afresh).
        self.rendered_lists = _watched_lists(sessions)

    async def create(self, body: DeploymentCreate, owner_id: str | None = None) -> Deployment:
        """Validate the manifest and against the catalog, store the deployment (owned by
        `owner_id`) and its event."""
        manifest = self.resolve_manifest(body.preset, body.manifest)
        idle = (
            None
            if body.idle is None
            else policy_json(merge_policy(self.idle_default, body.idle, field_prefix="body.idle"))
        )
        await self._check_name_free(body.name)
        await self._validate(body)
        if self.preflight is not None and manifest:
            # A network volume may already hold the models (the agent skips complete files):
            # only a fresh volume disk is held against the total.
            disk = Disk(body.volume_gb, "volume_gb") if body.volume_gb is not None else None
            result = await self.preflight.run(
                validate_manifest(manifest, self.policy),
                hf_token=_secret(body.hf_token),
                civitai_token=_secret(body.civitai_token),
                disk=disk,
            )
            result.raise_for_errors()
        spec = body.model_dump(mode="json", exclude=set(NOT_IN_SPEC))
        spec["manifest"] = manifest
        secret_values = {POD_TOKEN: new_pod_token()}
        if body.hf_token is not None:
            secret_values[HF_TOKEN] = body.hf_token.get_secret_value()
        if body.civitai_token is not None:
            secret_values[CIVITAI_TOKEN] = body.civitai_token.get_secret_value()
        if self.admission is not None:
            await self.admission(spec, None)
        deployment = Deployment(
            id=uuid.uuid4().hex,
            name=body.name,
            spec=spec,
            desired_state=Desired.RUNNING.value,
            state=DeploymentState.PENDING.value,
            idle_policy=idle,
            owner_id=owner_id,
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(deployment)
                await session.flush()  # the live-name index refuses a taken name here
                session.add_all(
                    DeploymentSecret(
                        deployment_id=deployment.id,
                        name=name,
                        value=self.secret_box.seal(value) if self.secret_box else value,
                    )
                    for name, value in secret_values.items()
                )
                await append_event(
                    session,
                    EventType.DEPLOYMENT_CREATED,
                    deployment_id=deployment.id,
                    data={"name": body.name, "gpu": body.gpu.id, "gpu_count": body.gpu.count},
                )
        except IntegrityError:
            await self._check_name_free(body.name)  # another create took it meanwhile: 409
            raise
        self._wake()
        return deployment

    async def _check_name_free(self, name: str) -> None:
        """NameTaken (409) when a deployment that is not terminated has `name`."""
        async with self._sessions() as session:
            holder = (
                await session.execute(
                    select(Deployment.id, Deployment.state).where(
                        Deployment.name == name,
                        Deployment.state != DeploymentState.TERMINATED.value,
                    )
                )
            ).first()
        if holder is not None:
            raise NameTaken.by(name, holder.id, holder.state)

    def resolve_manifest(self, preset_id: str | None, manifest: dict[str, Any]) -> dict[str, Any]:
        """The deployment's own manifest checked, then merged into its preset; 422 if bad."""
        preset = None
        if preset_id is not None:
            preset = PRESETS.get(preset_id)
            if preset is None:
                raise InvalidInput.at(
                    "preset", f"unknown preset {preset_id!r}; GET /api/v1/presets lists them"
                )
            manifest = {"version": MANIFEST_VERSION, **manifest}
        if not manifest:
            return manifest
        validate_manifest(manifest, self.policy)
        merged = merge(preset, manifest)
        validate_manifest(merged, self.policy)
        return merged

    async def _validate(self, body: DeploymentCreate) -> None:
        cloud = Cloud(body.cloud)
        try:
            gpus = {g.id: g for g in await self._catalog.gpus(cloud)}
            centers = {c.id for c in await self._catalog.data_centers()}
        except RunPodError as exc:
            raise UpstreamUnavailable(f"cannot read RunPod's GPU catalog: {exc}") from exc
        check_offer(gpus.get(body.gpu.id), body.gpu.id, body.gpu.count, cloud)
        for i, fallback in enumerate(body.fallback_gpu_ids):
            if fallback not in gpus:
                raise InvalidInput.at(f"fallback_gpu_ids.{i}", f"unknown GPU type {fallback!r}")
        for i, dc in enumerate(body.data_center_ids):
            if dc not in centers:
                raise InvalidInput.at(f"data_center_ids.{i}", f"unknown data center {dc!r}")
        if body.network_volume_id is not None:
            try:
                await self._client.get_network_volume(body.network_volume_id)
            except NotFoundError:
                raise InvalidInput.at(
                    "network_volume_id", f"no network volume {body.network_volume_id!r}"
                ) from None
            except RunPodError as exc:
                raise UpstreamUnavailable(f"cannot check the network volume: {exc}") from exc

    async def list_with_pods(
        self,
        state: str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        owner_id: str | None = None,
    ) -> Sequence[tuple[Deployment, PodRow | None]]:
        """Newest first, each with its pod row (one query); `limit`/`offset` page (no limit: all);
        `owner_id` keeps one user's."""
        query = (
            select(Deployment, PodRow)
            .outerjoin(PodRow, PodRow.id == Deployment.pod_id)
            .options(defer(PodRow.snapshot))  # RunPod's whole pod JSON: no view shows it
            .order_by(Deployment.created_at.desc(), Deployment.id)
        )
        if state is not None:
            query = query.where(Deployment.state == state)
        if owner_id is not None:
            query = query.where(Deployment.owner_id == owner_id)
        if limit is not None or offset:
            query = query.limit(limit).offset(offset)
        async with self._sessions() as session:
            return [(dep, row) for dep, row in await session.execute(query)]

    async def get(self, deployment_id: str) -> Deployment:
        async with self._sessions() as session:
            deployment = await session.get(Deployment, deployment_id)
        if deployment is None:
            raise NotFound(f"no deployment {deployment_id!r}")
        return deployment

    async def visible(
        self, principal: Principal, deployment_id: str, *, act: bool = False
    ) -> Deployment:
        """The deployment if `principal` may see it (and, with `act`, change it or run on
        it): a member gets 404 for another's, as if it did not exist; a viewer 403 for any
        change. The one check for every route that touches a deployment."""
        dep = await self.get(deployment_id)
        if not principal.may_see(dep.owner_id):
            raise NotFound(f"no deployment {deployment_id!r}")
        if act and not principal.may_act_on(dep.owner_id):
            raise Forbidden(f"you may not change deployment {deployment_id} (it is not yours)")
        return dep

    async def detail_rows(
        self, deployment_id: str
    ) -> tuple[Deployment, PodRow | None, Sequence[Event]]:
        """The deployment, its pod row and its state history: one session, two queries."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(Deployment, PodRow)
                    .outerjoin(PodRow, PodRow.id == Deployment.pod_id)
                    .options(defer(PodRow.snapshot))
                    .where(Deployment.id == deployment_id)
                )
            ).first()
            if found is None:
                raise NotFound(f"no deployment {deployment_id!r}")
            history = (
                await session.scalars(
                    select(Event)
                    .where(Event.deployment_id == deployment_id, Event.type == STATE_EVENT)
                    .order_by(Event.id)
                )
            ).all()
        return found[0], found[1], history

    async def pod_token(self, deployment_id: str) -> str | None:
        """The deployment's pod token (None for one made before pod tokens existed)."""
        secrets = await load_secrets(self._sessions, deployment_id, self.secret_box)
        return secrets.get(POD_TOKEN)

    async def log_tail(self, deployment_id: str, lines: int) -> Sequence[LogLine]:
        await self.get(deployment_id)
        async with self._sessions() as session:
            newest = (
                await session.scalars(
                    select(LogLine)
                    .where(LogLine.deployment_id == deployment_id)
                    .order_by(LogLine.id.desc())
                    .limit(lines)
                )
            ).all()
        return list(reversed(newest))

    async def log_lines_after(
        self, deployment_id: str, after: int, lines: int
    ) -> Sequence[LogLine]:
        """The first `lines` kept log lines with an id above `after`, oldest first."""
        await self.get(deployment_id)
        async with self._sessions() as session:
            return (
                await session.scalars(
                    select(LogLine)
                    .where(LogLine.deployment_id == deployment_id, LogLine.id > after)
                    .order_by(LogLine.id)
                    .limit(lines)
                )
            ).all()

    async def stop(self, deployment_id: str) -> Deployment:
        return await self._ask(deployment_id, "stop")

    async def start(self, deployment_id: str) -> Deployment:
        dep = await self.get(deployment_id)
        if self.admission is not None and dep.desired_state != Desired.RUNNING.value:
            await self.admission(dep.spec, dep.id)
        return await self._ask(deployment_id, "start")

    async def restart(self, deployment_id: str) -> Deployment:
        return await self._ask(deployment_id, "restart")

    async def terminate(self, deployment_id: str) -> Deployment:
        return await self._ask(deployment_id, "terminate")

    async def request(self, deployment_id: str, what: str, reason: str) -> None:
        """Stop or terminate on the system's behalf (a budget cap), saying why; no error if
        already so. The reason stays the deployment's until it runs again."""
        with contextlib.suppress(Conflict, NotFound):
            await self._ask(deployment_id, what, source="budget", reason=reason)

    async def _ask(
        self, deployment_id: str, what: str, *, source: str = "user", reason: str | None = None
    ) -> Deployment:
        async with self._sessions() as session, session.begin():
            await self.ask_in(session, deployment_id, what, source=source, reason=reason)
        self._wake()
        return await self.get(deployment_id)

    async def ask_in(
        self,
        session: AsyncSession,
        deployment_id: str,
        what: str,
        *,
        source: str,
        reason: str | None = None,
        note: tuple[EventType, dict[str, Any]] | None = None,
    ) -> bool:
        """Record a request inside the caller's transaction (the idle guard's, under its
        lease): the same intent, events and checks as a user's. `note` is an event of the
        caller's, appended only if the request changed anything. True if it did; the caller
        calls `wake` after its commit."""
        dep = await session.get(Deployment, deployment_id)
        if dep is None:
            raise NotFound(f"no deployment {deployment_id!r}")
        pod = await session.get(PodRow, dep.pod_id) if dep.pod_id else None
        values = _intent(dep, what, pod_gone=pod is not None and pod.gone_at is not None)
        if values and what in ("stop", "terminate"):
            values["state_reason"] = reason  # a user's own stop has none
        if not values:
            return False
        await session.execute(
            update(Deployment)
            .where(Deployment.id == dep.id)
            .values(version=Deployment.version + 1, updated_at=datetime.now(UTC), **values)
            .execution_options(synchronize_session=False)
        )
        if note is not None:
            await append_event(
                session, note[0], deployment_id=dep.id, pod_id=dep.pod_id, data=note[1]
            )
        await append_event(
            session,
            EventType.DEPLOYMENT_REQUESTED,
            deployment_id=dep.id,
            pod_id=dep.pod_id,
            data={
                "action": what,
                "source": source,
                "reason": reason,
                **{k: v for k, v in values.items() if k == "state"},
            },
        )
        if "state" in values:
            # The pod is as it was: its rate goes with the new state's event too.
            cost = await cost_in(session, dep, row_rate(dep.spec, pod))
            await append_state_event(
                session,
                dep.id,
                values["state"],
                dep.state,
                pod_id=dep.pod_id,
                reason=values.get("state_reason"),
                cost=cost.event_data(),
            )
        return True

    def wake(self) -> None:
        """Nudge the reconciler (after a commit that asked for something)."""
        self._wake()


def _watched_lists(sessions: async_sessionmaker[AsyncSession]) -> RenderedLists | None:
    """Rendered lists that every commit of `sessions` that wrote anything invalidates.

    A write is a flush of ORM changes or any statement but a SELECT run through the session
    (the server writes only through its sessions; see `db.engine.make_sessionmaker`). Commits
    that wrote nothing (a reconcile cycle with nothing to record) keep the lists. Only a
    session class of these sessions' own is watched (the server's sessionmaker makes one);
    listening on SQLAlchemy's `Session` itself would hear every database in the process, so
    without one there are no rendered lists (None): every list is rendered afresh.
    """
    session_class = sessions.kw.get("sync_session_class")
    if not isinstance(session_class, type) or session_class is Session:
        return None
    bind = sessions.kw.get("bind")
    dialect = getattr(bind, "dialect", None)
    shared = dialect is None or dialect.name != "sqlite"
    lists = RenderedLists(max_age_s=SHARED_DATABASE_LIST_MAX_AGE_S if shared else None)

    def _executed(state: ORMExecuteState) -> None:
        if not state.is_select:
            state.session.info[_WROTE] = True

    def _flushed(session: Session, _context: object) -> None:
        session.info[_WROTE] = True

    def _committed(session: Session) -> None:
        if session.info.pop(_WROTE, False):
            lists.invalidate()

    def _rolled_back(session: Session) -> None:
        session.info.pop(_WROTE, None)

    event.listen(session_class, "do_orm_execute", _executed)
    event.listen(session_class, "after_flush", _flushed)
    event.listen(session_class, "after_commit", _committed)
    event.listen(session_class, "after_rollback", _rolled_back)
    return lists


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _intent(dep: Deployment, what: str, *, pod_gone: bool) -> dict[str, Any]:
    """The changes a request makes; {} when it is already so; Conflict when it cannot be."""
    state = DeploymentState(dep.state)
    desired = Desired(dep.desired_state)
    if state is DeploymentState.TERMINATED:
        if what == "terminate":
            return {}
        raise Conflict(f"deployment {dep.id} is terminated; deploy a new one")
    if what == "terminate":
        if desired is Desired.TERMINATED:
            return {}
        return {
            "desired_state": Desired.TERMINATED.value,
            "state": DeploymentState.TERMINATING.value,
        }
    if desired is Desired.TERMINATED:
        raise Conflict(f"deployment {dep.id} is being terminated")
    if what == "stop":
        if desired is Desired.STOPPED:
            return {}
        return {
            "desired_state": Desired.STOPPED.value,
            "restart_requested": False,
            "state": DeploymentState.STOPPING.value,
        }
    if what == "start":
        if desired is Desired.RUNNING and state is not DeploymentState.FAILED:
            return {}
        values: dict[str, Any] = {"desired_state": Desired.RUNNING.value, "state_reason": None}
        if state is DeploymentState.FAILED and (dep.pod_id is None or pod_gone):
            # A refused create, or a pod that vanished: ask for a fresh pod.
            values.update(state=DeploymentState.PENDING.value, pod_id=None, setup_ready=False)
        else:
            values["state"] = DeploymentState.STARTING.value
        return values
    # restart
    if desired is not Desired.RUNNING or state not in (
        DeploymentState.INSTALLING,
        DeploymentState.READY,
        DeploymentState.FAILED,
    ):
        raise Conflict(f"only a running deployment can be restarted (it is {state.value})")
    if dep.pod_id is None:
        raise Conflict(f"deployment {dep.id} has no pod to restart")
    return {"restart_requested": True, "state": DeploymentState.RESTARTING.value}
