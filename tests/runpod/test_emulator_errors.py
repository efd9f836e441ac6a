"""Each error class, produced by the emulator; retries and log resume over real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from comfyhangar.emulators.runpod import EmulatorConfig
from comfyhangar.runpod import (
    BadRequestError,
    CapacityError,
    ConflictError,
    ForbiddenError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RunPodClient,
    RunPodUnavailableError,
    ServerError,
    UnauthorizedError,
)
from comfyhangar.runpod.models import CreatePodRequest, LogEvent
from tests.runpod.helpers import Sleeps, fast_policy
from tests.runpod.proxy import cuttable_proxy
from tests.runpod.test_emulator_endpoints import RTX_4090, comfy_request
from tests.support.runpod_emulator import EmulatorHandle, emulator_server
from tests.support.servers import free_port


async def test_401_with_a_wrong_key(handle: EmulatorHandle) -> None:
    async with RunPodClient("wrong-key", handle.base_url, retry=fast_policy()) as runpod:
        with pytest.raises(UnauthorizedError) as info:
            await runpod.list_pods()
    assert "wrong-key" not in str(info.value)


async def test_400_402_404_409_422(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    with pytest.raises(BadRequestError) as bad:
        await runpod.create_pod(comfy_request(ports=["8188/udp"]))
    assert not isinstance(bad.value, CapacityError)
    handle.emu.clear_stock()
    with pytest.raises(CapacityError):
        await runpod.create_pod(comfy_request())
    handle.emu.set_stock(RTX_4090, "EU-RO-1", 4)
    handle.emu.set_balance(0)
    with pytest.raises(InsufficientBalanceError):
        await runpod.create_pod(comfy_request())
    handle.emu.set_balance(100)
    with pytest.raises(NotFoundError):
        await runpod.get_pod("doesnotexist00")
    with pytest.raises(NotFoundError):
        await runpod.create_pod(
            CreatePodRequest(name="x", template_id="nosuchtpl1", gpu={"id": RTX_4090})
        )
    pod = await runpod.create_pod(comfy_request())
    with pytest.raises(ConflictError):
        await runpod.start_pod(pod.id)  # PROVISIONING cannot start
    with pytest.raises(InvalidRequestError) as invalid:
        await runpod.list_gpu_types(include_availability=True, count=0)
    assert invalid.value.errors


async def test_429_is_retried_after_retry_after(
    handle: EmulatorHandle, runpod: RunPodClient, sleeps: Sleeps
) -> None:
    handle.emu.faults.burst_429(2, retry_after=3)
    assert await runpod.list_pods() == []
    assert len(sleeps.delays) == 2
    assert all(3.0 <= d <= 3.3 for d in sleeps.delays)
    handle.emu.faults.burst_429(10, retry_after=1)
    async with RunPodClient(
        handle.api_key, handle.base_url, retry=fast_policy(Sleeps(), max_attempts=2)
    ) as impatient:
        with pytest.raises(RateLimitedError) as info:
            await impatient.list_pods()
    assert info.value.retry_after == 1


async def test_5xx_is_retried_then_raised(handle: EmulatorHandle, runpod: RunPodClient) -> None:
    handle.emu.faults.error_rate = 1.0
    with pytest.raises(ServerError) as info:
        await runpod.list_pods()
    assert info.value.attempt_count == runpod.retry_policy.max_attempts
    handle.emu.faults.error_rate = 0.0
    assert await runpod.list_pods() == []


async def test_unreachable_runpod() -> None:
    url = f"http://127.0.0.1:{free_port()}/v2"
    async with RunPodClient("k" * 20, url, retry=fast_policy(max_attempts=2)) as runpod:
        with pytest.raises(RunPodUnavailableError) as info:
            await runpod.list_pods()
    assert not info.value.request_sent


async def test_stalled_create_is_an_unknown_outcome(handle: EmulatorHandle) -> None:
    handle.emu.faults.lose_create_responses = 1.0
    handle.emu.faults.lost_create_modes = ("stall",)
    handle.emu.faults.stall_s = 0.8
    async with RunPodClient(
        # Connecting may take its time (a loaded machine); the answer must come within 0.3 s.
        handle.api_key,
        handle.base_url,
        retry=fast_policy(),
        timeout=httpx.Timeout(10.0, read=0.3),
    ) as runpod:
        with pytest.raises(RunPodUnavailableError) as info:
            await runpod.create_pod(comfy_request())
    assert info.value.outcome_unknown
    assert len(handle.emu.pods) == 1  # the pod exists and bills


async def test_log_stream_resumes_after_a_dropped_connection(handle: EmulatorHandle) -> None:
    emu = handle.emu
    async with cuttable_proxy(handle.base_url) as (proxy, url):
        runpod = RunPodClient(handle.api_key, url, retry=fast_policy())
        async with runpod:
            pod = await runpod.create_pod(comfy_request())
            emu.clock.advance(10)
            for n in range(1, 4):
                emu.append_log(pod.id, f"line {n}")
            seen: list[LogEvent] = []

            async def follow() -> None:
                async for event in runpod.stream_logs(pod.id, source="container"):
                    seen.append(event)
                    if event.line == "line 3":
                        proxy.cut_all()  # the network fails ...
                        for n in range(4, 7):  # ... while the pod keeps logging
                            emu.append_log(pod.id, f"line {n}")
                    if event.line == "line 6":
                        emu.append_log(pod.id, "line 7")
                        await runpod.terminate_pod(pod.id)

            await asyncio.wait_for(follow(), timeout=20)
    lines = [e.line for e in seen]
    assert lines == [
        f"Container started from {pod.image}",
        *[f"line {n}" for n in range(1, 8)],
    ]
    assert len({e.id for e in seen}) == len(seen)
    assert proxy.connections >= 2  # it did reconnect


async def test_log_stream_of_unknown_pod(runpod: RunPodClient) -> None:
    with pytest.raises(NotFoundError):
        async for _ in runpod.stream_logs("doesnotexist00"):
            pass


async def test_timeout_type_is_not_leaking_the_key(handle: EmulatorHandle) -> None:
    handle.emu.faults.latency_s = 0.5
    async with RunPodClient(
        handle.api_key, handle.base_url, retry=fast_policy(max_attempts=1), timeout=0.1
    ) as runpod:
        with pytest.raises(RunPodUnavailableError) as info:
            await runpod.list_pods()
    assert handle.api_key not in str(info.value)
    assert isinstance(info.value.__cause__, httpx.TimeoutException)
    handle.emu.faults.latency_s = 0.0


async def test_403_for_a_read_only_key_on_writes() -> None:
    """A key scoped to reads may list pods but gets ForbiddenError (403) on a create."""
    config = EmulatorConfig(api_key="full-key", read_only_key="read-only-key", speed=1e-9)
    async with (
        emulator_server(config) as emulator,
        RunPodClient("read-only-key", emulator.base_url, retry=fast_policy()) as runpod,
    ):
        assert await runpod.list_pods() == []
        with pytest.raises(ForbiddenError) as info:
            await runpod.create_pod(comfy_request())
        assert emulator.emu.all_pods == [], "a refused create makes no pod"
    assert info.value.status == 403
    assert "read-only-key" not in str(info.value)
