"""Transcripts: the same scenarios played against a real ComfyUI and the emulator, normalised.

A scenario talks raw HTTP (httpx) and raw WebSocket (websockets) to a server and records what it
sees: each answer (status, content type, body) and each socket's frames, in order. `normalise`
then takes out what differs between any two runs (the run's id, times, counters since start-up,
random file-name parts, install paths, the text of tensors, the order of Python sets) so that a
transcript recorded from a real ComfyUI 0.3.64 (`record_transcript.py`) and one played against
the emulator can be compared with `==`.

Time: against the emulator, time moves only while a scenario waits for a frame (`Driver.tick`
advances its clock), so an action taken "while node 2 runs" is taken while node 2 runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from comfyhangar.emulators.comfyui.images import encode_png, image_size, png_edges, png_text

FIXTURES = Path(__file__).parent / "transcripts"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "comfyui"
WAIT_S = 180.0  # the slow prompt takes ~25 s on two CPUs; a loaded machine needs more

CLIENT_A = "hangar-rec-a"
CLIENT_B = "hangar-rec-b"
CLIENT_F = "hangar-rec-f"

#: Model files the recorded server must have (empty files will do) and the emulator is given.
MODEL_FILES = {
    "checkpoints": ["dummy-sd15.safetensors", "notes.txt"],
    "loras": ["style/dummy-lora.safetensors"],
}

#: `/object_info/HangarProbeSampler` of tests/comfyui/probe_nodes/hangar_probe.py.
PROBE_DEFINITION: dict[str, Any] = {
    "input": {
        "required": {
            "image": ["IMAGE"],
            "steps": ["INT", {"default": 4, "min": 1, "max": 1000}],
            "step_seconds": ["FLOAT", {"default": 0.2, "min": 0.0, "max": 60.0, "step": 0.01}],
        }
    },
    "input_order": {"required": ["image", "steps", "step_seconds"]},
    "output": ["IMAGE"],
    "output_is_list": [False],
    "output_name": ["IMAGE"],
    "name": "HangarProbeSampler",
    "display_name": "Hangar probe sampler",
    "description": "Reports sampler-like progress with previews, without a model (for recordings).",
    "python_module": "custom_nodes.hangar_probe",
    "category": "hangar/testing",
    "output_node": False,
}


class Driver(Protocol):
    """How time passes while a scenario waits for a frame."""

    async def tick(self) -> None:
        """Let some time pass (and the server work)."""


class RealTime:
    """A real server: just wait a little."""

    async def tick(self) -> None:
        await asyncio.sleep(0.05)


# --- prompts ---------------------------------------------------------------------------------


def fixture_prompt(name: str) -> dict[str, Any]:
    """A prompt of the shared fixtures, or the built-in copy of its graph when they are absent."""
    path = SHARED_FIXTURES / name
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    prompt = copy.deepcopy(_BUILTIN[name])
    for node_id, title in _BUILTIN_TITLES[name].items():  # as the fixture's nodes carry them
        prompt[node_id]["_meta"] = {"title": title}
    return prompt


def _node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}


_BUILTIN: dict[str, dict[str, Any]] = {
    "01-empty-invert-save.api.json": {
        "1": _node("EmptyImage", width=256, height=256, batch_size=1, color=16711680),
        "2": _node("ImageInvert", image=["1", 0]),
        "3": _node("SaveImage", images=["2", 0], filename_prefix="api_test/invert"),
    },
    "02-mask-blend-multi-output.api.json": {
        "1": _node("SolidMask", value=0.25, width=256, height=256),
        "2": _node("MaskToImage", mask=["1", 0]),
        "3": _node("EmptyImage", width=256, height=256, batch_size=2, color=3368652),
        "4": _node(
            "ImageBlend", image1=["3", 0], image2=["2", 0], blend_factor=0.5, blend_mode="multiply"
        ),
        "5": _node("ImageBlur", image=["4", 0], blur_radius=5, sigma=2.0),
        "6": _node("GetImageSize", image=["5", 0]),
        "7": _node("PreviewAny", source=["6", 0]),
        "8": _node("PreviewImage", images=["5", 0]),
        "9": _node("SaveImage", images=["5", 0], filename_prefix="api_test/blend"),
    },
    "03-slow-cpu-chain.api.json": {
        "1": _node("EmptyImage", width=2048, height=2048, batch_size=1, color=8421504),
        "2": _node("ImageBlur", image=["1", 0], blur_radius=31, sigma=10.0),
        "3": _node("ImageSharpen", image=["2", 0], sharpen_radius=31, sigma=10.0, alpha=1.0),
        "4": _node("ImageBlur", image=["3", 0], blur_radius=31, sigma=10.0),
        "5": _node("ImageScaleBy", image=["4", 0], upscale_method="area", scale_by=0.25),
        "6": _node("SaveImage", images=["5", 0], filename_prefix="api_test/slow"),
    },
}


#: The `_meta` titles of the shared fixtures' nodes (ComfyUI echoes them in `/history`).
_BUILTIN_TITLES: dict[str, dict[str, str]] = {
    "01-empty-invert-save.api.json": {
        "1": "EmptyImage (solid red)",
        "2": "Invert Image",
        "3": "Save Image",
    },
    "02-mask-blend-multi-output.api.json": {
        "1": "SolidMask",
        "2": "Convert Mask to Image",
        "3": "EmptyImage (blue, batch of 2)",
        "4": "Image Blend",
        "5": "Image Blur",
        "6": "Get Image Size (sends a binary TEXT ws frame)",
        "7": "Preview Any (width as text)",
        "8": "Preview Image (type=temp)",
        "9": "Save Image (type=output)",
    },
    "03-slow-cpu-chain.api.json": {
        "1": "EmptyImage (2048x2048; change color to defeat the cache)",
        "2": "Blur 1",
        "3": "Sharpen",
        "4": "Blur 2",
        "5": "Downscale",
        "6": "Save Image",
    },
}


def with_prefix(prompt: dict[str, Any], run: str) -> dict[str, Any]:
    """The prompt with every filename_prefix moved under `rec_<run>/` (counters start at 1)."""
    prompt = copy.deepcopy(prompt)
    for node in prompt.values():
        inputs = node.get("inputs", {})
        if "filename_prefix" in inputs:
            inputs["filename_prefix"] = f"rec_{run}/{inputs['filename_prefix']}"
    return prompt


def slow_prompt(run: str, color: int) -> dict[str, Any]:
    """Prompt 03 (about 20 s of CPU on a real server) with its own colour (no cache hits)."""
    prompt = with_prefix(fixture_prompt("03-slow-cpu-chain.api.json"), run)
    prompt["1"]["inputs"]["color"] = color
    return prompt


def probe_prompt(run: str, steps: int, color: int) -> dict[str, Any]:
    return {
        "1": _node("EmptyImage", width=64, height=48, batch_size=1, color=color),
        "2": _node("HangarProbeSampler", image=["1", 0], steps=steps, step_seconds=0.05),
        "3": _node("SaveImage", images=["2", 0], filename_prefix=f"rec_{run}/probe"),
    }


# --- the recording session -------------------------------------------------------------------


@dataclass
class Socket:
    """One WebSocket and the frames it received (decoded, not yet normalised)."""

    name: str
    connection: ClientConnection
    frames: list[Any] = field(default_factory=list)
    taken: int = 0
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.connection:
                self.frames.append(decode_frame(message))


class Session:
    """Records one scenario's exchanges against `base_url`."""

    def __init__(self, base_url: str, run: str, driver: Driver) -> None:
        self.base_url = base_url.rstrip("/")
        self.run = run
        self.driver = driver
        self.steps: list[dict[str, Any]] = []
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=60.0)
        self.sockets: list[Socket] = []

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.connection.close()
            if socket.reader is not None:
                await socket.reader
        await self.http.aclose()

    def pid(self, name: str) -> str:
        return f"{self.run}-{name}"

    async def request(
        self,
        label: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        content: bytes | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        record: bool = True,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body
        if content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "application/json"}
        if files is not None:
            kwargs["files"] = files
        if data is not None:
            kwargs["data"] = data
        response = await self.http.request(method, path, **kwargs)
        if record:
            self.steps.append({"label": label, "status": response.status_code, "content_type": response.headers.get("content-type"), "body": describe_body(response)})  # fmt: skip
        return response

    async def connect(self, name: str, client_id: str | None, *, feature_flags: bool = False) -> Socket:  # fmt: skip
        url = self.base_url.replace("http", "ws", 1) + "/ws"
        if client_id is not None:
            url += f"?clientId={client_id}"
        connection = await websockets.connect(url, max_size=None)
        socket = Socket(name, connection)
        self.sockets.append(socket)
        if feature_flags:
            await connection.send(json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}}))  # fmt: skip
        socket.reader = asyncio.create_task(socket.read())
        return socket

    async def connected(self, name: str, client_id: str | None, **options: bool) -> Socket:
        """A socket whose first frame (its `status`) has come, recorded as step `connect`."""
        socket = await self.connect(name, client_id, **options)
        await self.until(socket, lambda f: _is(f, "status"), "first status")
        self.frames(socket, "connect")
        return socket

    async def until(
        self, socket: Socket, matches: Callable[[Any], bool], what: str, *, after: int = 0
    ) -> Any:
        """Wait (letting time pass) for a frame from index `after` on that `matches`."""
        deadline = time.monotonic() + WAIT_S
        while True:
            for frame in socket.frames[after:]:
                if matches(frame):
                    return frame
            if time.monotonic() > deadline:
                raise TimeoutError(f"{socket.name}: no {what} after {WAIT_S} s: {socket.frames[-5:]}")  # fmt: skip
            await self.driver.tick()

    async def until_done(self, socket: Socket, prompt_id: str) -> None:
        await self.until(socket, lambda f: _is(f, "executing") and f["data"].get("node") is None and f["data"].get("prompt_id") == prompt_id, f"end of {prompt_id}")  # fmt: skip

    async def until_node(self, socket: Socket, prompt_id: str, node: str) -> None:
        await self.until(socket, lambda f: _is(f, "executing") and f["data"].get("node") == node and f["data"].get("prompt_id") == prompt_id, f"node {node} of {prompt_id}")  # fmt: skip

    async def until_history(self, prompt_id: str) -> None:
        """Poll `/history/{id}` until the prompt has finished (for prompts without a client)."""
        deadline = time.monotonic() + WAIT_S
        while not (await self.http.get(f"/history/{prompt_id}")).json():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{prompt_id} never finished")
            await self.driver.tick()

    async def settle(self) -> None:
        """Give frames already sent time to arrive (status broadcasts after an action)."""
        await asyncio.sleep(0.2)

    def frames(self, socket: Socket, label: str) -> None:
        """Record the frames `socket` got since the last call."""
        self.steps.append({"label": label, "socket": socket.name, "frames": socket.frames[socket.taken :]})  # fmt: skip
        socket.taken = len(socket.frames)

    async def post_prompt(self, label: str, prompt: dict[str, Any], name: str, client: str | None, **extra: Any) -> str:  # fmt: skip
        body: dict[str, Any] = {"prompt": prompt, "prompt_id": self.pid(name), **extra}
        if client is not None:
            body["client_id"] = client
        response = await self.request(label, "POST", "/prompt", body=body)
        if response.status_code != 200:
            raise AssertionError(f"{label}: {response.status_code} {response.text}")
        return self.pid(name)


def _is(frame: Any, kind: str) -> bool:
    return isinstance(frame, dict) and frame.get("type") == kind


def decode_frame(message: str | bytes) -> Any:
    """A WebSocket frame as data: JSON as it is, binary frames described."""
    if isinstance(message, str):
        return json.loads(message)
    (kind,) = struct.unpack(">I", message[:4])
    rest = message[4:]
    if kind == 1:
        (fmt,) = struct.unpack(">I", rest[:4])
        return {"binary": 1, "format": fmt, "image": describe_image(rest[4:])}
    if kind == 3:
        (length,) = struct.unpack(">I", rest[:4])
        return {"binary": 3, "node": rest[4 : 4 + length].decode(), "text": rest[4 + length :].decode()}  # fmt: skip
    if kind == 4:
        (length,) = struct.unpack(">I", rest[:4])
        meta = json.loads(rest[4 : 4 + length])
        return {"binary": 4, "metadata": meta, "image": describe_image(rest[4 + length :])}
    return {"binary": kind, "bytes": len(rest)}


def describe_image(data: bytes) -> dict[str, Any]:
    kind = "png" if data.startswith(b"\x89PNG") else "jpeg" if data[:2] == b"\xff\xd8" else "?"
    size = image_size(data)
    return {"format": kind, "size": list(size) if size else None}


def describe_body(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        return response.json()
    if content_type == "image/png":
        data = response.content
        edges = png_edges(data)
        return {
            "png": {
                "size": list(image_size(data) or ()),
                "text": {k: json.loads(v) for k, v in png_text(data).items()},
                "top_left": [round(c * 255) for c in edges[0]] if edges else None,
            }
        }
    if content_type.startswith("text/"):
        return response.text
    return {"bytes": len(response.content)}


# --- scenarios -------------------------------------------------------------------------------

Scenario = Callable[[Session], Awaitable[None]]


async def basics(s: Session) -> None:
    await s.connected("A", CLIENT_A)
    for label, path in (
        ("idle prompt info", "/prompt"),
        ("idle queue", "/queue"),
        ("unknown history entry", f"/history/{s.pid('never-queued')}"),
        ("unknown class", "/object_info/NoSuchNodeXYZ"),
        ("probe class", "/object_info/HangarProbeSampler"),
        ("checkpoint list", "/object_info/CheckpointLoaderSimple"),
        ("lora list", "/object_info/LoraLoader"),
        ("vae list", "/object_info/VAELoader"),
        ("models", "/models"),
        ("model folder", "/models/checkpoints"),
        ("model subfolder", "/models/loras"),
        ("legacy model folder", "/models/clip"),
        ("features", "/features"),
        ("api duplicate", "/api/queue"),
        ("missing file", "/view?filename=nope.png"),
        ("dotdot name", "/view?filename=../secret.png"),
        ("bad type", "/view?filename=x.png&type=bogus"),
        ("escaping subfolder", "/view?filename=x.png&subfolder=../.."),
        ("no route", "/no/such/route"),
        ("get on a post route", "/interrupt"),
    ):
        await s.request(label, "GET", path)
    await s.request("post on a get route", "POST", "/view")


async def fresh_and_cached(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    prompt = with_prefix(fixture_prompt("01-empty-invert-save.api.json"), s.run)
    workflow = {"nodes": [], "links": [], "version": 0.4, "extra": {"run": s.run}}
    pid = await s.post_prompt("submit", prompt, "fresh", CLIENT_A, extra_data={"extra_pnginfo": {"workflow": workflow}})  # fmt: skip
    await s.until_done(a, pid)
    s.frames(a, "fresh run")
    history = (await s.request("history", "GET", f"/history/{pid}")).json()
    await s.request("queue after", "GET", "/queue")
    image = history[pid]["outputs"]["3"]["images"][0]
    await s.request("view output", "GET", f"/view?filename={image['filename']}&subfolder={image['subfolder']}&type=output")  # fmt: skip
    await s.request("view annotated", "GET", f"/view?filename={image['filename']}%20[output]&subfolder={image['subfolder']}")  # fmt: skip
    await s.request("view without subfolder", "GET", f"/view?filename={image['filename']}")

    again = await s.post_prompt("submit the same", prompt, "cached", CLIENT_A)
    await s.until_done(a, again)
    s.frames(a, "cached run")
    await s.request("cached history", "GET", f"/history/{again}")
    await s.request("newest history", "GET", "/history?max_items=1")


async def multi_output(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    prompt = with_prefix(fixture_prompt("02-mask-blend-multi-output.api.json"), s.run)
    pid = await s.post_prompt("submit", prompt, "multi", CLIENT_A)
    await s.until_done(a, pid)
    s.frames(a, "run")
    await s.request("history", "GET", f"/history/{pid}")


async def runtime_error(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    prompt = {
        "1": _node("EmptyImage", width=64, height=64, batch_size=1, color=123),
        "2": _node("ImageToMask", image=["1", 0], channel="alpha"),
        "3": _node("MaskToImage", mask=["2", 0]),
        "4": _node("PreviewImage", images=["3", 0]),
    }
    pid = await s.post_prompt("submit", prompt, "broken", CLIENT_A)
    await s.until_done(a, pid)
    s.frames(a, "run")
    await s.request("history", "GET", f"/history/{pid}")


def _save(source: str) -> dict[str, Any]:
    return _node("SaveImage", images=[source, 0], filename_prefix="rec_bad/x")


async def validation(s: Session) -> None:
    empty = {"width": 64, "height": 64, "batch_size": 1, "color": 0}
    cases: list[tuple[str, Any]] = [
        ("unknown class", {"1": _node("NoSuchNodeXYZ"), "2": _save("1")}),
        ("no class_type", {"1": {"inputs": {}}, "2": _save("1")}),
        (
            "missing required input",
            {"1": _node("EmptyImage", height=64, batch_size=1, color=0), "2": _save("1")},
        ),
        (
            "link to an absent node",
            {
                "1": _node("EmptyImage", **empty),
                "2": _node("ImageInvert", image=["99", 0]),
                "3": _save("2"),
            },
        ),
        ("output links to an absent node", {"1": _node("EmptyImage", **empty), "3": _save("99")}),
        (
            "slot out of range",
            {
                "1": _node("EmptyImage", **empty),
                "3": {
                    "class_type": "SaveImage",
                    "inputs": {"images": ["1", 5], "filename_prefix": "x"},
                },
            },
        ),
        (
            "mask into image",
            {"1": _node("SolidMask", value=1.0, width=8, height=8), "2": _save("1")},
        ),
        ("below min", {"1": _node("EmptyImage", **{**empty, "width": 0}), "2": _save("1")}),
        ("above max", {"1": _node("EmptyImage", **{**empty, "color": 16777216}), "2": _save("1")}),
        ("not a number", {"1": _node("EmptyImage", **{**empty, "width": "abc"}), "2": _save("1")}),
        (
            "bad link shape",
            {
                "1": _node("EmptyImage", **empty),
                "2": _node("ImageInvert", image=["1", 0, 3]),
                "3": _save("2"),
            },
        ),
        ("no output node", {"1": _node("EmptyImage", **empty)}),
        (
            "model not on the pod",
            {
                "1": _node("CheckpointLoaderSimple", ckpt_name="nope.safetensors"),
                "2": _node("CLIPTextEncode", text="a", clip=["1", 1]),
                "3": _node("PreviewAny", source=["2", 0]),
            },
        ),
        (
            "input image missing",
            {
                "1": _node("LoadImage", image="missing.png"),
                "2": _node("PreviewImage", images=["1", 0]),
            },
        ),
        (
            "sampler name not in a long list",
            {
                "1": _node("KSamplerSelect", sampler_name="bogus"),
                "2": _node("PreviewAny", source=["1", 0]),
            },
        ),
        (
            "cycle",
            {
                "1": _node("ImageInvert", image=["2", 0]),
                "2": _node("ImageInvert", image=["1", 0]),
                "3": _save("2"),
            },
        ),
    ]
    for label, prompt in cases:
        await s.request(label, "POST", "/prompt", body={"prompt": prompt, "prompt_id": s.pid(label.replace(" ", "-"))})  # fmt: skip
    await s.request("no prompt", "POST", "/prompt", body={"client_id": CLIENT_A})
    await s.request("not json", "POST", "/prompt", content=b"{not json")
    await s.request("queue untouched", "GET", "/queue")

    a = await s.connected("A", CLIENT_A)
    partial = {
        "1": _node("EmptyImage", **{**empty, "color": 255}),
        "2": _node("PreviewImage", images=["1", 0]),
        "3": _node("EmptyImage", **{**empty, "width": 0}),
        "4": _node("PreviewImage", images=["3", 0]),
    }
    as_text = {
        "1": _node("EmptyImage", **{**empty, "width": "64", "batch_size": 1.9}),
        "2": _node("PreviewImage", images=["1", 0]),
    }
    converted = await s.post_prompt("numbers as text and float", as_text, "converted", CLIENT_A)
    await s.until_done(a, converted)
    s.frames(a, "converted run")
    await s.request("converted values in the history", "GET", f"/history/{converted}")
    pid = await s.post_prompt("one good output of two", partial, "partial", CLIENT_A)
    await s.until_done(a, pid)
    s.frames(a, "partial run")
    v3 = {
        "1": _node("EmptyImage", **empty),
        "2": _node(
            "ImageBlend", image1=["1", 0], image2=["1", 0], blend_factor=0.5, blend_mode="bogus"
        ),
        "3": _node("PreviewImage", images=["2", 0]),
    }
    bad = await s.post_prompt("v3 combo checked only at run time", v3, "v3-combo", CLIENT_A)
    await s.until_done(a, bad)
    s.frames(a, "v3 run")
    await s.request("v3 history", "GET", f"/history/{bad}")


async def interrupt(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    first = await s.post_prompt("submit slow", slow_prompt(s.run, 0x102030), "slow-1", CLIENT_A)
    await s.until_node(a, first, "2")
    second = await s.post_prompt("submit another", slow_prompt(s.run, 0x203040), "slow-2", CLIENT_A)
    await s.until(a, lambda f: _is(f, "status") and f["data"]["status"]["exec_info"]["queue_remaining"] == 2, "queued status")  # fmt: skip
    s.frames(a, "until the second node runs")
    await s.request("queue while running", "GET", "/queue")
    await s.request("prompt info while running", "GET", "/prompt")
    await s.request("interrupt another id", "POST", "/interrupt", body={"prompt_id": second})
    await s.request("delete the pending one", "POST", "/queue", body={"delete": [second]})
    await s.request("interrupt ours", "POST", "/interrupt", body={"prompt_id": first})
    await s.until_done(a, first)
    s.frames(a, "interrupted")
    await s.request("history of the interrupted", "GET", f"/history/{first}")
    await s.request("history of the deleted", "GET", f"/history/{second}")
    await s.request("queue after", "GET", "/queue")


async def queue_order(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    running = await s.post_prompt("submit slow", slow_prompt(s.run, 0x304050), "running", CLIENT_A)
    await s.until_node(a, running, "2")
    await s.post_prompt("pending 1", slow_prompt(s.run, 0x405060), "pending-1", CLIENT_A)
    await s.post_prompt("pending 2", slow_prompt(s.run, 0x506070), "pending-2", CLIENT_A)
    await s.post_prompt("in front", slow_prompt(s.run, 0x607080), "front", CLIENT_A, front=True)
    await s.request("queue with three pending", "GET", "/queue")
    await s.request("clear", "POST", "/queue", body={"clear": True})
    await s.request("queue cleared", "GET", "/queue")
    await s.request("interrupt everything", "POST", "/interrupt")
    await s.until_done(a, running)
    s.frames(a, "frames")
    await s.request("delete history", "POST", "/history", body={"delete": [running]})
    await s.request("deleted history", "GET", f"/history/{running}")


async def progress(s: Session) -> None:
    a = await s.connected("A", CLIENT_A)
    pid = await s.post_prompt("probe", probe_prompt(s.run, 3, 0x00FF00), "probe", CLIENT_A)
    await s.until_done(a, pid)
    s.frames(a, "progress with previews")
    await s.request("history", "GET", f"/history/{pid}")

    f = await s.connect("F", CLIENT_F, feature_flags=True)
    await s.until(f, lambda fr: _is(fr, "feature_flags"), "feature flags")
    s.frames(f, "handshake")
    pid = await s.post_prompt("probe with metadata", probe_prompt(s.run, 2, 0x0000FF), "probe-meta", CLIENT_F)  # fmt: skip
    await s.until_done(f, pid)
    s.frames(f, "previews with metadata")
    await s.settle()
    s.frames(a, "what another client saw")

    interrupted = await s.post_prompt("long probe", probe_prompt(s.run, 200, 0xFF0000), "probe-long", CLIENT_A)  # fmt: skip
    await s.until(a, lambda fr: _is(fr, "progress") and fr["data"]["prompt_id"] == interrupted and fr["data"]["value"] >= 2, "second step")  # fmt: skip
    await s.request("interrupt between steps", "POST", "/interrupt", body={"prompt_id": interrupted})  # fmt: skip
    await s.until_done(a, interrupted)
    frames = a.frames[a.taken :]
    a.taken = len(a.frames)
    at = next(i for i, fr in enumerate(frames) if _is(fr, "execution_interrupted"))
    finished = [fr for fr in frames[:at] if _is(fr, "progress_state") and fr["data"]["nodes"].get("2", {}).get("state") == "finished"]  # fmt: skip
    kinds = sorted({fr.get("type") or f"binary {fr.get('binary')}" for fr in frames[:at]})
    s.steps.append({"label": "interrupted between steps", "socket": "A", "frames": frames[at:], "kinds_before": kinds, "sampler_finished_before": bool(finished)})  # fmt: skip


async def audience(s: Session) -> None:
    a = await s.connect("A", CLIENT_A)
    b = await s.connect("B", CLIENT_B)
    for socket in (a, b):
        await s.until(socket, lambda f: _is(f, "status"), "first status")
        s.frames(socket, "connect")
    prompt = {
        "1": _node("EmptyImage", width=32, height=16, batch_size=1, color=0x808080),
        "2": _node("GetImageSize", image=["1", 0]),
        "3": _node("PreviewAny", source=["2", 1]),
    }
    pid = await s.post_prompt("for A", prompt, "for-a", CLIENT_A)
    await s.until_done(a, pid)
    await s.until(b, lambda f: _is(f, "status") and f["data"]["status"]["exec_info"]["queue_remaining"] == 0, "idle status")  # fmt: skip
    s.frames(a, "the client's socket")
    s.frames(b, "another socket")
    prompt["1"]["inputs"]["color"] = 0x404040
    anonymous = await s.post_prompt("without client_id", prompt, "anonymous", None)
    await s.until_history(anonymous)
    for socket in (a, b):
        await s.until(socket, lambda f: _is(f, "status") and f["data"]["status"]["exec_info"]["queue_remaining"] == 0, "idle status")  # fmt: skip
        s.frames(socket, "a prompt without client_id")


async def reconnect(s: Session) -> None:
    first = await s.connect("A1", CLIENT_A)
    await s.until(first, lambda f: _is(f, "status"), "first status")
    s.frames(first, "connect")
    pid = await s.post_prompt("submit slow", slow_prompt(s.run, 0x708090), "reconnect", CLIENT_A)
    await s.until_node(first, pid, "2")
    s.frames(first, "before the reconnect")
    second = await s.connect("A2", CLIENT_A)
    await s.until(second, lambda f: _is(f, "executing"), "current node")
    s.frames(second, "reconnect with the same id while its prompt runs")
    await first.connection.close()
    observer = await s.connect("B", CLIENT_B)
    await s.until(observer, lambda f: _is(f, "status"), "first status")
    s.frames(observer, "observer connects")
    await s.request("interrupt", "POST", "/interrupt", body={"prompt_id": pid})
    await s.until_history(pid)
    await s.until(observer, lambda f: _is(f, "status") and f["data"]["status"]["exec_info"]["queue_remaining"] == 0, "idle status")  # fmt: skip
    s.frames(observer, "the observer saw the end")
    s.frames(second, "the new socket saw nothing: the old one's close unregistered the id")


def _upload(name: str, data: bytes, **fields: str) -> tuple[dict[str, Any], dict[str, str]]:
    return {"image": (name, data, "image/png")}, fields


async def uploads(s: Session) -> None:
    name = f"rec-{s.run}.png"
    red = encode_png(40, 30, (1.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    blue = encode_png(40, 30, (0.0, 0.0, 1.0), (0.0, 0.0, 1.0))
    files, fields = _upload(name, red)
    await s.request("upload", "POST", "/upload/image", files=files, data=fields)
    files, fields = _upload(name, red)
    await s.request("same name, same bytes", "POST", "/upload/image", files=files, data=fields)
    files, fields = _upload(name, blue)
    await s.request("same name, other bytes", "POST", "/upload/image", files=files, data=fields)
    files, fields = _upload(name, blue, overwrite="true")
    await s.request("overwrite", "POST", "/upload/image", files=files, data=fields)
    files, fields = _upload(name, red, subfolder=f"rec_{s.run}")
    await s.request("into a subfolder", "POST", "/upload/image", files=files, data=fields)
    files, fields = _upload(name, red, subfolder="../../escape")
    await s.request("escaping subfolder", "POST", "/upload/image", files=files, data=fields)
    await s.request("no image field", "POST", "/upload/image", files={"other": ("x.png", red, "image/png")})  # fmt: skip
    await s.request("view the upload", "GET", f"/view?filename={name}&type=input")

    a = await s.connected("A", CLIENT_A)
    prompt = {
        "1": _node("LoadImage", image=f"rec_{s.run}/{name}"),
        "2": _node("GetImageSize", image=["1", 0]),
        "3": _node("PreviewAny", source=["2", 0]),
        "4": _node("ImageInvert", image=["1", 0]),
        "5": _node("SaveImage", images=["4", 0], filename_prefix=f"rec_{s.run}/loaded"),
    }
    pid = await s.post_prompt("load the upload", prompt, "load", CLIENT_A)
    await s.until_done(a, pid)
    s.frames(a, "run")
    history = (await s.request("history", "GET", f"/history/{pid}")).json()
    image = history[pid]["outputs"]["5"]["images"][0]
    await s.request("the inverted upload", "GET", f"/view?filename={image['filename']}&subfolder={image['subfolder']}")  # fmt: skip


SCENARIOS: dict[str, Scenario] = {
    "basics": basics,
    "fresh_and_cached": fresh_and_cached,
    "multi_output": multi_output,
    "runtime_error": runtime_error,
    "validation": validation,
    "interrupt": interrupt,
    "queue_order": queue_order,
    "progress": progress,
    "audience": audience,
    "reconnect": reconnect,
    "uploads": uploads,
}

#: Scenarios whose prompts have several outputs: ComfyUI runs them in an order that depends on
#: Python's set order (random per process), so their node blocks are compared as a set.
ORDER_FREE = {"multi_output"}


async def play(name: str, base_url: str, run: str, driver: Driver) -> list[dict[str, Any]]:
    """Run scenario `name` against `base_url`; its raw steps."""
    session = Session(base_url, run, driver)
    try:
        await SCENARIOS[name](session)
    finally:
        await session.close()
    return session.steps


# --- normalisation ---------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TEMP = re.compile(r"ComfyUI_temp_[a-z]{5}_")
_FILE_LINE = re.compile(r'File "(.*?)/(execution\.py|comfy_extras/[^"]+|nodes\.py|custom_nodes/[^"]+)"')  # fmt: skip


def normalise(name: str, steps: list[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    """Steps with everything that differs between two faithful runs replaced by a marker."""
    state = _Normaliser(run)
    out = [state.value(copy.deepcopy(step)) for step in steps]
    if name in ORDER_FREE:
        for step in out:
            if "frames" in step:
                step["frames"] = order_free(step["frames"])
    return out


class _Normaliser:
    def __init__(self, run: str) -> None:
        self.run = run
        self.first_number: float | None = None
        self.sids: dict[str, str] = {}

    def value(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return self.mapping(value)
        if isinstance(value, list):
            if key in ("current_outputs", "executed"):
                return sorted(self.value(v) for v in value)
            if key == "traceback":
                return self.traceback(value)
            if key in ("queue_running", "queue_pending"):
                return [self.queue_item(v) for v in value]
            if key == "prompt" and len(value) == 5 and isinstance(value[1], str):
                return self.queue_item(value)
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value, key)
        if key == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(value)
        return value

    def mapping(self, value: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "timestamp":
                out[key] = "<ts>"
            elif key == "sid" and isinstance(item, str):
                out[key] = item if item.startswith("hangar-rec-") else "<sid>"
            elif key == "current_inputs" and isinstance(item, dict):
                out[key] = {k: [self.tensor(x) for x in v] for k, v in item.items()}
            else:
                out[self.text(key)] = self.value(item, key)
        return out

    def queue_item(self, item: Any) -> Any:
        """`[number, id, prompt, extra_data, outputs]`; the outputs are a Python set's order."""
        if not isinstance(item, list) or len(item) != 5:
            return self.value(item)
        number, *rest, outputs = item
        return [self.number(number), *(self.value(v) for v in rest), sorted(outputs)]

    def number(self, value: float) -> str:
        if self.first_number is None:
            self.first_number = value
        delta = value - self.first_number if value >= 0 else value + self.first_number
        return f"n{'+' if value >= 0 else '-'}{abs(int(delta))}"

    def text(self, value: str, key: str | None = None) -> str:
        value = value.replace(self.run, "<run>")
        value = _TEMP.sub("ComfyUI_temp_<r>_", value)
        return _UUID.sub("<uuid>", value)

    def tensor(self, value: Any) -> Any:
        if isinstance(value, str) and "tensor(" in value:
            return "<tensor>"
        return self.value(value)

    def traceback(self, lines: list[Any]) -> list[str]:
        """Install paths removed; the frames inside the node's own code reduced to one marker."""
        out: list[str] = []
        for line in lines:
            text = _FILE_LINE.sub(lambda m: f'File "<comfyui>/{m.group(2)}"', str(line))
            if '<comfyui>/execution.py"' not in text:
                text = "<node frame>"
            if not (text == "<node frame>" and out and out[-1] == text):
                out.append(text)
        return out


def order_free(frames: list[Any]) -> list[Any]:
    """Frames with the nodes' blocks (`progress_state` running ... finished) as a sorted map.

    `progress_state` frames are cumulative: each is checked to extend the one before, then
    reduced to the entries that changed.
    """
    reduced: list[Any] = []
    previous: dict[str, Any] = {}
    for frame in frames:
        if _is(frame, "progress_state"):
            nodes = frame["data"]["nodes"]
            if not all(k in nodes for k in previous):
                raise AssertionError(f"progress_state is not cumulative: {nodes}")
            changed = {k: v for k, v in nodes.items() if v != previous.get(k)}
            previous = nodes
            reduced.append({"type": "progress_state", "changed": changed})
        else:
            reduced.append(frame)
    marks = [i for i, f in enumerate(reduced) if _is(f, "progress_state")]
    if not marks:
        return reduced
    first, last = marks[0], marks[-1]
    blocks: dict[str, list[Any]] = {}
    current = ""
    for frame in reduced[first : last + 1]:
        if _is(frame, "progress_state"):
            running = [k for k, v in frame["changed"].items() if v["state"] == "running"]
            if running and not current:
                current = running[0]
        blocks.setdefault(current, []).append(frame)
        if _is(frame, "progress_state") and frame["changed"].get(current, {}).get("state") == "finished":  # fmt: skip
            current = ""
    return [*reduced[:first], {"type": "node blocks", "blocks": dict(sorted(blocks.items()))}, *reduced[last + 1 :]]  # fmt: skip


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def save_fixture(name: str, steps: list[dict[str, Any]], source: dict[str, Any]) -> Path:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    path = FIXTURES / f"{name}.json"
    path.write_text(json.dumps({"recorded_from": source, "steps": steps}, indent=1) + "\n")
    return path
