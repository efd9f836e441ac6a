"""The meter against the emulator's `/v2/billing/*`, per pod (and network volume) per hour."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update

from comfyhangar.server.db.models import CostSegment, Event
from comfyhangar.server.schemas.deployments import DeploymentCreate
from comfyhangar.server.services.billing_check import BillingCheck, is_mismatch
from tests.costs.conftest import api
from tests.server.conftest import FLUX_DEPLOY, settle
from tests.server.test_meter import HOUR, metered_runtime, step


def test_mismatch_rule_needs_one_percent_and_one_cent() -> None:
    assert not is_mismatch(Decimal("1.009"), Decimal("1.000"))  # 0.9%
    assert is_mismatch(Decimal("1.02"), Decimal("1.00"))  # 2%, 2 cents
    assert not is_mismatch(Decimal("0.0150"), Decimal("0.0100"))  # 50% but half a cent
    assert is_mismatch(Decimal("0.02"), Decimal(0))  # billed nothing, metered 2 cents
    assert not is_mismatch(Decimal(0), Decimal("0.004"))


async def test_meter_matches_billing_then_a_perturbed_segment_raises_one_event(
    tmp_path: Path,
) -> None:
    async with metered_runtime(tmp_path, volume_meter_interval_s=0.0) as runtime:
        emu = runtime.cloud.emulator
        emu.create_network_volume("models", 2000, "EU-RO-1")
        dep = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        await settle(runtime)
        await step(runtime, 4)  # STARTING
        await step(runtime, 10)  # RUNNING
        for _ in range(3):
            await step(runtime, HOUR)
        await runtime.deployments.stop(dep.id)
        await settle(runtime)
        await step(runtime, HOUR)  # stopped: the volume disk still bills
        await step(runtime, 20 * 60)  # past the settle delay of the last whole hour

        async with api(runtime) as http:
            response = await http.get("/api/v1/costs/reconciliation", params={"refresh": "true"})
            assert response.status_code == 200, response.text
            body = response.json()
        rows = body["rows"]
        settled = [r for r in rows if r["status"] != "pending"]
        pods = {r["pod_id"] for r in rows if r["kind"] == "pod"}
        assert len(pods) == 1, rows
        assert settled, rows
        assert {r["kind"] for r in settled} == {"pod", "network_volume"}
        assert body["mismatches"] == 0, [r for r in rows if r["status"] == "mismatch"]
        assert rows[-1]["status"] == "pending"  # the hour in progress
        for row in settled:
            billed, metered = Decimal(row["billed_usd"]), Decimal(row["metered_usd"])
            assert abs(metered - billed) <= max(billed * Decimal("0.01"), Decimal("0.000002")), row
        totals = body["totals"]
        assert Decimal(totals["billed_usd"]) > Decimal("1.5"), "about 3 RTX 4090 hours"
        assert abs(Decimal(totals["difference_pct"])) < 1

        # Make the meter over-count one settled, fully running hour by 10%.
        check = runtime.billing_check
        assert isinstance(check, BillingCheck)
        target = max(
            (r for r in settled if r["kind"] == "pod"), key=lambda r: Decimal(r["billed_usd"])
        )
        pod_id = target["pod_id"]
        async with runtime.sessions() as session, session.begin():
            ids = list(
                await session.scalars(
                    select(CostSegment.id).where(
                        CostSegment.pod_id == pod_id,
                        CostSegment.start_at < datetime.fromisoformat(target["bucket_end"]),
                        CostSegment.end_at > datetime.fromisoformat(target["bucket_start"]),
                    )
                )
            )
            await session.execute(
                update(CostSegment)
                .where(CostSegment.id.in_(ids))
                .values(gpu_amount=CostSegment.gpu_amount * Decimal("1.1"))
            )
        report = await check.run(start=runtime.cloud.now() - timedelta(hours=8))
        mismatched = {(r.resource_id, r.start) for r in report.rows if r.status == "mismatch"}
        assert mismatched
        assert all(p == pod_id for p, _ in mismatched)
        await check.run(start=runtime.cloud.now() - timedelta(hours=8))  # again: no repeat
        async with runtime.sessions() as session:
            events = list(
                await session.scalars(select(Event).where(Event.type == "billing_mismatch"))
            )
        assert len(events) == len(mismatched)
        assert {(e.pod_id, e.data["bucket_start"]) for e in events} == {
            (p, s.isoformat()) for p, s in mismatched
        }
        event = events[0]
        assert event.deployment_id == dep.id
        assert Decimal(event.data["metered_usd"]) > Decimal(event.data["billed_usd"])


async def test_reconciliation_window_is_checked(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path) as runtime, api(runtime) as http:
        now = runtime.cloud.now()
        naive = (now - timedelta(hours=3)).replace(tzinfo=None).isoformat()
        ok = await http.get("/api/v1/costs/reconciliation", params={"start": naive})
        assert ok.status_code == 200, ok.text
        assert ok.json()["rows"] == []
        backwards = await http.get(
            "/api/v1/costs/reconciliation",
            params={"start": now.isoformat(), "end": (now - timedelta(hours=2)).isoformat()},
        )
        assert backwards.status_code == 422
