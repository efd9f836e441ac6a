"""One rate per state, shown alike everywhere, and a cost so far that never goes down.

A deployment is taken through ready, stopping, stopped, a start, and terminated. In each state
the places that show its rate agree with what RunPod's billing rules say it costs then: the
list (the dashboard's card), the detail (the detail page), the summary's burn rate (the
dashboard's figure), `comfyhangar ls` (the CLI shows what the API gives), and the
`deployment_state` event that changed the state (what the card and detail page are patched
from). Its cost so far, read at every step, never decreases.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import select, update

from comfyhangar.core.pricing import HOURS_PER_MONTH
from comfyhangar.server.app import create_app
from comfyhangar.server.db.models import Deployment, Event
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.cli.conftest import Cli
from tests.server.conftest import FLUX_DEPLOY, frozen_runtime, settle
from tests.support.auth import auth_headers
from tests.support.servers import running_server

HOUR = 3600.0
CENT = Decimal("0.000001")


@contextlib.asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The API of `runtime` (whose cycles the test runs by hand) on a real port."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    async with (
        running_server(app, lifespan="off") as base,
        httpx.AsyncClient(base_url=base, timeout=10, headers=auth_headers()) as http,
    ):
        yield http


class Places:
    """Reads the deployment's rate and cost so far wherever they are shown."""

    def __init__(self, runtime: Runtime, http: httpx.AsyncClient, dep_id: str) -> None:
        self.runtime = runtime
        self.http = http
        self.cli = Cli(str(http.base_url))
        self.dep_id = dep_id
        self.so_far: list[Decimal] = []

    async def rates(self, state: str) -> dict[str, Decimal]:
        listed = (await self.http.get("/api/v1/deployments")).json()["deployments"]
        (card,) = [d for d in listed if d["id"] == self.dep_id]
        detail = (await self.http.get(f"/api/v1/deployments/{self.dep_id}")).json()
        summary = (await self.http.get("/api/v1/costs/summary")).json()
        assert card["state"] == detail["state"] == state
        async with self.runtime.sessions() as session:
            event = await session.scalar(
                select(Event)
                .where(Event.deployment_id == self.dep_id, Event.type == "deployment_state")
                .order_by(Event.id.desc())
                .limit(1)
            )
        assert event is not None
        assert event.data["state"] == state
        self.so_far += [Decimal(card["cost"]["so_far_usd"]), Decimal(detail["cost"]["so_far_usd"])]
        return {
            "card": Decimal(card["cost"]["per_hour_usd"]),
            "detail": Decimal(detail["cost"]["per_hour_usd"]),
            "burn rate": Decimal(summary["burn_rate_per_hour_usd"]),
            "event": Decimal(event.data["cost"]["per_hour_usd"]),
        }

    async def cli_rate(self) -> str:
        result = await self.cli("ls", "--all")
        assert result.exit_code == 0, result.both
        (row,) = [line for line in result.stdout.splitlines() if "flux-dev" in line]
        rate = re.search(r"\$\d+\.\d+/h", row)
        assert rate is not None, row
        return rate.group()

    async def agree_on(self, state: str, expected: Decimal) -> None:
        rates = await self.rates(state)
        want = expected.quantize(CENT)
        assert rates == dict.fromkeys(rates, want), f"{state}: {rates}, expected {want}"
        assert await self.cli_rate() == f"${want:.3f}/h", state


async def advance(runtime: Runtime, seconds: float, *, cycles: int = 2) -> None:
    assert runtime.cloud.emulator is not None
    runtime.cloud.emulator.clock.advance(seconds)
    await settle(runtime, cycles)


async def agent_reports_ready(runtime: Runtime, dep_id: str) -> None:
    """What the log follower records when the agent says `ready` (no follower runs here)."""
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(Deployment).where(Deployment.id == dep_id).values(setup_ready=True)
        )
    await settle(runtime)


async def test_every_place_shows_the_rate_of_the_state_and_cost_so_far_never_goes_down(
    tmp_path: Path,
) -> None:
    async with frozen_runtime(tmp_path) as runtime, served(runtime) as http:
        spec = DeploymentCreate(**FLUX_DEPLOY)
        gpu = (await runtime.catalog.gpu(spec.gpu.id)).price.secure  # type: ignore[union-attr]
        assert gpu is not None
        running = gpu + Decimal("0.10") * (spec.container_disk_gb + 60) / HOURS_PER_MONTH
        stopped = Decimal("0.20") * 60 / HOURS_PER_MONTH  # the volume only; the container is wiped
        dep = await runtime.deployments.create(spec)
        places = Places(runtime, http, dep.id)
        await settle(runtime)
        await advance(runtime, 15)  # the pod runs; the agent installs
        await agent_reports_ready(runtime, dep.id)
        await places.agree_on("ready", running)

        await advance(runtime, HOUR)
        await places.rates("ready")
        await runtime.deployments.stop(dep.id)
        await places.agree_on("stopping", running)  # the pod still runs, and bills so
        await settle(runtime)
        await places.agree_on("stopped", stopped)
        # An hour passes unobserved, then is billed at the stopped rate: never more first.
        runtime.cloud.emulator.clock.advance(HOUR)  # type: ignore[union-attr]
        await places.rates("stopped")
        await settle(runtime)
        await places.rates("stopped")

        await runtime.deployments.start(dep.id)
        await settle(runtime)
        await advance(runtime, 15)
        await agent_reports_ready(runtime, dep.id)
        await places.agree_on("ready", running)
        await advance(runtime, HOUR)
        await places.rates("ready")

        await runtime.deployments.terminate(dep.id)
        await settle(runtime, 3)
        await places.agree_on("terminated", Decimal(0))

        assert places.so_far == sorted(places.so_far), places.so_far
        assert places.so_far[-1] > running  # two hours of running and one stopped, billed
