"""What ComfyHangar adds to a run: POST /runs -> the prompt at ComfyUI, and output copy speed.

1. **Dispatch overhead.** A server process (`server_process`, embedded RunPod emulator) and,
   in this process, an emulated ComfyUI on a real port with a middleware that notes when each
   `POST /prompt` arrives. `--runs` runs of a tiny prompt (EmptyImage -> SaveImage, each with
   another size so nothing comes from the cache) are queued one at a time through
   `POST /api/v1/runs` on the registered server; the time from just before the request is sent
   to the prompt's arrival at ComfyUI is what the server adds (the API's checks against the
   cached `/object_info`, the commit, the dispatcher's lease, its WebSocket and the look-up of
   the prompt id before posting). Both clocks are this process's.
2. **Output copy.** A file of `--copy-mb` MiB in the emulated ComfyUI's output folder, fetched
   from `/view` (a) directly with httpx into a file and (b) by the dispatcher's own path
   (`ComfyUIClient.open_output` into `LocalStore.put`: sha256, size, fsync, atomic rename),
   `--copy-repeat` times each, alternating; throughput ratio (b)/(a).

    uv run python -m bench.run_overhead              # about 1 min
    uv run python -m bench.run_overhead --runs 200 --copy-mb 512
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bench._common import Row, data_directory, database_url, machine, record, server_process
from comfyhangar.comfyui import ComfyUIClient, OutputFile
from comfyhangar.emulators.comfyui import ComfyUIConfig, ComfyUIEmulator
from comfyhangar.emulators.runpod.clock import SimClock
from comfyhangar.server.loopback import serve_on_loopback
from comfyhangar.server.services.output_store import LocalStore

TARGET_MS = 50.0
WAIT_S = 30.0
COPY_TARGET = 0.90


class PromptArrivals:
    """ASGI middleware: the monotonic time each `POST /prompt` body arrived, by prompt id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/prompt")
        ):
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            at = time.monotonic()
            body = b"".join(chunks)
            prompt_id = str(json.loads(body).get("prompt_id", ""))
            self.arrived[prompt_id] = at
            self.waiters.setdefault(prompt_id, asyncio.Event()).set()
            sent = False

            async def replay() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    async def wait(self, prompt_id: str) -> float:
        event = self.waiters.setdefault(prompt_id, asyncio.Event())
        async with asyncio.timeout(WAIT_S):
            await event.wait()
        return self.arrived[prompt_id]


def tiny_prompt(index: int) -> dict[str, Any]:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64 + index % 512, "height": 64, "batch_size": 1, "color": 0},
        },
        "2": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "bench", "images": ["1", 0]},
        },
    }


async def dispatch_overhead(
    base: str, comfy_url: str, arrivals: PromptArrivals, runs: int
) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        server = await http.post(
            "/api/v1/comfyui-servers", json={"name": "bench", "url": comfy_url}
        )
        server.raise_for_status()
        server_id = server.json()["id"]
        # Warm-up: the first run fetches /object_info (cached for the others) and starts pools.
        for index in range(3):
            batch = (
                await http.post(
                    "/api/v1/runs", json={"server_id": server_id, "prompt": tiny_prompt(index)}
                )
            ).json()
            await arrivals.wait(batch["runs"][0]["prompt_id"])
        times = []
        for index in range(3, 3 + runs):
            body = {"server_id": server_id, "prompt": tiny_prompt(index)}
            started = time.monotonic()
            response = await http.post("/api/v1/runs", json=body)
            response.raise_for_status()
            arrived = await arrivals.wait(response.json()["runs"][0]["prompt_id"])
            times.append(arrived - started)
        return times


async def copy_throughput(
    comfy_url: str, root: Path, size_mb: int, repeat: int
) -> tuple[list[float], list[float]]:
    name = "bench-big.bin"
    (root / "output" / name).write_bytes(os.urandom(size_mb * 1024 * 1024))
    file = OutputFile(name, "", "output")
    direct: list[float] = []
    ours: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hangar-copy-") as scratch:
        store = LocalStore(Path(scratch))
        async with httpx.AsyncClient(timeout=300) as http, ComfyUIClient(comfy_url) as comfy:
            for attempt in range(repeat):
                started = time.monotonic()
                async with http.stream(
                    "GET", f"{comfy_url}/api/view", params=file.view_params()
                ) as response:
                    with (Path(scratch) / f"direct-{attempt}").open("wb") as out:
                        async for chunk in response.aiter_bytes(1 << 20):
                            out.write(chunk)
                direct.append(time.monotonic() - started)

                async def chunks() -> Any:
                    async with comfy.open_output(file) as response:
                        async for chunk in response.aiter_bytes(1 << 20):
                            yield chunk

                started = time.monotonic()
                await store.put(f"runs/x/{attempt}/{name}", chunks())
                ours.append(time.monotonic() - started)
    return direct, ours


async def main_async(args: argparse.Namespace) -> None:
    info = machine()
    with data_directory(keep=args.keep) as data_dir:
        pod = data_dir / "pod"
        (pod / "output").mkdir(parents=True)
        (data_dir / "hangar").mkdir()
        emu = ComfyUIEmulator(ComfyUIConfig(root=pod), clock=SimClock(1000.0))
        arrivals = PromptArrivals(emu.app)
        async with serve_on_loopback(arrivals) as comfy_url:
            with server_process(data_dir / "hangar", database_url(data_dir / "hangar")) as base:
                times = await dispatch_overhead(base, comfy_url, arrivals, args.runs)
            direct, ours = await copy_throughput(comfy_url, pod, args.copy_mb, args.copy_repeat)
        await emu.aclose()
    mb = args.copy_mb * 1024 * 1024 / 1e6
    direct_rate = mb / statistics.median(direct)
    our_rate = mb / statistics.median(ours)
    ratio = our_rate / direct_rate
    rows = [
        Row.of("POST /runs -> prompt at ComfyUI", times, "one run at a time, after 3 warm-up runs"),
        Row.of(f"direct GET /view ({args.copy_mb} MiB)", direct, f"median {direct_rate:.0f} MB/s"),
        Row.of(
            f"our copy ({args.copy_mb} MiB)", ours, f"median {our_rate:.0f} MB/s, sha256 + fsync"
        ),
    ]
    p99 = rows[0].p99_ms
    verdict = (
        f"Target p99 < {TARGET_MS:.0f} ms (server overhead): {'met' if p99 < TARGET_MS else 'missed'} "
        f"({p99:.1f} ms). Target copy >= {COPY_TARGET:.0%} of a direct GET: "
        f"{'met' if ratio >= COPY_TARGET else 'missed'} ({ratio:.0%})."
    )
    setup = (
        f"{args.runs} runs through POST /api/v1/runs on a registered emulated ComfyUI (in the "
        f"bench process, speed 1000); server in its own process ({database_url(Path('x')).split(':')[0]}); "
        f"copy of a {args.copy_mb} MiB file from /view, {args.copy_repeat} times each, alternating"
    )
    record("Run overhead and output copy", setup, rows, verdict, info)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--copy-mb", type=int, default=256)
    parser.add_argument("--copy-repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
