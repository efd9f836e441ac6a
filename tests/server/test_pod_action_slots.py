"""Pod actions run a few at a time: the others wait with no lease held, those that end billing
first, and one whose deployment changed while it waited (a terminate asked meanwhile) is
dropped, so a create nobody wants any more is never sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from comfyhangar.server.background.pod_actions import ActionSettings, ActionSlots, PodActions
from comfyhangar.server.schemas.deployments import DeploymentCreate
from tests.server.conftest import FLUX_DEPLOY, deployment, frozen_runtime, settle


async def test_waiting_actions_get_a_slot_by_priority_then_in_order() -> None:
    slots = ActionSlots(1)
    await slots.acquire(2)  # held
    order: list[str] = []

    async def wait(name: str, priority: int) -> None:
        await slots.acquire(priority)
        order.append(name)
        slots.release()

    waiters = [
        asyncio.create_task(wait(name, priority))
        for name, priority in (("create-1", 2), ("terminate", 0), ("stop", 1), ("create-2", 2))
    ]
    cancelled = asyncio.create_task(wait("cancelled", 0))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*waiters)
    assert order == ["terminate", "stop", "create-1", "create-2"]
    await slots.acquire(2)  # every slot came back
    slots.release()


async def test_a_create_that_waited_past_a_terminate_is_never_sent(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        reconciler = runtime.reconciler
        reconciler.actions = PodActions(
            runtime.sessions,
            runtime.cloud.client,
            runtime.catalog,
            ActionSettings(lease_s=5, create_settle_s=0, max_concurrent=1),
        )
        emu = runtime.cloud.emulator
        emu.faults.hold_creates = asyncio.Event()  # the first create holds the only slot
        first = await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        second = await runtime.deployments.create(
            DeploymentCreate(**{**FLUX_DEPLOY, "name": "second"})
        )
        report = await reconciler.cycle()
        assert sorted(report.actions) == sorted([(first.id, "create"), (second.id, "create")])
        ids = [first.id, second.id]
        # One create took the only slot (its lease marks the intent) and is held at RunPod;
        # the other waits for the slot: terminate that one.
        async with asyncio.timeout(10):
            while True:
                intents = {d: (await deployment(runtime, d)).create_intent_at for d in ids}
                holders = [d for d, at in intents.items() if at is not None]
                if holders:
                    break
                await asyncio.sleep(0.02)
        (holder,) = holders
        (waiter,) = set(ids) - {holder}
        await runtime.deployments.terminate(waiter)
        emu.faults.hold_creates.set()
        await reconciler.actions.wait_idle()
        assert len(emu.all_pods) == 1, "a create was sent for a deployment terminated before it"
        await settle(runtime)
        assert (await deployment(runtime, waiter)).state == "terminated"
        assert (await deployment(runtime, holder)).pod_id is not None
