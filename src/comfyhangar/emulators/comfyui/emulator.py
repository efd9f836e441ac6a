"""`ComfyUIEmulator`: one emulated ComfyUI 0.3.64 server, its state and its worker.

Built from node definitions, model files, a data folder, a clock and faults; `emu.app` is the
ASGI app (HTTP and `/ws`). The worker and the message publisher are tasks of the event loop that
serves the app, started by the first request (or the ASGI lifespan); `await emu.aclose()` ends
them. State is in memory like ComfyUI's (queue, history, cache); files are on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from comfyhangar.emulators.comfyui.app import build_app
from comfyhangar.emulators.comfyui.config import ComfyUIConfig
from comfyhangar.emulators.comfyui.execution import Interrupt, PromptExecutor
from comfyhangar.emulators.comfyui.faults import Faults
from comfyhangar.emulators.comfyui.files import PodFiles
from comfyhangar.emulators.comfyui.nodes import NodeType, core_nodes
from comfyhangar.emulators.comfyui.nodes.placeholders import folder_key, listed_models, resolve
from comfyhangar.emulators.comfyui.prompt_queue import PromptQueue
from comfyhangar.emulators.comfyui.sockets import SocketHub
from comfyhangar.emulators.comfyui.validation import Validation, Validator
from comfyhangar.emulators.runpod.clock import SimClock

logger = logging.getLogger("comfyhangar.emulators.comfyui")

COMFYUI_VERSION = "0.3.64"


class ComfyUIEmulator:
    """An emulated ComfyUI. `clock` defaults to a `SimClock` at `config.speed`."""

    def __init__(
        self, config: ComfyUIConfig, *, faults: Faults | None = None, clock: SimClock | None = None
    ) -> None:
        self.config = config
        self.faults = faults or Faults()
        self.clock = clock or SimClock(config.speed)
        self.files = PodFiles(config.root)
        self.nodes: dict[str, NodeType] = core_nodes()
        for extra in config.extra_nodes:
            self.nodes.setdefault(extra.name, extra)
        self.models: dict[str, list[str]] = {}
        for folder, names in config.models.items():
            self.set_models(folder, names)
        self.features = {
            "supports_preview_metadata": True,
            "max_upload_size": config.max_upload_bytes,
        }
        self.hub = SocketHub(self.queue_info, self.features)
        self.queue = PromptQueue(self._queue_changed)
        self.interrupt = Interrupt()
        self.executor = PromptExecutor(
            self, self.node_type, self.files, self.faults, self.interrupt, config
        )
        self.number = 0
        self._moved = asyncio.Event()
        self.clock.on_advance(self._moved.set)
        self._tasks: list[asyncio.Task[None]] = []
        self.app = build_app(self)

    # --- the Server interface of the executor ------------------------------------------------

    @property
    def client_id(self) -> str | None:
        return self.hub.client_id

    @client_id.setter
    def client_id(self, value: str | None) -> None:
        self.hub.client_id = value

    @property
    def last_node_id(self) -> str | None:
        return self.hub.last_node_id

    @last_node_id.setter
    def last_node_id(self, value: str | None) -> None:
        self.hub.last_node_id = value

    def send_sync(self, event: str | int, data: Any, sid: str | None) -> None:
        self.hub.send_sync(event, data, sid)

    def supports_preview_metadata(self, sid: str | None) -> bool:
        return self.hub.supports_preview_metadata(sid)

    def timestamp(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    async def sleep(self, seconds: float) -> None:
        """Wait until the simulated clock has moved `seconds` on (speed or `advance`)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        target = self.clock.now() + timedelta(seconds=seconds)
        while (wait := self.clock.real_seconds_until(target)) > 0:
            self._moved.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), wait)

    # --- lifecycle ---------------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Start the worker and the publisher on the running loop (once)."""
        if self._tasks and not all(t.done() for t in self._tasks):
            return
        self.clock.on_advance(self._moved.set)  # again, after an `aclose`
        self._tasks = [
            asyncio.create_task(self._work_forever(), name="comfyui-emulator-worker"),
            asyncio.create_task(self.hub.publish_forever(), name="comfyui-emulator-publisher"),
        ]

    async def aclose(self) -> None:
        """Stop the worker and the publisher and close every socket (and stop listening to a
        clock passed in: it may outlive this emulator)."""
        self.clock.off_advance(self._moved.set)
        await self.hub.drop_all(code=1001)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def drop_sockets(self) -> int:
        """Fault: close every open WebSocket now; returns how many were open."""
        return await self.hub.drop_all()

    # --- nodes and models --------------------------------------------------------------------

    def node_type(self, class_type: str) -> NodeType | None:
        return self.nodes.get(class_type)

    def definition(self, class_type: str) -> dict[str, Any]:
        """The `/object_info` entry of a class with today's file lists."""
        resolved: dict[str, Any] = resolve(
            self.nodes[class_type].definition, self.models, self.files.input_images
        )
        return resolved

    def object_info(self) -> dict[str, Any]:
        return {name: self.definition(name) for name in self.nodes}

    def set_models(self, folder: str, names: Any) -> None:
        """Replace the files of a model folder (as if the pod's agent had downloaded them)."""
        key = folder_key(folder)
        self.models[key] = listed_models(names, key)

    def add_model(self, folder: str, name: str) -> None:
        """One more model file in a folder."""
        key = folder_key(folder)
        self.set_models(key, [*self.models.get(key, []), name])

    # --- the prompt queue --------------------------------------------------------------------

    def queue_info(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": self.queue.remaining()}}

    def _queue_changed(self) -> None:
        self.send_sync("status", {"status": self.queue_info()}, None)

    def submit(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """`POST /prompt` after the JSON is read: (status, answer)."""
        number: float | int
        if "number" in body:
            number = float(body["number"])
        else:
            number = -self.number if body.get("front") else self.number
            self.number += 1
        if "prompt" not in body:
            error = {"type": "no_prompt", "message": "No prompt provided", "details": "No prompt provided", "extra_info": {}}  # fmt: skip
            return 400, {"error": error, "node_errors": {}}
        prompt = body["prompt"]
        if not isinstance(prompt, dict):
            raise TypeError("prompt must be an object")  # ComfyUI fails the same way: a 500
        prompt_id = str(body["prompt_id"]) if "prompt_id" in body else str(uuid.uuid4())
        targets = body.get("partial_execution_targets")
        valid = self.validate(prompt, targets if isinstance(targets, list) else None)
        extra = body.get("extra_data", {})
        extra_data: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
        if "client_id" in body:
            extra_data["client_id"] = body["client_id"]
        if not valid.ok:
            return 400, {"error": valid.error, "node_errors": valid.node_errors}
        self.queue.put([number, prompt_id, prompt, extra_data, valid.outputs])
        return 200, {"prompt_id": prompt_id, "number": number, "node_errors": valid.node_errors}

    def validate(self, prompt: dict[str, Any], targets: list[str] | None) -> Validation:
        validator = Validator(
            prompt, self.node_type, self.definition, self.files, self.config.comfyui_dir
        )
        return validator.run(targets)

    def request_interrupt(self, prompt_id: str | None) -> None:
        """`POST /interrupt`: only the running prompt when an id is given, anything otherwise."""
        if prompt_id and not self.queue.is_running(prompt_id):
            logger.info("Prompt %s is not currently running, skipping interrupt", prompt_id)
            return
        self.interrupt.requested = True

    async def _work_forever(self) -> None:
        while True:
            taken = await self.queue.get()
            if taken is not None:
                item, index = taken
                prompt_id = item[1]
                try:
                    await self.executor.execute(item[2], prompt_id, item[3], item[4])
                except Exception:  # an emulator bug must not stop the queue
                    logger.exception("the emulated prompt %s crashed", prompt_id)
                    self.executor.success = False
                success = self.executor.success
                status = {
                    "status_str": "success" if success else "error",
                    "completed": success,
                    "messages": copy.deepcopy(self.executor.status_messages),
                }
                self.queue.task_done(index, self.executor.history_result, status)
                if self.client_id is not None:
                    self.send_sync("executing", {"node": None, "prompt_id": prompt_id}, self.client_id)  # fmt: skip
            flags = self.queue.take_flags()
            if flags.get("free_memory"):
                self.executor.reset()
