"""What a running server holds: settings, the database, live events, the cloud and background work.

`Runtime.start` is the whole start-up sequence (migrate, connect the database, start the event
hub, connect RunPod or start the embedded emulator and hub stand-ins, start the reconciler and
log follower) and its exit is the shutdown, in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from comfyhangar.runpod import RunPodError
from comfyhangar.runpod.models import Cloud as CloudName
from comfyhangar.server.background.log_follower import LogFollower
from comfyhangar.server.background.meter import Meter
from comfyhangar.server.background.pod_actions import ActionSettings
from comfyhangar.server.background.reconciler import Reconciler, ReconcilerSettings
from comfyhangar.server.background.volume_meter import VolumeMeter
from comfyhangar.server.cloud import Cloud, connect_cloud
from comfyhangar.server.db import make_engine, make_sessionmaker, migrate
from comfyhangar.server.services.billing_check import BillingCheck, balance_reader_for
from comfyhangar.server.services.budgets import BudgetService
from comfyhangar.server.services.catalog import Catalog
from comfyhangar.server.services.costs import CostService, shape_from_spec
from comfyhangar.server.services.deployments import DeploymentService
from comfyhangar.server.services.event_hub import EventHub
from comfyhangar.server.services.manifests import (
    ModelHosts,
    agent_args,
    manifest_policy,
    model_hosts,
)
from comfyhangar.server.services.preflight import Preflight
from comfyhangar.server.settings import Settings

RUNPOD_CHECK_TTL_S = 15.0


def preflight_for(settings: Settings, hosts: ModelHosts) -> Preflight | None:
    """The model checks against these endpoints, or None when switched off."""
    if not settings.preflight:
        return None
    return Preflight.for_hosts(hosts)


# The health check answers within this even when RunPod hangs or the client is retrying.
RUNPOD_CHECK_TIMEOUT_S = 3.0


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
    _runpod_check: tuple[float, bool, str | None] = field(default=(0.0, False, None))
    billing_check: BillingCheck | None = None

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
        await migrate(url)
        engine = make_engine(url)
        hub_ref: list[EventHub] = []
        sessions = make_sessionmaker(
            engine, on_events_committed=lambda: hub_ref[0].notify_committed()
        )
        hub = EventHub(sessions, database_url=url)
        hub_ref.append(hub)
        try:
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
                service = DeploymentService(
                    sessions,
                    cloud.client,
                    catalog,
                    reconciler.wake,
                    policy=manifest_policy(settings),
                    preflight=preflight_for(settings, hosts),
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
                    billing_check=check,
                )
                if background:
                    reconciler.start()
                    follower.start()
                    check.start()
                try:
                    yield runtime
                finally:
                    await check.stop()
                    await follower.stop()
                    await reconciler.stop()
        finally:
            await hub.stop()
            await engine.dispose()

    async def check_database(self) -> tuple[bool, str | None]:
        """(ok, detail): can the database answer a trivial query?"""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    async def check_runpod(self) -> tuple[bool, str | None]:
        """(ok, detail): does RunPod (or the emulator) answer with our key? Cached briefly."""
        checked_at, ok, detail = self._runpod_check
        if time.monotonic() - checked_at < RUNPOD_CHECK_TTL_S:
            return ok, detail
        try:
            async with asyncio.timeout(RUNPOD_CHECK_TIMEOUT_S):
                await self.cloud.client.list_data_centers()
            ok, detail = True, None
        except RunPodError as exc:
            ok, detail = False, str(exc)
        except TimeoutError:
            ok, detail = False, f"RunPod did not answer within {RUNPOD_CHECK_TIMEOUT_S:g} s"
        self._runpod_check = (time.monotonic(), ok, detail)
        return ok, detail
