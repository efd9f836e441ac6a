"""The ComfyUI client against the emulator and, with HANGAR_TEST_COMFYUI_URL, a real ComfyUI."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfyhangar.comfyui import (
    ComfyUIClient,
    EventStream,
    ObjectInfoCache,
    PromptFailed,
    PromptFinished,
    PromptInterrupted,
    PromptRejected,
)
from comfyhangar.comfyui.events import (
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionStart,
    ExecutionSuccess,
    Preview,
    Progress,
    ProgressText,
    Status,
)
from comfyhangar.comfyui.stream import Subscription
from comfyhangar.emulators.comfyui.images import encode_png, image_size, png_edges, png_text
from tests.comfyui.conftest import Target
from tests.comfyui.transcripts import fixture_prompt, probe_prompt, with_prefix


def invert_prompt(run: str, color: int = 0xFF0000) -> dict[str, Any]:
    prompt = with_prefix(fixture_prompt("01-empty-invert-save.api.json"), run)
    prompt["1"]["inputs"]["color"] = color
    return prompt


async def collect(
    stream: EventStream, prompt_id: str, subscription: Subscription | None = None
) -> tuple[list[Event], PromptFinished]:
    events: list[Event] = []
    async for item in subscription or stream.subscribe(prompt_id):
        if isinstance(item, PromptFinished):
            return events, item
        events.append(item)
    raise AssertionError("follow() ended without PromptFinished")


async def wait_for(stream: EventStream, prompt_id: str, kind: type) -> list[Event]:
    """Follow until an event of `kind` arrives (the prompt keeps running)."""
    seen: list[Event] = []
    async for item in stream.subscribe(prompt_id):
        assert not isinstance(item, PromptFinished), f"ended before a {kind.__name__}: {seen}"
        seen.append(item)
        if isinstance(item, kind):
            return seen
    raise AssertionError("unreachable")


async def test_a_run_reports_progress_and_brings_the_image(target: Target, tmp_path: Path) -> None:
    pid = f"{target.run}-invert"
    async with target.client() as comfy, comfy.events() as stream:
        subscription = stream.subscribe(pid)
        await comfy.submit(invert_prompt(target.run), prompt_id=pid, client_id=stream.client_id, extra_data={"extra_pnginfo": {"workflow": {"run": target.run}}})  # fmt: skip
        events, finished = await collect(stream, pid, subscription)
        result = finished.result.raise_for_outcome()
        kinds = [type(e).__name__ for e in events if not isinstance(e, Status)]
        assert kinds[:2] == ["ExecutionStart", "ExecutionCached"]
        assert [e.node for e in events if isinstance(e, Executing)] == ["1", "2", "3", None]
        assert kinds.index("ExecutionSuccess") > kinds.index("Executed")
        [file] = result.files
        assert (file.filename, file.subfolder, file.type) == ("invert_00001_.png", f"rec_{target.run}/api_test", "output")  # fmt: skip
        downloaded = await comfy.download(file, tmp_path / file.filename)
    data = downloaded.path.read_bytes()
    assert downloaded.size == len(data)
    assert downloaded.sha256 == hashlib.sha256(data).hexdigest()
    assert image_size(data) == (256, 256)
    edges = png_edges(data)
    assert edges is not None
    assert [round(c * 255) for c in edges[0]] == [
        0,
        255,
        255,
    ]
    assert '"run": "' + target.run in png_text(data)["workflow"]


async def test_an_identical_prompt_finishes_from_cache_without_new_files(target: Target) -> None:
    prompt = invert_prompt(target.run, 0x00FF00)
    async with target.client() as comfy, comfy.events() as stream:
        first = await comfy.run(prompt, prompt_id=f"{target.run}-first", stream=stream)
        seen: list[Event] = []
        second = await comfy.run(prompt, prompt_id=f"{target.run}-again", stream=stream, on_event=_append(seen))  # fmt: skip
    cached = [e for e in seen if isinstance(e, ExecutionCached)]
    assert cached
    assert set(cached[0].nodes) == {"1", "2", "3"}
    assert [e.node for e in seen if isinstance(e, Executing)] == [None]  # no node ran
    assert [e.node for e in seen if isinstance(e, Executed)] == ["3"]  # the output is re-sent
    assert second.files == first.files  # the same file: nothing new was written


def _append(into: list[Event]) -> Any:
    async def on_event(event: Event) -> None:
        into.append(event)

    return on_event


async def test_submitting_an_id_again_never_queues_it_twice(target: Target) -> None:
    target.require_probe()
    pid = f"{target.run}-once"
    async with target.client() as comfy:
        first = await comfy.submit(probe_prompt(target.run, 200, 0x123456), prompt_id=pid)
        again = await comfy.submit(probe_prompt(target.run, 200, 0x123456), prompt_id=pid)
        queue = await comfy.queue()
        ids = [item.prompt_id for item in (*queue.running, *queue.pending)]
        await comfy.cancel(pid)
    assert not first.recovered
    assert again.recovered
    assert ids.count(pid) == 1


async def test_a_refused_prompt_raises_with_comfyuis_node_errors(target: Target) -> None:
    prompt = invert_prompt(target.run)
    del prompt["1"]["inputs"]["width"]
    async with target.client() as comfy:
        with pytest.raises(PromptRejected) as raised:
            await comfy.submit(prompt, prompt_id=f"{target.run}-refused")
        assert (await comfy.locate(f"{target.run}-refused")).state == "unknown"
    error = raised.value
    assert error.error["type"] == "prompt_outputs_failed_validation"
    assert error.problems() == [("1", "EmptyImage", "width", "Required input is missing: width")]
    assert not error.partial


async def test_a_partly_valid_prompt_is_taken_back(target: Target) -> None:
    target.require_probe()
    blocker = f"{target.run}-blocker"
    partial = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 7},
        },
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
        "3": {
            "class_type": "EmptyImage",
            "inputs": {"width": 0, "height": 8, "batch_size": 1, "color": 7},
        },
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }
    async with target.client() as comfy:
        await comfy.submit(probe_prompt(target.run, 400, 0x222222), prompt_id=blocker)
        with pytest.raises(PromptRejected) as raised:
            await comfy.submit(partial, prompt_id=f"{target.run}-partial")
        where = await comfy.locate(f"{target.run}-partial")
        await comfy.cancel(blocker)
    assert raised.value.partial
    assert set(raised.value.node_errors) == {"3"}
    assert where.state == "unknown"  # deleted from the queue before it ran


async def test_a_failing_node_raises_with_comfyuis_error(target: Target) -> None:
    prompt = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 1, "color": 99},
        },
        "2": {"class_type": "ImageToMask", "inputs": {"image": ["1", 0], "channel": "alpha"}},
        "3": {"class_type": "MaskToImage", "inputs": {"mask": ["2", 0]}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }
    async with target.client() as comfy:
        with pytest.raises(PromptFailed) as raised:
            await comfy.run(prompt, prompt_id=f"{target.run}-fails")
        history = await comfy.history(f"{target.run}-fails")
    error = raised.value.error
    assert error is not None
    assert (error.node_id, error.node_type, error.exception_type) == (
        "2",
        "ImageToMask",
        "IndexError",
    )
    assert "out of bounds" in error.exception_message
    assert error.traceback
    assert history is not None
    assert history.outcome == "error"
    assert history.error == error


async def test_cancel_stops_only_our_prompt(target: Target) -> None:
    target.require_probe()
    ours, theirs, waiting = (f"{target.run}-{n}" for n in ("ours", "theirs", "waiting"))
    async with target.client() as comfy, comfy.events() as stream:
        await comfy.submit(probe_prompt(target.run, 400, 0x010101), prompt_id=ours, client_id=stream.client_id)  # fmt: skip
        async with target.client() as other:  # someone else's prompt, queued behind ours
            await other.submit(probe_prompt(target.run, 2, 0x020202), prompt_id=theirs)
        await comfy.submit(probe_prompt(target.run, 2, 0x030303), prompt_id=waiting)
        await wait_for(stream, ours, Progress)
        assert (await comfy.cancel(waiting)).state == "unknown"  # pending: deleted
        assert (await comfy.cancel(ours)).state in ("running", "done")
        _events, finished = await collect(stream, ours)
        with pytest.raises(PromptInterrupted) as raised:
            finished.result.raise_for_outcome()
        assert raised.value.interrupted is not None
        assert raised.value.interrupted.node_id == "2"
        _, theirs_end = await collect(stream, theirs)
    assert theirs_end.result.outcome == "success"  # untouched by our cancel
    assert finished.result.outcome == "interrupted"


async def test_history_says_nothing_until_the_end(target: Target) -> None:
    target.require_probe()
    pid = f"{target.run}-slow"
    async with target.client() as comfy, comfy.events() as stream:
        assert await comfy.history(f"{target.run}-never") is None
        assert (await comfy.locate(f"{target.run}-never")).state == "unknown"
        await comfy.submit(probe_prompt(target.run, 400, 0x040404), prompt_id=pid, client_id=stream.client_id)  # fmt: skip
        await wait_for(stream, pid, Progress)
        running_history = await comfy.history(pid)
        running_where = (await comfy.locate(pid)).state
        await comfy.cancel(pid)
        _, finished = await collect(stream, pid)
    assert running_history is None
    assert running_where == "running"
    assert finished.result.outcome == "interrupted"


async def test_uploads_are_named_as_comfyui_names_them_and_load(target: Target) -> None:
    name = f"up-{target.run}.png"
    green = encode_png(48, 24, (0.0, 1.0, 0.0), (0.0, 1.0, 0.0))
    async with target.client() as comfy:
        first = await comfy.upload_image(green, name, subfolder=f"rec_{target.run}")
        same = await comfy.upload_image(green, name, subfolder=f"rec_{target.run}")
        other = await comfy.upload_image(encode_png(4, 4, (1, 1, 1), (1, 1, 1)), name, subfolder=f"rec_{target.run}")  # fmt: skip
        prompt = {
            "1": {"class_type": "LoadImage", "inputs": {"image": first.reference}},
            "2": {"class_type": "GetImageSize", "inputs": {"image": ["1", 0]}},
            "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 0]}},
        }
        seen: list[Event] = []
        result = await comfy.run(prompt, prompt_id=f"{target.run}-load", on_event=_append(seen))
    assert (first.name, first.type, same.name) == (name, "input", name)
    assert other.name == f"up-{target.run} (1).png"
    assert result.outputs["3"] == {"text": ["48"]}
    texts = [e for e in seen if isinstance(e, ProgressText)]
    assert [(t.node_id, t.prompt_id) for t in texts] == [("2", f"{target.run}-load")]
    assert texts[0].text.startswith("width: 48, height: 24")


async def test_previews_come_as_typed_events_of_our_prompt(target: Target) -> None:
    target.require_probe()
    pid = f"{target.run}-previews"
    seen: list[Event] = []
    async with target.client() as comfy:
        await comfy.run(probe_prompt(target.run, 3, 0x0000FF), prompt_id=pid, on_event=_append(seen))  # fmt: skip
    previews = [e for e in seen if isinstance(e, Preview)]
    progress = [(e.value, e.max) for e in seen if isinstance(e, Progress)]
    assert progress == [(1, 3), (2, 3), (3, 3)]
    assert len(previews) == 3
    assert {(p.prompt_id, p.node_id, p.image_type) for p in previews} == {(pid, "2", "image/jpeg")}
    assert image_size(previews[0].data) == (512, 384)  # the 64x48 image, fitted into 512
    assert isinstance(seen[0], (Status, ExecutionStart))
    assert any(isinstance(e, ExecutionSuccess) for e in seen)


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_object_info_is_fetched_once_per_server_and_node_set(target: Target) -> None:
    cache = ObjectInfoCache()
    transport = CountingTransport()
    async with target.client(object_info_cache=cache, transport=transport) as one:
        info = await one.object_info(node_set="manifest-a")
        again = await one.object_info(node_set="manifest-a")
        await one.object_info(node_set="manifest-b")
        await one.object_info(node_set="manifest-a", refresh=True)
        async with ComfyUIClient(target.base_url, object_info_cache=cache, transport=transport) as two:  # fmt: skip
            await two.object_info(node_set="manifest-a")
    assert again is info
    assert "KSampler" in info
    assert transport.paths.count("/api/object_info") == 3  # a, b, the refresh; not the rest


async def test_two_prompts_on_one_socket_get_their_own_events(target: Target) -> None:
    first, second = f"{target.run}-one", f"{target.run}-two"
    async with target.client() as comfy, comfy.events() as stream:
        results = await asyncio.gather(
            comfy.run(invert_prompt(target.run, 0x0A0B0C), prompt_id=first, stream=stream),
            comfy.run(invert_prompt(target.run, 0x0C0B0A), prompt_id=second, stream=stream),
        )
    assert [r.prompt_id for r in results] == [first, second]
    assert results[0].files != results[1].files


async def test_the_pod_token_never_shows(target: Target) -> None:
    token = "tok-" + secrets.token_hex(16)
    async with ComfyUIClient(target.base_url, headers={"X-Hangar-Token": token}) as comfy:
        with pytest.raises(PromptRejected) as raised:
            await comfy.submit({"1": {"class_type": "NoSuchNode", "inputs": {}}}, prompt_id=f"{target.run}-tok")  # fmt: skip
        assert token not in repr(comfy)
        assert token not in str(raised.value)
        assert token not in comfy.websocket_url
