"""A pod RunPod does not show yet is not a pod that disappeared.

Right after a create, RunPod can leave the new pod out of `GET /v2/pods` and answer 404 for it
for a moment (control-plane propagation). The deployment must go on to `ready` without a
`failed` state or a `pod_terminated` event on the way, and with one pod.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, read_events, running_hangar


@pytest.fixture
async def slow_listing_hangar(tmp_path: Path) -> AsyncIterator[Hangar]:
    async with running_hangar(fast_settings(tmp_path, create_settle_s=3.0)) as hangar:
        yield hangar


async def test_a_new_pod_missing_from_runpod_for_a_moment_is_not_failed(
    slow_listing_hangar: Hangar,
) -> None:
    hangar = slow_listing_hangar
    hangar.emulator.faults.propagation_s = 20.0  # simulated: 1 s of real time at speed 20
    dep = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    await hangar.wait_for(dep["id"], "ready", timeout=40)
    events = await read_events(hangar.base_url, hangar.runtime.events.last_id)
    states = [e["data"]["state"] for e in events if e["type"] == "deployment_state"]
    assert "failed" not in states, states
    assert "pod_terminated" not in {e["type"] for e in events}
    assert len(hangar.emulator.all_pods) == 1
