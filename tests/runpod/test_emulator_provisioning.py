"""Tagged creates against the emulator: capacity fallback, and no duplicate under lost replies."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.runpod import RunPodClient
from comfyhangar.runpod.models import Cloud, CreatePodRequest
from comfyhangar.runpod.provisioning import (
    DEPLOYMENT_ENV,
    Candidate,
    ProvisioningPolicy,
    build_candidates,
    create_tagged_pod,
)
from tests.runpod.conftest import FROZEN, KEY
from tests.runpod.helpers import fast_policy
from tests.support.runpod_emulator import EmulatorHandle, emulator_server

RTX_4090 = "NVIDIA GeForce RTX 4090"
L40S = "NVIDIA L40S"
REQUEST = CreatePodRequest(
    name="x", image="runpod/comfyui:latest", gpu={"id": RTX_4090}, ports=["8188/http"], disk=20
)


def _policy() -> ProvisioningPolicy:
    return ProvisioningPolicy(settle_delay=0.0, backoff=fast_policy())


async def test_capacity_fallback_to_other_dc_then_other_gpu(
    handle: EmulatorHandle, runpod: RunPodClient
) -> None:
    emu = handle.emu
    emu.set_stock(RTX_4090, "US-KS-2", 0)
    emu.set_stock(RTX_4090, "EU-RO-1", 1)
    emu.set_stock(L40S, "US-KS-2", 0)
    emu.set_stock(L40S, "EU-RO-1", 0)
    emu.set_stock(L40S, "EU-SE-1", 2)
    catalog = await runpod.list_gpu_types(include_availability=True)
    candidates = build_candidates(
        catalog,
        [RTX_4090, L40S],
        data_center_ids=["US-KS-2", "EU-RO-1", "EU-SE-1"],
        cloud=Cloud.SECURE,
    )
    assert candidates[0] == Candidate(RTX_4090, ("EU-RO-1",), Cloud.SECURE)  # stock 0 skipped

    first = await create_tagged_pod(
        runpod,
        deployment_id="dep-one",
        label="main",
        request=REQUEST,
        candidates=[Candidate(RTX_4090, ("US-KS-2",)), *candidates],
        policy=_policy(),
    )
    assert first.pod.data_center_id == "EU-RO-1"
    assert [a.result for a in first.attempts] == ["no_capacity", "created"]

    # The one 4090 in EU-RO-1 is now taken: the next deployment falls back to the L40S.
    second = await create_tagged_pod(
        runpod,
        deployment_id="dep-two",
        label="main",
        request=REQUEST,
        candidates=candidates,
        policy=_policy(),
    )
    assert second.candidate.gpu_type_id == L40S
    assert second.pod.gpu_type_id == L40S
    assert second.pod.data_center_id == "EU-SE-1"
    assert [a.result for a in second.attempts] == ["no_capacity", "created"]
    assert second.attempts[0].candidate.gpu_type_id == RTX_4090
    assert "no longer any instances" in second.attempts[0].detail


async def test_a_gpu_pool_the_account_cannot_use_is_skipped(
    handle: EmulatorHandle, runpod: RunPodClient
) -> None:
    """403 on one candidate moves on to the next, as the spec's createPod table says."""
    handle.emu.forbidden_gpus.add(RTX_4090)
    handle.emu.set_stock(L40S, "EU-SE-1", 1)
    outcome = await create_tagged_pod(
        runpod,
        deployment_id="dep-forbidden",
        label="main",
        request=REQUEST,
        candidates=[Candidate(RTX_4090, ("EU-RO-1",)), Candidate(L40S, ("EU-SE-1",))],
        policy=_policy(),
    )
    assert outcome.pod.gpu_type_id == L40S
    assert [a.result for a in outcome.attempts][-1] == "created"
    assert outcome.attempts[0].status == 403
    assert [p["gpu"]["id"] for p in handle.emu.pods] == [L40S]


@pytest.mark.slow
async def test_no_duplicates_when_half_the_create_answers_are_lost() -> None:
    deployments = [str(uuid.UUID(int=n + 1)) for n in range(200)]
    config = EmulatorConfig(api_key=KEY, seed=99, speed=FROZEN, balance=100_000)
    async with emulator_server(config) as handle:
        emu = handle.emu
        emu.set_stock(RTX_4090, "US-KS-2", 400)
        emu.faults.lose_create_responses = 0.5
        emu.faults.stall_s = 0.2
        # Fresh deployment ids: skip the look-before-create list; every list in this test is
        # then a reconciliation after a lost answer.
        policy = ProvisioningPolicy(
            settle_delay=0.0,
            unknown_outcome_retries=10,
            check_existing=False,
            backoff=fast_policy(),
        )
        limit = asyncio.Semaphore(20)
        async with RunPodClient(
            handle.api_key, handle.base_url, retry=fast_policy(max_attempts=8), timeout=10.0
        ) as runpod:

            async def deploy(deployment_id: str) -> bool:
                async with limit:
                    outcome = await create_tagged_pod(
                        runpod,
                        deployment_id=deployment_id,
                        label="comfyui",
                        request=REQUEST,
                        candidates=[Candidate(RTX_4090, ("US-KS-2",))],
                        policy=policy,
                    )
                    return outcome.adopted

            adopted = await asyncio.gather(*(deploy(d) for d in deployments))
            emu.faults.lose_create_responses = 0.0
            pods = await runpod.list_pods()
    per_deployment = Counter(p.env.get(DEPLOYMENT_ENV) for p in pods)
    assert len(pods) == 200
    assert per_deployment == Counter(deployments)
    assert set(per_deployment.values()) == {1}
    assert len(emu.all_pods) == 200  # not even a terminated duplicate
    assert 60 <= sum(adopted) <= 140  # about half were adopted after a lost answer
