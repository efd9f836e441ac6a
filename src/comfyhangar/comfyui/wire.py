"""What ComfyUI's HTTP answers mean: queue items, history entries, output files, uploads.

Parsing is lenient (unknown fields are ignored; newer servers add some) but never guesses: a
body that lacks what every 0.3.x server sends raises `ComfyUIHTTPError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from comfyhangar.comfyui.errors import ComfyUIHTTPError, PromptFailed, PromptInterrupted
from comfyhangar.comfyui.events import ExecutionError, ExecutionInterrupted, parse_message

FolderType = Literal["output", "input", "temp"]
Outcome = Literal["success", "error", "interrupted"]


@dataclass(frozen=True)
class OutputFile:
    """A file a node wrote, as ComfyUI names it: pass it to `/view` unchanged."""

    filename: str
    subfolder: str
    type: str
    node_id: str = ""
    kind: str = "images"  # the output key it was listed under (images, gifs, audio, ...)

    def view_params(self) -> dict[str, str]:
        return {"filename": self.filename, "subfolder": self.subfolder, "type": self.type}


def output_files(outputs: Mapping[str, Any]) -> list[OutputFile]:
    """Every downloadable file in a prompt's outputs (`{node: {key: [{filename, ...}]}}`).

    Any list of `{filename, subfolder, type}` counts, whatever its key: SaveImage uses `images`
    (SaveVideo and animated WebP too), audio nodes `audio`, VideoHelperSuite `gifs`.
    """
    found: list[OutputFile] = []
    for node_id, output in outputs.items():
        if not isinstance(output, Mapping):
            continue
        for kind, items in output.items():
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get("filename"), str):
                    found.append(
                        OutputFile(
                            item["filename"],
                            str(item.get("subfolder", "")),
                            str(item.get("type", "output")),
                            str(node_id),
                            str(kind),
                        )
                    )
    return found


@dataclass(frozen=True)
class QueuedPrompt:
    """One item of `/queue`: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`."""

    number: float
    prompt_id: str
    client_id: str | None
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class QueueState:
    running: tuple[QueuedPrompt, ...]
    pending: tuple[QueuedPrompt, ...]  # in the order they will run (ComfyUI lists a heap)

    @property
    def remaining(self) -> int:
        return len(self.running) + len(self.pending)

    def find(self, prompt_id: str) -> Literal["running", "pending"] | None:
        if any(item.prompt_id == prompt_id for item in self.running):
            return "running"
        if any(item.prompt_id == prompt_id for item in self.pending):
            return "pending"
        return None

    @staticmethod
    def parse(body: Any) -> QueueState:
        try:
            running = tuple(_queued(item) for item in body["queue_running"])
            pending = tuple(_queued(item) for item in body["queue_pending"])
        except (KeyError, TypeError, IndexError, ValueError) as error:
            raise ComfyUIHTTPError(f"unexpected /queue body: {error}", status=200) from None
        return QueueState(running, tuple(sorted(pending, key=lambda item: item.number)))


def _queued(item: list[Any]) -> QueuedPrompt:
    extra = item[3] if isinstance(item[3], dict) else {}
    client = extra.get("client_id")
    return QueuedPrompt(float(item[0]), str(item[1]), None if client is None else str(client), tuple(str(o) for o in item[4]))  # fmt: skip


@dataclass(frozen=True)
class PromptResult:
    """A finished prompt, from its history entry (`source` "history") or, when that entry is
    gone, from the events that were seen (`source` "events").

    `outcome`: ComfyUI's `status_str` says "error" for a failure and an interrupt alike; the
    last of `status.messages` tells them apart.
    """

    prompt_id: str
    outcome: Outcome
    outputs: dict[str, Any]
    messages: tuple[tuple[str, dict[str, Any]], ...] = ()
    error: ExecutionError | None = None
    interrupted: ExecutionInterrupted | None = None
    cached_nodes: tuple[str, ...] = ()
    source: Literal["history", "events"] = "history"

    @property
    def files(self) -> list[OutputFile]:
        return output_files(self.outputs)

    def times(self) -> tuple[int | None, int | None]:
        """(start, end) in ms since the epoch, from the messages."""
        stamps = [data.get("timestamp") for _, data in self.messages]
        known = [s for s in stamps if isinstance(s, int)]
        return (known[0], known[-1]) if known else (None, None)

    def raise_for_outcome(self) -> PromptResult:
        """This result if it succeeded; else PromptFailed or PromptInterrupted."""
        if self.outcome == "error":
            raise PromptFailed(self)
        if self.outcome == "interrupted":
            raise PromptInterrupted(self)
        return self

    @staticmethod
    def from_history(prompt_id: str, entry: Mapping[str, Any]) -> PromptResult:
        try:
            status = entry.get("status") or {}
            messages = tuple((str(kind), dict(data)) for kind, data in status.get("messages", []))  # fmt: skip
            outputs = dict(entry.get("outputs") or {})
        except (TypeError, ValueError, AttributeError) as error:
            raise ComfyUIHTTPError(f"unexpected history entry: {error}", status=200) from None
        error_event: ExecutionError | None = None
        interrupted: ExecutionInterrupted | None = None
        cached: tuple[str, ...] = ()
        for kind, data in messages:
            event = parse_message(kind, {"prompt_id": prompt_id, **data})
            if isinstance(event, ExecutionError):
                error_event = event
            elif isinstance(event, ExecutionInterrupted):
                interrupted = event
            elif kind == "execution_cached":
                cached = tuple(str(n) for n in data.get("nodes", []))
        last = messages[-1][0] if messages else None
        outcome: Outcome = "success"
        if last == "execution_interrupted":
            outcome = "interrupted"
        elif last == "execution_error" or status.get("status_str") == "error":
            outcome = "error"
        return PromptResult(
            prompt_id,
            outcome,
            outputs,
            messages,
            error_event if outcome == "error" else None,
            interrupted if outcome == "interrupted" else None,
            cached,
        )


@dataclass(frozen=True)
class PromptLocation:
    """Where a prompt id is: waiting, running, finished (with its result) or nowhere."""

    state: Literal["pending", "running", "done", "unknown"]
    result: PromptResult | None = None


@dataclass(frozen=True)
class Submission:
    """A prompt that is queued (or ran): `recovered` when it was found instead of posted."""

    prompt_id: str
    number: float | None
    node_errors: dict[str, Any] = field(default_factory=dict)
    recovered: bool = False


@dataclass(frozen=True)
class UploadedFile:
    """`/upload/image`'s answer: always use `name` (ComfyUI renames on a clash)."""

    name: str
    subfolder: str
    type: str

    @property
    def reference(self) -> str:
        """What a LoadImage-style input takes: `sub/name.png` (or `name.png`)."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name
