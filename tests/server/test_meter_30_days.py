"""Thirty simulated days of mixed pods and a network volume: the meter against RunPod billing.

Done-when of the cost issue: on the emulator's accelerated clock, running, stopped and
terminated pods plus a network volume; the meter matches the emulator's billing within 0.5%
per pod and in total.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from comfyhangar.server.db.models import CostSegment, Deployment, VolumeCostSegment
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.server.conftest import settle
from tests.server.test_meter import metered_runtime, step

DAY = 86_400.0
TOLERANCE = Decimal("0.005")


async def pod_of(runtime: Runtime, dep_id: str) -> str:
    async with runtime.sessions() as session:
        dep = await session.get(Deployment, dep_id)
    assert dep is not None
    assert dep.pod_id is not None
    return dep.pod_id


async def boot(runtime: Runtime) -> None:
    """Let pods get through PROVISIONING and STARTING (a few seconds of cloud time)."""
    await step(runtime, 4)
    await step(runtime, 10)


@pytest.mark.slow
async def test_thirty_days_of_mixed_pods_and_a_network_volume(tmp_path: Path) -> None:
    async with metered_runtime(tmp_path, volume_meter_interval_s=0.0) as runtime:
        emu = runtime.cloud.emulator
        emu.set_balance(100_000)  # at $0 RunPod stops or terminates pods: not this test's topic
        volume = emu.create_network_volume("models", 250, "EU-RO-1")
        emu.set_stock("NVIDIA GeForce RTX 4090", "EU-RO-1", 8)
        await settle(runtime)  # the meter sees the volume from the start
        start = runtime.cloud.now()

        always = await runtime.deployments.create(
            DeploymentCreate(
                name="always-on",
                gpu={"id": "NVIDIA GeForce RTX 4090", "count": 1},
                container_disk_gb=40,
                volume_gb=80,
            )
        )
        onoff = await runtime.deployments.create(
            DeploymentCreate(
                name="on-off",
                gpu={"id": "NVIDIA L40S", "count": 2},
                container_disk_gb=60,
                volume_gb=200,
            )
        )
        shared = await runtime.deployments.create(
            DeploymentCreate(
                name="on-the-volume",
                gpu={"id": "NVIDIA GeForce RTX 4090", "count": 1},
                data_center_ids=["EU-RO-1"],
                network_volume_id=volume.id,
                container_disk_gb=30,
            )
        )
        await settle(runtime)
        await boot(runtime)

        for day in range(30):
            if day == 3:
                await runtime.deployments.terminate(shared.id)
                await settle(runtime, cycles=3)
            if day == 5:
                await runtime.deployments.stop(onoff.id)
                await settle(runtime)
            if day == 15:
                await runtime.deployments.start(onoff.id)
                await settle(runtime)
                await boot(runtime)
            if day == 25:
                await runtime.deployments.terminate(onoff.id)
                await settle(runtime, cycles=3)
            await step(runtime, DAY)
        end = runtime.cloud.now()

        client = runtime.cloud.client
        window = {"start_time": start - timedelta(days=1), "end_time": end + timedelta(days=1)}
        metered_total = Decimal(0)
        billed_total = Decimal(0)
        for dep in (always, onoff, shared):
            pod_id = await pod_of(runtime, dep.id)
            report = await client.pod_billing(pod_id=pod_id, bucket_size="day", **window)
            billed = sum((r.total_amount for r in report.records), Decimal(0))
            async with runtime.sessions() as session:
                metered = Decimal(
                    await session.scalar(
                        select(func.sum(CostSegment.gpu_amount + CostSegment.disk_amount)).where(
                            CostSegment.pod_id == pod_id
                        )
                    )
                    or 0
                )
            assert billed > 0
            assert abs(metered - billed) / billed < TOLERANCE, (dep.name, metered, billed)
            metered_total += metered
            billed_total += billed

        volumes = await client.network_volume_billing(bucket_size="day", **window)
        billed_volume = sum((r.total_amount for r in volumes.records), Decimal(0))
        async with runtime.sessions() as session:
            metered_volume = Decimal(
                await session.scalar(select(func.sum(VolumeCostSegment.amount))) or 0
            )
        assert billed_volume > Decimal("10"), "250 GB for 30 days at $0.07/GB-month"
        assert abs(metered_volume - billed_volume) / billed_volume < TOLERANCE
        metered_total += metered_volume
        billed_total += billed_volume
        assert abs(metered_total - billed_total) / billed_total < TOLERANCE
        live = [p["env"]["HANGAR_DEPLOYMENT_ID"] for p in runtime.cloud.emulator.pods]
        assert live == [always.id], "only the always-on pod is left"
