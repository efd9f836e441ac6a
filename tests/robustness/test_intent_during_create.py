"""A stop asked while the pod is being created is not overwritten when the create returns.

Before: creating -> stopping (asked) -> provisioning (the create's result) -> stopping -> stopped,
so for a moment the API and the event stream showed a deployment the user had stopped as
provisioning again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, read_events, running_hangar


@pytest.fixture
async def hangar(tmp_path: Path) -> AsyncIterator[Hangar]:
    async with running_hangar(fast_settings(tmp_path)) as hangar:
        yield hangar


@pytest.mark.parametrize("what", ["stop", "terminate"])
async def test_intent_asked_during_the_create_keeps_its_state(hangar: Hangar, what: str) -> None:
    hangar.emulator.faults.latency_s = 0.5  # the create answers half a second after it acts
    dep_id = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    async with asyncio.timeout(10):
        while not hangar.emulator.all_pods:  # made on RunPod; its answer is on the way
            await asyncio.sleep(0.01)
    if what == "stop":
        response = await hangar.http.post(f"/api/v1/deployments/{dep_id}/stop")
    else:
        response = await hangar.http.delete(f"/api/v1/deployments/{dep_id}")
    assert response.status_code == 202
    final = "stopped" if what == "stop" else "terminated"
    await hangar.wait_for(dep_id, final, timeout=40)

    events = await read_events(hangar.base_url, hangar.runtime.events.last_id)
    states = [e["data"]["state"] for e in events if e["type"] == "deployment_state"]
    asked = states.index("stopping" if what == "stop" else "terminating")
    assert "provisioning" not in states[asked:], states
    assert states[-1] == final
    assert "pod_created" in {e["type"] for e in events}
    assert len(hangar.emulator.all_pods) == 1
