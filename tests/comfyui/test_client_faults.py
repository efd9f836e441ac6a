"""The client when things go wrong, with the emulator's faults (and behind the pod's token proxy)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from comfyhangar.agent.proxy import TokenProxy
from comfyhangar.comfyui import (
    ComfyUIClient,
    ComfyUIHTTPError,
    ComfyUIUnreachable,
    PromptFailed,
    PromptFinished,
    PromptLost,
    Retry,
)
from comfyhangar.comfyui.events import Event, ExecutionSuccess, Progress
from comfyhangar.emulators.comfyui.images import image_size
from tests.comfyui.conftest import FAST_RETRY, SPEED
from tests.comfyui.support import RunningEmulator, emulator_server, recorded_pod_config
from tests.comfyui.test_client import invert_prompt
from tests.comfyui.transcripts import probe_prompt
from tests.support.servers import free_port

RUN = "fa017000"


@pytest.fixture
async def pod(tmp_path: Path) -> AsyncIterator[RunningEmulator]:
    async with emulator_server(recorded_pod_config(tmp_path), speed=SPEED) as running:
        yield running


async def test_a_socket_that_drops_mid_run_still_ends_from_the_history(pod: RunningEmulator) -> None:  # fmt: skip
    emu, pid = pod.emu, f"{RUN}-dropped"
    seen: list[Event] = []
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy, comfy.events(reconcile_after_s=0.2) as stream:  # fmt: skip
        subscription = stream.subscribe(pid)
        await comfy.submit(probe_prompt(RUN, 40, 0x336699), prompt_id=pid, client_id=stream.client_id)  # fmt: skip
        async for item in subscription:
            if isinstance(item, PromptFinished):
                finished = item
                break
            seen.append(item)
            if isinstance(item, Progress) and not emu.faults.refuse_websockets:
                emu.faults.refuse_websockets = True  # it stays down until the prompt is over
                assert await emu.drop_sockets() == 1
        emu.faults.refuse_websockets = False
    assert not any(isinstance(e, ExecutionSuccess) for e in seen)  # missed, never replayed
    assert finished.result.source == "history"
    assert finished.result.outcome == "success"
    assert [f.filename for f in finished.result.files] == ["probe_00001_.png"]


async def test_a_socket_comfyui_stopped_sending_to_is_reopened(pod: RunningEmulator) -> None:
    pid = f"{RUN}-deaf"
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy, comfy.events(reconcile_after_s=0.3) as stream:  # fmt: skip
        # Another connection with our client id takes the id over; when it closes, ComfyUI
        # unregisters the id and our socket silently gets nothing more.
        async with websockets.connect(comfy.websocket_url):
            pass
        subscription = stream.subscribe(pid)
        await comfy.submit(probe_prompt(RUN, 600, 0x663399), prompt_id=pid, client_id=stream.client_id)  # fmt: skip
        progress_after_reopen = False
        async for item in subscription:
            if isinstance(item, Progress) and stream.reconnects:
                progress_after_reopen = True
                await comfy.cancel(pid)
            if isinstance(item, PromptFinished):
                break
    assert stream.reconnects >= 1
    assert progress_after_reopen
    assert item.result.outcome == "interrupted"


async def test_a_lost_answer_to_a_queued_prompt_does_not_queue_it_again(pod: RunningEmulator) -> None:  # fmt: skip
    pod.emu.faults.fail_route("/prompt", 502, after_effect=True)
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy:
        submission = await comfy.submit(invert_prompt(RUN), prompt_id=f"{RUN}-lost")
        async with comfy.events() as stream:
            async for item in stream.subscribe(f"{RUN}-lost"):
                if isinstance(item, PromptFinished):
                    result = item.result
    assert submission.recovered
    assert pod.emu.number == 1  # one POST /prompt reached ComfyUI: it ran once
    assert result.outcome == "success"


async def test_a_gateway_error_before_comfyui_saw_the_prompt_is_retried(pod: RunningEmulator) -> None:  # fmt: skip
    pod.emu.faults.fail_route("/prompt", 503, count=2)
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy:
        submission = await comfy.submit(invert_prompt(RUN), prompt_id=f"{RUN}-retried")
        location = await comfy.locate(f"{RUN}-retried")
    assert not submission.recovered
    assert pod.emu.number == 1
    assert location.state in ("pending", "running", "done")


async def test_a_submit_that_times_out_is_found_instead_of_posted_again(pod: RunningEmulator) -> None:  # fmt: skip
    pod.emu.faults.slow["/prompt"] = 0.5  # the proxy holds the request; ComfyUI gets it late
    retry = Retry(attempts=2, base_delay=0.01, settle_s=1.0)
    async with ComfyUIClient(pod.base_url, retry=retry, submit_timeout=0.2) as comfy:
        submission = await comfy.submit(invert_prompt(RUN), prompt_id=f"{RUN}-slow")
    assert submission.recovered
    assert pod.emu.number == 1


async def test_a_node_failure_keeps_comfyuis_error(pod: RunningEmulator) -> None:
    pod.emu.faults.fail_node("CUDA out of memory. Tried to allocate 2.00 GiB", exception_type="torch.OutOfMemoryError", class_type="ImageInvert")  # fmt: skip
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy:
        with pytest.raises(PromptFailed) as raised:
            await comfy.run(invert_prompt(RUN), prompt_id=f"{RUN}-oom")
    error = raised.value.error
    assert error is not None
    assert (error.node_id, error.node_type, error.exception_type) == ("2", "ImageInvert", "torch.OutOfMemoryError")  # fmt: skip
    assert "ran out of memory on your GPU" in error.exception_message
    assert error.executed == ("1",)


async def test_a_deleted_prompt_is_reported_lost(pod: RunningEmulator) -> None:
    blocker, pid = f"{RUN}-blocker", f"{RUN}-deleted"
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy, comfy.events(reconcile_after_s=0.2) as stream:  # fmt: skip
        await comfy.submit(probe_prompt(RUN, 400, 0x111111), prompt_id=blocker)
        subscription = stream.subscribe(pid)
        await comfy.submit(probe_prompt(RUN, 2, 0x222222), prompt_id=pid, client_id=stream.client_id)  # fmt: skip
        async with httpx.AsyncClient(base_url=pod.base_url) as someone_else:
            await someone_else.post("/queue", json={"delete": [pid]})
        with pytest.raises(PromptLost):
            async for _ in subscription:
                pass
        await comfy.cancel(blocker)


async def test_comfyui_down_behind_its_proxy(pod: RunningEmulator) -> None:
    pod.emu.faults.down = True
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy:
        with pytest.raises(ComfyUIUnreachable) as submitting:
            await comfy.submit(invert_prompt(RUN), prompt_id=f"{RUN}-down")
        with pytest.raises(ComfyUIUnreachable):
            async with comfy.events():
                pass
    assert submitting.value.status == 502
    assert pod.emu.number == 0


async def test_an_unreachable_server_is_said_so() -> None:
    async with ComfyUIClient(f"http://127.0.0.1:{free_port()}", retry=FAST_RETRY) as comfy:
        with pytest.raises(ComfyUIUnreachable) as raised:
            await comfy.submit(invert_prompt(RUN), prompt_id=f"{RUN}-nowhere")
    assert not raised.value.outcome_unknown


@contextlib.asynccontextmanager
async def token_proxy(token: str, upstream: str) -> AsyncIterator[str]:
    port = int(upstream.rsplit(":", 1)[1])
    proxy = TokenProxy(token, port)
    listen = free_port()
    server = await proxy.start("127.0.0.1", listen)
    try:
        yield f"http://127.0.0.1:{listen}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_run_through_the_pods_token_proxy(pod: RunningEmulator, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    async with token_proxy(token, pod.base_url) as url:
        async with ComfyUIClient(url, headers={"Authorization": f"Bearer {token}"}, retry=FAST_RETRY) as comfy:  # fmt: skip
            upload = await comfy.upload_image(Path(pod.emu.files.input / "example.png"), "copy.png")  # fmt: skip
            result = await comfy.run(invert_prompt(RUN), prompt_id=f"{RUN}-proxied")
            downloaded = await comfy.download(result.files[0], tmp_path / "out.png")
        async with ComfyUIClient(url, retry=FAST_RETRY) as stranger:
            with pytest.raises(ComfyUIHTTPError) as refused:
                await stranger.queue()
            with pytest.raises(ComfyUIHTTPError):
                async with stranger.events():
                    pass
    assert upload.name == "copy.png"
    assert image_size(downloaded.path.read_bytes()) == (256, 256)
    assert refused.value.status == 401


async def test_many_prompts_share_one_socket_without_crosstalk(pod: RunningEmulator) -> None:
    async with ComfyUIClient(pod.base_url, retry=FAST_RETRY) as comfy, comfy.events() as stream:
        results = await asyncio.gather(
            *(
                comfy.run(invert_prompt(RUN, 0x100 * i), prompt_id=f"{RUN}-many-{i}", stream=stream)
                for i in range(8)
            )
        )
    assert [r.prompt_id for r in results] == [f"{RUN}-many-{i}" for i in range(8)]
    assert len({f.filename for r in results for f in r.files}) == 8
