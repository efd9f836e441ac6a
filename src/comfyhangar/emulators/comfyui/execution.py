"""Running one prompt, message for message as ComfyUI 0.3.64's `PromptExecutor.execute_async`.

Per prompt: `execution_start`, `execution_cached` (the nodes the cache already has), then node
by node `progress_state` (running), `executing`, the node's work (`progress` and previews for
nodes that report progress), `executed` for nodes with UI output, `progress_state` (finished);
then `execution_success`, or `execution_error` / `execution_interrupted` where it stopped.
A cached output node only re-sends its `executed`. Who gets which message follows ComfyUI's
rules (docs/comfyui-emulator.md): without a `client_id`, most messages are not sent at all,
while `progress_state`, `progress`, previews and `execution_interrupted` go to every socket.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from comfyhangar.emulators.comfyui.config import ComfyUIConfig
from comfyhangar.emulators.comfyui.faults import Faults
from comfyhangar.emulators.comfyui.files import PodFiles
from comfyhangar.emulators.comfyui.graph import CycleError, ExecutionList, OutputCache, is_link
from comfyhangar.emulators.comfyui.images import RGB, contain, encode_flat_jpeg, encode_png
from comfyhangar.emulators.comfyui.nodes import NodeOutput, NodeType
from comfyhangar.emulators.comfyui.validation import exception_type
from comfyhangar.emulators.comfyui.values import Handle, Latent, Mask, Picture

# ComfyUI's binary WebSocket event types (protocol.BinaryEventTypes).
PREVIEW_IMAGE = 1
TEXT = 3
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1

OOM_TIPS = (
    "This error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before "
    "you might have accidentally set the batch_size to a large number."
)

# The frames of execution.py that a node's exception passes through (0.3.64, Python 3.11).
_RUN_FRAMES = (
    (496, "execute", "output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)", 58),
    (315, "get_output_data", "return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)", 16),
    (289, "_async_map_node_over_list", "await process_inputs(input_dict, i)", -1),
    (277, "process_inputs", "result = f(**inputs)", 9),
)  # fmt: skip


class InterruptProcessing(Exception):
    """`comfy.model_management.InterruptProcessingException`."""


class InjectedError(Exception):
    """An exception a fault makes a node raise, reported under the type name the fault gives."""

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class Server(Protocol):
    """What the executor needs from the emulated server."""

    client_id: str | None
    last_node_id: str | None

    def send_sync(self, event: str | int, data: Any, sid: str | None) -> None:
        """Queue a message for `sid` (None: every socket)."""

    def supports_preview_metadata(self, sid: str | None) -> bool:
        """Whether socket `sid` negotiated the `supports_preview_metadata` feature."""

    def timestamp(self) -> int:
        """Milliseconds since the epoch (simulated clock)."""

    async def sleep(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass."""


class Interrupt:
    """The process-wide interrupt flag: set by `POST /interrupt`, cleared when a prompt starts."""

    def __init__(self) -> None:
        self.requested = False

    def throw_if_requested(self) -> None:
        if self.requested:
            self.requested = False
            raise InterruptProcessing()


class ProgressRegistry:
    """`comfy_execution.progress`: per-node state, sent as `progress_state` on every change."""

    def __init__(self, prompt_id: str, server: Server) -> None:
        self.prompt_id = prompt_id
        self.server = server
        self.nodes: dict[str, dict[str, Any]] = {}

    def _entry(self, node_id: str) -> dict[str, Any]:
        # ensure_entry makes ints; start_progress floats: the wire shows which one happened.
        return self.nodes.setdefault(node_id, {"state": "pending", "value": 0, "max": 1})

    def start(self, node_id: str) -> None:
        entry = self._entry(node_id)
        entry.update(state="running", value=0.0, max=1.0)
        self._send()

    def update(self, node_id: str, value: float, maximum: float) -> None:
        entry = self._entry(node_id)
        entry.update(state="running", value=value, max=maximum)
        self._send()

    def finish(self, node_id: str) -> None:
        entry = self._entry(node_id)
        entry.update(state="finished", value=entry["max"])
        self._send()

    def _send(self) -> None:
        nodes = {
            node_id: {
                "value": state["value"],
                "max": state["max"],
                "state": state["state"],
                "node_id": node_id,
                "prompt_id": self.prompt_id,
                "display_node_id": node_id,
                "parent_node_id": None,
                "real_node_id": node_id,
            }
            for node_id, state in self.nodes.items()
            if state["state"] != "pending"
        }
        data = {"prompt_id": self.prompt_id, "nodes": nodes}
        self.server.send_sync("progress_state", data, self.server.client_id)


class PromptExecutor:
    """Runs prompts one at a time; keeps the cache and the per-node objects between them."""

    def __init__(
        self,
        server: Server,
        node_type: Callable[[str], NodeType | None],
        files: PodFiles,
        faults: Faults,
        interrupt: Interrupt,
        settings: ComfyUIConfig,
    ) -> None:
        self.server = server
        self.node_type = node_type
        self.files = files
        self.faults = faults
        self.interrupt = interrupt
        self.settings = settings
        self.cache = OutputCache()
        self._preview_suffixes: dict[tuple[str, str], str] = {}
        self.success = True
        self.status_messages: list[list[Any]] = []
        self.history_result: dict[str, Any] = {"outputs": {}, "meta": {}}

    def reset(self) -> None:
        """`POST /free {"free_memory": true}`: a fresh cache."""
        self.cache.reset()
        self._preview_suffixes.clear()

    def add_message(self, event: str, data: dict[str, Any], *, broadcast: bool) -> None:
        data = {**data, "timestamp": self.server.timestamp()}
        self.status_messages.append([event, data])
        if self.server.client_id is not None or broadcast:
            self.server.send_sync(event, data, self.server.client_id)

    async def execute(
        self,
        prompt: dict[str, Any],
        prompt_id: str,
        extra_data: dict[str, Any],
        outputs: list[str],
    ) -> None:
        """Run `outputs` of `prompt`; leaves `success`, `status_messages`, `history_result`."""
        self.interrupt.requested = False
        self.server.client_id = extra_data.get("client_id")
        self.status_messages = []
        self.add_message("execution_start", {"prompt_id": prompt_id}, broadcast=False)
        progress = ProgressRegistry(prompt_id, self.server)
        self.cache.set_prompt(
            prompt, self.node_type, lambda node_id, kind: self._fingerprint(prompt, node_id, kind)
        )
        kept = {(node_id, str(node.get("class_type"))) for node_id, node in prompt.items()}
        self._preview_suffixes = {k: v for k, v in self._preview_suffixes.items() if k in kept}
        cached = [node_id for node_id in prompt if self.cache.outputs(node_id) is not None]
        self.add_message(
            "execution_cached", {"nodes": cached, "prompt_id": prompt_id}, broadcast=False
        )
        run = _PromptRun(self, prompt, prompt_id, extra_data, progress)
        order = ExecutionList(prompt, self.node_type, lambda n: self.cache.outputs(n) is not None)
        for node_id in outputs:
            order.add_node(node_id)
        while not order.empty():
            try:
                node_id = order.next_node()
            except CycleError as cycle:
                blamed: dict[str, Any] = {"node_id": cycle.nodes[0], "exception_message": str(cycle), "exception_type": "graph.DependencyCycleError", "traceback": [], "current_inputs": []}  # fmt: skip
                self._report(run, blamed, interrupted=False)
                break
            details, interrupted = await run.node(node_id)
            self.success = details is None
            if details is not None:
                self._report(run, details, interrupted=interrupted)
                break
            order.done(node_id)
        else:
            self.add_message("execution_success", {"prompt_id": prompt_id}, broadcast=False)

        ui_outputs: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        for node_id in self.cache.node_ids():
            ui = self.cache.ui(node_id)
            if ui is not None:
                ui_outputs[node_id] = ui["output"]
                meta[node_id] = ui["meta"]
        self.history_result = {"outputs": ui_outputs, "meta": meta}
        self.server.last_node_id = None

    def _report(self, run: _PromptRun, details: dict[str, Any], *, interrupted: bool) -> None:
        node_id = details["node_id"]
        message: dict[str, Any] = {
            "prompt_id": run.prompt_id,
            "node_id": node_id,
            "node_type": run.prompt[node_id]["class_type"],
            "executed": list(run.executed),
        }
        if interrupted:
            self.add_message("execution_interrupted", message, broadcast=True)
            return
        message.update(
            exception_message=details["exception_message"],
            exception_type=details["exception_type"],
            traceback=details["traceback"],
            current_inputs=details["current_inputs"],
            current_outputs=self.cache.node_ids(),
        )
        self.add_message("execution_error", message, broadcast=False)

    def _fingerprint(self, prompt: dict[str, Any], node_id: str, kind: NodeType) -> object:
        """`IS_CHANGED` of a node, from its constant inputs (False for nodes without one)."""
        if kind.fingerprint is None:
            return False
        node = prompt[node_id]
        if "is_changed" not in node:  # ComfyUI keeps it in the prompt (SaveImage's PNGs show it)
            inputs = node.get("inputs", {})
            constants = {k: v for k, v in inputs.items() if not is_link(v)}
            node["is_changed"] = [kind.fingerprint(self.files, constants)]
        return node["is_changed"]

    def preview_suffix(self, node_id: str, class_type: str) -> str:
        """PreviewImage's `_temp_xxxxx`, drawn once per node object (kept while it is cached)."""
        key = (node_id, class_type)
        if key not in self._preview_suffixes:
            letters = "abcdefghijklmnopqrstupvxyz"  # sic: ComfyUI's alphabet
            self._preview_suffixes[key] = "_temp_" + "".join(random.choice(letters) for _ in range(5))  # fmt: skip
        return self._preview_suffixes[key]


class _PromptRun:
    """One prompt's run: the executed set and each node's context."""

    def __init__(
        self,
        executor: PromptExecutor,
        prompt: dict[str, Any],
        prompt_id: str,
        extra_data: dict[str, Any],
        progress: ProgressRegistry,
    ) -> None:
        self.executor = executor
        self.prompt = prompt
        self.prompt_id = prompt_id
        self.extra_data = extra_data
        self.progress = progress
        self.executed: dict[str, None] = {}

    async def node(self, node_id: str) -> tuple[dict[str, Any] | None, bool]:
        """Run one node: (None, False) on success, else (error details, interrupted)."""
        ex = self.executor
        server = ex.server
        node = self.prompt[node_id]
        kind = ex.node_type(node["class_type"])
        if kind is None:
            raise KeyError(node["class_type"])  # validation refused unknown classes
        if ex.cache.outputs(node_id) is not None:
            if server.client_id is not None:
                cached_ui = ex.cache.ui(node_id) or {}
                server.send_sync("executed", {"node": node_id, "display_node": node_id, "output": cached_ui.get("output"), "prompt_id": self.prompt_id}, server.client_id)  # fmt: skip
            self.progress.finish(node_id)
            return None, False

        inputs: dict[str, Any] | None = None
        try:
            self.progress.start(node_id)
            inputs = self._inputs(node_id, kind)
            if server.client_id is not None:
                server.last_node_id = node_id
                server.send_sync("executing", {"node": node_id, "display_node": node_id, "prompt_id": self.prompt_id}, server.client_id)  # fmt: skip
            ex.interrupt.throw_if_requested()  # nodes.before_node_execution()
            fault = ex.faults.take_node(node_id, kind.name)
            if fault is not None:
                await server.sleep(ex.settings.timing.node_s)
                raise InjectedError(fault.message, fault.exception_type)
            behaviour = kind.run or _pass_through(kind)
            context = _NodeContext(self, node_id, kind)
            result = await behaviour(context, {k: v for k, v in inputs.items() if k not in kind.hidden})  # fmt: skip
            values = _fit(result, kind)
            ui = None
            if result.ui:
                ui = {"meta": {"node_id": node_id, "display_node": node_id, "parent_node": None, "real_node_id": node_id}, "output": result.ui}  # fmt: skip
                if server.client_id is not None:
                    server.send_sync("executed", {"node": node_id, "display_node": node_id, "output": result.ui, "prompt_id": self.prompt_id}, server.client_id)  # fmt: skip
            ex.cache.store(node_id, values, ui)
        except InterruptProcessing:
            return {"node_id": node_id}, True
        except Exception as error:  # noqa: BLE001 - every node error is reported, as ComfyUI does
            return self._details(node_id, kind, error, inputs), False
        self.progress.finish(node_id)
        self.executed[node_id] = None
        return None, False

    def _inputs(self, node_id: str, kind: NodeType) -> dict[str, Any]:
        """`get_input_data`: links from the cache, declared constants, then hidden inputs."""
        values: dict[str, Any] = {}
        for name, value in self.prompt[node_id].get("inputs", {}).items():
            category = kind.input_spec(name)[0]
            if is_link(value):
                outputs = self.executor.cache.outputs(value[0])
                slot = int(value[1])
                values[name] = outputs[slot] if outputs is not None and slot < len(outputs) else None  # fmt: skip
            elif category is not None:
                values[name] = value
        for name, spec in kind.hidden.items():
            hidden = spec[0] if isinstance(spec, list) else spec
            if hidden == "PROMPT":
                values[name] = self.prompt
            elif hidden == "EXTRA_PNGINFO":
                values[name] = self.extra_data.get("extra_pnginfo")
            elif hidden == "UNIQUE_ID":
                values[name] = node_id
        return values

    def _details(
        self, node_id: str, kind: NodeType, error: Exception, inputs: dict[str, Any] | None
    ) -> dict[str, Any]:
        type_name = error.type_name if isinstance(error, InjectedError) else exception_type(error)
        tips = OOM_TIPS if type_name.endswith("OutOfMemoryError") else ""
        formatted = {name: [_format_value(v)] for name, v in (inputs or {}).items()}
        return {
            "node_id": node_id,
            "exception_message": f"{error}\n{tips}",
            "exception_type": type_name,
            "traceback": self._traceback(kind),
            "current_inputs": formatted,
        }

    def _traceback(self, kind: NodeType) -> list[str]:
        root = self.executor.settings.comfyui_dir
        lines = []
        for number, function, code, start in _RUN_FRAMES:
            text = f'  File "{root}/execution.py", line {number}, in {function}\n    {code}\n'
            if start >= 0:
                text += " " * (4 + start) + "^" * (len(code) - start) + "\n"
            lines.append(text)
        module = str(kind.definition.get("python_module", "nodes")).replace(".", "/")
        lines.append(f'  File "{root}/{module}.py", line 1, in execute\n')
        return lines


class _NodeContext:
    """The `RunContext` a node runs with."""

    def __init__(self, run: _PromptRun, node_id: str, kind: NodeType) -> None:
        self._run = run
        self._kind = kind
        self.node_id = node_id
        self.timing = run.executor.settings.timing

    @property
    def previews(self) -> bool:
        return self._run.executor.settings.preview_method != "none"

    async def work(self, seconds: float) -> None:
        await self._run.executor.server.sleep(seconds)

    async def step(
        self,
        value: int,
        total: int,
        preview: RGB | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        executor = self._run.executor
        server = executor.server
        executor.interrupt.throw_if_requested()  # the progress hook checks first
        value = min(value, total)
        image: bytes | None = None
        if preview is not None:
            box = executor.settings.preview_size
            width, height = contain(*(size or (box, box)), box)
            image = encode_flat_jpeg(width, height, preview)
        client = server.client_id
        metadata = server.supports_preview_metadata(client)
        self._run.progress.update(self.node_id, value, total)
        if image is not None and metadata:
            meta = json.dumps({"node_id": self.node_id, "prompt_id": self._run.prompt_id, "display_node_id": self.node_id, "parent_node_id": None, "real_node_id": self.node_id, "image_type": "image/jpeg"}).encode()  # fmt: skip
            server.send_sync(PREVIEW_IMAGE_WITH_METADATA, struct.pack(">I", len(meta)) + meta + image, client)  # fmt: skip
        data = {
            "value": value,
            "max": total,
            "prompt_id": self._run.prompt_id,
            "node": self.node_id,
        }
        server.send_sync("progress", data, client)
        if image is not None and not metadata:
            server.send_sync(PREVIEW_IMAGE, struct.pack(">I", JPEG) + image, client)

    def save_images(self, picture: Picture, prefix: str, *, temp: bool) -> list[dict[str, str]]:
        executor = self._run.executor
        kind = "temp" if temp else "output"
        if temp:
            prefix += executor.preview_suffix(self.node_id, self._kind.name)
        target = executor.files.save_target(prefix, kind, picture.width, picture.height)
        text = {"prompt": json.dumps(self._run.prompt)}
        for key, value in (self._run.extra_data.get("extra_pnginfo") or {}).items():
            text[key] = json.dumps(value)
        saved = []
        counter = target.counter
        for batch_number, (top, bottom) in enumerate(picture.tones):
            name = target.filename.replace("%batch_num%", str(batch_number))
            file = f"{name}_{counter:05}_.png"
            data = encode_png(picture.width, picture.height, top, bottom, text, 1 if temp else 4)
            (target.folder / file).write_bytes(data)
            saved.append({"filename": file, "subfolder": target.subfolder, "type": kind})
            counter += 1
        return saved

    def send_text(self, text: str) -> None:
        node = self.node_id.encode()
        payload = struct.pack(">I", len(node)) + node + text.encode()
        self._run.executor.server.send_sync(TEXT, payload, None)

    def input_path(self, name: str) -> Path | None:
        return self._run.executor.files.input_path(name)


def _pass_through(kind: NodeType) -> Callable[[Any, dict[str, Any]], Awaitable[NodeOutput]]:
    """The behaviour of a node without one: each output takes the first input of its type."""

    async def run(ctx: Any, inputs: dict[str, Any]) -> NodeOutput:
        await ctx.work(ctx.timing.node_s)
        values = []
        for output_type in kind.outputs:
            matches = (v for n, v in inputs.items() if _type_of(kind, n) == output_type)
            match = next((v for v in matches if v is not None), None)
            values.append(match if match is not None else _neutral(output_type, kind.name))
        return NodeOutput(tuple(values))

    return run


def _type_of(kind: NodeType, name: str) -> Any:
    return kind.input_spec(name)[1]


def _neutral(output_type: str, origin: str) -> Any:
    neutral: Mapping[str, Any] = {
        "INT": 0,
        "FLOAT": 0.0,
        "STRING": "",
        "BOOLEAN": False,
        "IMAGE": Picture.flat(512, 512, (0.5, 0.5, 0.5)),
        "MASK": Mask(512, 512, ((0.0, 0.0),)),
        "LATENT": Latent(512, 512),
    }
    return neutral.get(output_type, Handle(output_type, origin))


def _fit(result: NodeOutput, kind: NodeType) -> tuple[Any, ...]:
    """The node's values, one per declared output (missing ones are None)."""
    values = tuple(result.values)
    count = len(kind.outputs)
    return values[:count] + (None,) * (count - len(values))


def _format_value(value: Any) -> Any:
    """`execution.format_value`: plain values as they are, anything else as its text."""
    if value is None or isinstance(value, (int, float, bool, str)):
        return value
    return str(value)
