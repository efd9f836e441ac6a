"""ComfyUI's WebSocket messages as typed events, and the parser of its frames.

JSON frames are `{"type", "data"}`; binary frames start with a 4-byte big-endian type: 1 a
preview (4-byte format, 1 JPEG / 2 PNG, then the image), 3 a node's text, 4 a preview with its
JSON metadata (after the `feature_flags` handshake). Unknown types parse to `UnknownEvent`, so a
newer server never breaks the client.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Status:
    """The queue changed (sent to every socket): running plus pending prompts."""

    queue_remaining: int
    sid: str | None = None


@dataclass(frozen=True)
class ExecutionStart:
    prompt_id: str
    timestamp: int | None = None


@dataclass(frozen=True)
class ExecutionCached:
    """The nodes whose outputs come from the cache (they will not run)."""

    prompt_id: str
    nodes: tuple[str, ...]
    timestamp: int | None = None


@dataclass(frozen=True)
class Executing:
    """A node starts; `node` None means the prompt is over (whatever the outcome).

    `prompt_id` is None only in the frame a reconnecting socket gets for the running node.
    """

    prompt_id: str | None
    node: str | None
    display_node: str | None = None


@dataclass(frozen=True)
class Progress:
    """A node's step `value` of `max` (samplers: one per step)."""

    prompt_id: str
    node: str
    value: int
    max: int


@dataclass(frozen=True)
class NodeProgress:
    value: float
    max: float
    state: str  # "running" or "finished"
    display_node_id: str | None = None
    parent_node_id: str | None = None
    real_node_id: str | None = None


@dataclass(frozen=True)
class ProgressState:
    """Every started node of the prompt and how far it is."""

    prompt_id: str
    nodes: dict[str, NodeProgress]


@dataclass(frozen=True)
class Executed:
    """A node with UI output finished (or was served from cache): its output, e.g. images."""

    prompt_id: str
    node: str
    output: dict[str, Any] | None
    display_node: str | None = None


@dataclass(frozen=True)
class ExecutionSuccess:
    prompt_id: str
    timestamp: int | None = None


@dataclass(frozen=True)
class ExecutionError:
    """A node raised: ComfyUI's `execution_error`, every field kept."""

    prompt_id: str
    node_id: str
    node_type: str
    exception_type: str
    exception_message: str
    traceback: tuple[str, ...] = ()
    executed: tuple[str, ...] = ()
    current_inputs: dict[str, Any] = field(default_factory=dict)
    current_outputs: tuple[str, ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True)
class ExecutionInterrupted:
    prompt_id: str
    node_id: str
    node_type: str
    executed: tuple[str, ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True)
class Preview:
    """A preview image of a running node. `prompt_id`/`node_id` come from the frame (type 4) or,
    for type 1 frames that carry none, from the prompt and node running on this socket."""

    prompt_id: str | None
    node_id: str | None
    image_type: str  # "image/jpeg" or "image/png"
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ProgressText:
    """A node's text (binary type 3; GetImageSize sends its size). Sent to every socket."""

    node_id: str
    text: str
    prompt_id: str | None = None


@dataclass(frozen=True)
class FeatureFlags:
    flags: dict[str, Any]


@dataclass(frozen=True)
class UnknownEvent:
    """A message this client does not know (a newer server, a custom node's)."""

    type: str
    data: Any = None


Event = (
    Status
    | ExecutionStart
    | ExecutionCached
    | Executing
    | Progress
    | ProgressState
    | Executed
    | ExecutionSuccess
    | ExecutionError
    | ExecutionInterrupted
    | Preview
    | ProgressText
    | FeatureFlags
    | UnknownEvent
)

#: Events that end a prompt (the `executing` with node None follows each of them).
TERMINAL = (ExecutionSuccess, ExecutionError, ExecutionInterrupted)


def parse_frame(frame: str | bytes) -> Event:
    """One WebSocket frame as an event."""
    if isinstance(frame, bytes):
        return _parse_binary(frame)
    message = json.loads(frame)
    if not isinstance(message, dict):
        return UnknownEvent("?", message)
    return parse_message(str(message.get("type", "")), message.get("data"))


def parse_message(kind: str, data: Any) -> Event:
    """A JSON message (`type`, `data`) as an event."""
    if not isinstance(data, dict):
        return UnknownEvent(kind, data)
    try:
        return _PARSERS[kind](data) if kind in _PARSERS else UnknownEvent(kind, data)
    except (KeyError, TypeError, ValueError):
        return UnknownEvent(kind, data)


def _ids(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _status(d: dict[str, Any]) -> Event:
    remaining = d["status"]["exec_info"]["queue_remaining"]
    return Status(int(remaining), _opt(d.get("sid")))


def _progress_state(d: dict[str, Any]) -> Event:
    nodes = {
        str(k): NodeProgress(
            float(v.get("value", 0)),
            float(v.get("max", 1)),
            str(v.get("state", "")),
            _opt(v.get("display_node_id")),
            _opt(v.get("parent_node_id")),
            _opt(v.get("real_node_id")),
        )
        for k, v in d["nodes"].items()
    }
    return ProgressState(str(d["prompt_id"]), nodes)


def _error(d: dict[str, Any]) -> Event:
    inputs = d.get("current_inputs")
    return ExecutionError(
        str(d["prompt_id"]),
        str(d["node_id"]),
        str(d.get("node_type", "")),
        str(d.get("exception_type", "")),
        str(d.get("exception_message", "")),
        _ids(d.get("traceback")),
        _ids(d.get("executed")),
        inputs if isinstance(inputs, dict) else {},
        _ids(d.get("current_outputs")),
        d.get("timestamp"),
    )


_PARSERS: dict[str, Any] = {
    "status": _status,
    "execution_start": lambda d: ExecutionStart(str(d["prompt_id"]), d.get("timestamp")),
    "execution_cached": lambda d: ExecutionCached(
        str(d["prompt_id"]), _ids(d.get("nodes")), d.get("timestamp")
    ),
    "executing": lambda d: Executing(
        _opt(d.get("prompt_id")), _opt(d.get("node")), _opt(d.get("display_node"))
    ),
    "progress": lambda d: Progress(
        str(d["prompt_id"]), str(d["node"]), int(d["value"]), int(d["max"])
    ),
    "progress_state": _progress_state,
    "executed": lambda d: Executed(
        str(d["prompt_id"]), str(d["node"]), d.get("output"), _opt(d.get("display_node"))
    ),
    "execution_success": lambda d: ExecutionSuccess(str(d["prompt_id"]), d.get("timestamp")),
    "execution_error": _error,
    "execution_interrupted": lambda d: ExecutionInterrupted(
        str(d["prompt_id"]),
        str(d["node_id"]),
        str(d.get("node_type", "")),
        _ids(d.get("executed")),
        d.get("timestamp"),
    ),
    "feature_flags": lambda d: FeatureFlags(dict(d)),
}

_IMAGE_TYPES = {1: "image/jpeg", 2: "image/png"}


def _parse_binary(frame: bytes) -> Event:
    if len(frame) < 4:
        return UnknownEvent("binary", frame)
    (kind,) = struct.unpack(">I", frame[:4])
    body = frame[4:]
    try:
        if kind == 1:
            (image_format,) = struct.unpack(">I", body[:4])
            return Preview(None, None, _IMAGE_TYPES.get(image_format, "image/jpeg"), body[4:])
        if kind == 3:
            (length,) = struct.unpack(">I", body[:4])
            node = body[4 : 4 + length].decode("utf-8", "replace")
            return ProgressText(node, body[4 + length :].decode("utf-8", "replace"))
        if kind == 4:
            (length,) = struct.unpack(">I", body[:4])
            meta = json.loads(body[4 : 4 + length])
            image_type = str(meta.get("image_type", "image/jpeg"))
            return Preview(_opt(meta.get("prompt_id")), _opt(meta.get("node_id")), image_type, body[4 + length :])  # fmt: skip
    except (struct.error, ValueError, AttributeError):
        pass
    return UnknownEvent(f"binary:{kind}", body)


def prompt_of(event: Event) -> str | None:
    """The prompt an event belongs to, when it says."""
    return getattr(event, "prompt_id", None)
