"""What a running server holds: settings, the database, live events, the cloud and background work.

`Runtime.start` is the whole start-up sequence (migrate, connect the database, start the event
hub, connect RunPod or start the embedded emulator and hub stand-ins, start the reconciler and
log follower) and its exit is the shutdown, in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from comfyhangar.runpod import RunPodError
from comfyhangar.runpod.models import Cloud as CloudName
from comfyhangar.server.background.dispatcher import Dispatcher
from comfyhangar.server.background.idle_guard import IdleGuard
from comfyhangar.server.background.log_follower import LogFollower
from comfyhangar.server.background.meter import Meter
from comfyhangar.server.background.pod_actions import ActionSettings
from comfyhangar.server.background.reconciler import Reconciler, ReconcilerSettings
from comfyhangar.server.background.run_follower import DispatchSettings
from comfyhangar.server.background.volume_meter import VolumeMeter
from comfyhangar.server.cloud import Cloud, connect_cloud
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.db.engine import sqlite_path
from comfyhangar.server.services.accounts import AccountService
from comfyhangar.server.services.api_tokens import TokenService
from comfyhangar.server.services.billing_check import BillingCheck, balance_reader_for
from comfyhangar.server.services.budgets import BudgetService
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.comfyui_access import ComfyUIAccess
from comfyhangar.server.services.comfyui_clients import ComfyUIClients
from comfyhangar.server.services.comfyui_servers import ServerService
from comfyhangar.server.services.costs import CostService, shape_from_spec
from comfyhangar.server.services.deployments import DeploymentService
from comfyhangar.server.services.event_hub import EventHub
from comfyhangar.server.services.idle import IdleService, default_policy
from comfyhangar.server.services.manifests import (
    ModelHosts,
    agent_args,
    manifest_policy,
    model_hosts,
)
from comfyhangar.server.services.output_store import store_for
from comfyhangar.server.services.outputs import OutputService
from comfyhangar.server.services.owner_files import owner_only_dir, owner_only_sqlite
from comfyhangar.server.services.preflight import Preflight
from comfyhangar.server.services.runs import RunService
from comfyhangar.server.services.secrets import SecretBox, seal_stored_secrets
from comfyhangar.server.services.workflows import WorkflowService
from comfyhangar.server.settings import Settings

RUNPOD_CHECK_TTL_S = 15.0
# The database check of /health: answered from a cache this fresh, within this timeout.
DATABASE_CHECK_TTL_S = 1.0
DATABASE_CHECK_TIMEOUT_S = 2.0


def preflight_for(settings: Settings, hosts: ModelHosts) -> Preflight | None:
    """The model checks against these endpoints, or None when switched off."""
    if not settings.preflight:
        return None
    return Preflight.for_hosts(hosts)


# The health check answers within this even when RunPod hangs or the client is retrying.
RUNPOD_CHECK_TIMEOUT_S = 3.0


Probe = Callable[[], Awaitable[tuple[bool, str | None]]]


class CachedCheck:
    """A health probe answered from its last result for `ttl_s` seconds; a crowd of callers
    after that waits for one probe rather than each running its own."""

    def __init__(self, probe: Probe, ttl_s: float) -> None:
        self._probe = probe
        self._ttl_s = ttl_s
        self._last: tuple[float, bool, str | None] | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> tuple[bool, str | None] | None:
        last = self._last
        if last is not None and time.monotonic() - last[0] < self._ttl_s:
            return last[1], last[2]
        return None

    async def __call__(self) -> tuple[bool, str | None]:
        """(ok, detail)."""
        if (fresh := self._fresh()) is not None:
            return fresh
        async with self._lock:
            if (fresh := self._fresh()) is not None:
                return fresh
            ok, detail = await self._probe()
            self._last = (time.monotonic(), ok, detail)
        return ok, detail


@dataclass
class Runtime:
    """The live resources of one server process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    events: EventHub
    cloud: Cloud
    catalog: Catalog
    reconciler: Reconciler
    deployments: DeploymentService
    costs: CostService
    budgets: BudgetService
    model_hosts: ModelHosts
    comfyui: ComfyUIAccess
    idle: IdleService
    idle_guard: IdleGuard
    accounts: AccountService
    workflows: WorkflowService
    servers: ServerService
    runs: RunService
    outputs: OutputService
    dispatcher: Dispatcher
    billing_check: BillingCheck | None = None
    # The first start's one-time login link (the secret after `/login#link=`), for `serve`.
    first_login_link: str | None = None
    # /health's own database connection.
    probe_engine: AsyncEngine | None = None

    def __post_init__(self) -> None:
        # `await check_database()`, `await check_runpod()`: (ok, detail) for /health.
        self.check_database = CachedCheck(self._probe_database, DATABASE_CHECK_TTL_S)
        self.check_runpod = CachedCheck(self._probe_runpod, RUNPOD_CHECK_TTL_S)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        settings: Settings,
        *,
        background: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> AsyncIterator[Runtime]:
        """Bring everything up; tear it all down on exit.

        `background=False` runs no loops (tests drive cycles by hand); `clock` replaces the
        cloud's clock for the cost meter (tests against an external emulator pass its clock).
        """
        url = settings.effective_database_url
        owner_only_dir(settings.data_dir)
        if (db_file := sqlite_path(url)) is not None:
            owner_only_sqlite(db_file)
        await migrate(url)
        engine = make_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_s,
        )
        probe_engine = make_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=DATABASE_CHECK_TIMEOUT_S
        )
        hub_ref: list[EventHub] = []
        sessions = make_sessionmaker(
            engine, on_events_committed=lambda: hub_ref[0].notify_committed()
        )
        hub = EventHub(sessions, database_url=url, poll_interval=settings.event_poll_s)
        hub_ref.append(hub)
        accounts = AccountService(sessions, settings, TokenService(sessions))
        box = SecretBox.from_settings(settings)
        try:
            first_login_link = await accounts.bootstrap()
            await seal_stored_secrets(sessions, box)
            await hub.start()
            async with connect_cloud(settings) as cloud:
                hosts = model_hosts(settings, cloud.hub_endpoints)
                catalog = Catalog(cloud.client)
                reconciler = Reconciler(
                    sessions,
                    cloud.client,
                    catalog,
                    ReconcilerSettings(
                        interval_s=settings.reconcile_interval_s,
                        actions=ActionSettings(
                            lease_s=settings.lease_s,
                            create_settle_s=settings.create_settle_s,
                            agent_args=agent_args(settings, hosts),
                            secret_box=box,
                        ),
                    ),
                )
                meter = Meter(sessions, catalog, clock or cloud.now)
                volume_meter = VolumeMeter(
                    sessions,
                    cloud.client,
                    clock or cloud.now,
                    interval_s=settings.volume_meter_interval_s,
                )
                reconciler.observers.extend([meter.observe, volume_meter.observe])
                idle_default = default_policy(settings)
                service = DeploymentService(
                    sessions,
                    cloud.client,
                    catalog,
                    reconciler.wake,
                    policy=manifest_policy(settings),
                    preflight=preflight_for(settings, hosts),
                    secret_box=box,
                    idle_default=idle_default,
                )
                idle = IdleService(sessions, idle_default, clock or cloud.now)

                comfyui = ComfyUIAccess(service.pod_token, cloud.simulated_pods_url, secret_box=box)
                # Activity sources beyond the defaults (runs of ours) go in `sources`.
                idle_guard = IdleGuard(
                    sessions,
                    service,
                    comfyui.comfyui_endpoint,
                    idle_default,
                    clock or cloud.now,
                    interval_s=settings.idle_check_interval_s,
                    lease_s=settings.lease_s,
                )
                follower = LogFollower(
                    sessions, cloud.client, interval_s=settings.reconcile_interval_s
                )
                costs = CostService(sessions)
                budgets = BudgetService(sessions, costs, clock or cloud.now, service.request)
                reconciler.observers.append(budgets.enforce)

                async def admission(spec: dict[str, Any], deployment_id: str | None) -> None:
                    price = await catalog.price(spec["gpu"]["id"], CloudName(spec["cloud"]))
                    per_hour = shape_from_spec(spec, price).rate("RUNNING").total
                    await budgets.check_can_run(per_hour, deployment_id)

                service.admission = admission
                check = BillingCheck(
                    sessions,
                    cloud.client,
                    clock or cloud.now,
                    interval_s=settings.billing_check_interval_s,
                    balance=balance_reader_for(settings, cloud),
                )
                clients = ComfyUIClients()
                store = store_for(settings)
                dispatcher = Dispatcher(
                    sessions, clients, store, comfyui, DispatchSettings(lease_s=settings.lease_s)
                )
                workflows = WorkflowService(sessions)
                servers = ServerService(sessions, comfyui, secret_box=box)
                runs = RunService(sessions, workflows, servers, clients, dispatcher.wake)
                runtime = cls(
                    settings,
                    engine,
                    sessions,
                    hub,
                    cloud,
                    catalog,
                    reconciler,
                    service,
                    costs,
                    budgets,
                    hosts,
                    comfyui,
                    idle,
                    idle_guard,
                    accounts,
                    workflows=workflows,
                    servers=servers,
                    runs=runs,
                    outputs=OutputService(sessions, store),
                    dispatcher=dispatcher,
                    billing_check=check,
                    first_login_link=first_login_link,
                    probe_engine=probe_engine,
                )
                if background:
                    reconciler.start()
                    follower.start()
                    check.start()
                    idle_guard.start()
                    dispatcher.start()
                try:
                    yield runtime
                finally:
                    await dispatcher.stop()
                    await clients.aclose()
                    await idle_guard.stop()
                    await check.stop()
                    await follower.stop()
                    await reconciler.stop()
        finally:
            await hub.stop()
            await probe_engine.dispose()
            await engine.dispose()

    async def _probe_database(self) -> tuple[bool, str | None]:
        """(ok, detail): can the database answer a trivial query? On a connection of its
        own, so a busy request pool does not hold it up."""
        try:
            async with (
                asyncio.timeout(DATABASE_CHECK_TIMEOUT_S),
                (self.probe_engine or self.engine).connect() as conn,
            ):
                await conn.execute(text("SELECT 1"))
        except TimeoutError:
            return False, f"the database did not answer within {DATABASE_CHECK_TIMEOUT_S:g} s"
        except (SQLAlchemyError, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    async def _probe_runpod(self) -> tuple[bool, str | None]:
        """(ok, detail): does RunPod (or the emulator) answer with our key?"""
        try:
            async with asyncio.timeout(RUNPOD_CHECK_TIMEOUT_S):
                await self.cloud.client.list_data_centers()
            ok, detail = True, None
        except RunPodError as exc:
            ok, detail = False, str(exc)
        except TimeoutError:
            ok, detail = False, f"RunPod did not answer within {RUNPOD_CHECK_TIMEOUT_S:g} s"
        return ok, detail
