"""Reading ComfyUI's answers: history entries, queue items, output files, frames.

The history entries are the ones a real ComfyUI 0.3.64 gave (the recorded transcripts).
"""

from __future__ import annotations

import json
import struct
from typing import Any

from comfyhangar.comfyui.events import (
    Executing,
    Preview,
    ProgressText,
    Status,
    UnknownEvent,
    parse_frame,
)
from comfyhangar.comfyui.wire import PromptResult, QueueState, output_files
from tests.comfyui.transcripts import load_fixture


def recorded_history(scenario: str, label: str) -> tuple[str, dict[str, Any]]:
    step = next(s for s in load_fixture(scenario)["steps"] if s["label"] == label)
    [(prompt_id, entry)] = step["body"].items()
    return prompt_id, entry


def test_an_error_and_an_interrupt_both_say_error_and_are_told_apart() -> None:
    failed = PromptResult.from_history(*recorded_history("runtime_error", "history"))
    stopped = PromptResult.from_history(*recorded_history("interrupt", "history of the interrupted"))  # fmt: skip
    assert failed.outcome == "error"
    assert failed.error is not None
    assert failed.error.exception_type == "IndexError"
    assert stopped.outcome == "interrupted"
    assert stopped.interrupted is not None
    assert stopped.interrupted.node_id == "3"
    assert stopped.error is None
    assert failed.interrupted is None


def test_a_success_lists_its_files_and_cached_nodes() -> None:
    prompt_id, entry = recorded_history("fresh_and_cached", "cached history")
    result = PromptResult.from_history(prompt_id, entry)
    assert result.outcome == "success"
    assert result.cached_nodes == ("1", "2", "3")
    assert [(f.filename, f.node_id) for f in result.files] == [("invert_00001_.png", "3")]


def test_every_list_of_files_is_an_output_whatever_its_key() -> None:
    outputs = {
        "9": {
            "images": [{"filename": "v_00001_.mp4", "subfolder": "video", "type": "output"}],
            "animated": [True],
        },
        "12": {
            "gifs": [
                {"filename": "a.gif", "subfolder": "", "type": "output", "format": "image/gif"}
            ]
        },
        "13": {"audio": [{"filename": "s.flac", "subfolder": "audio", "type": "output"}]},
        "14": {"text": ["hello"]},
    }
    files = output_files(outputs)
    assert [(f.node_id, f.kind, f.filename) for f in files] == [
        ("9", "images", "v_00001_.mp4"),
        ("12", "gifs", "a.gif"),
        ("13", "audio", "s.flac"),
    ]


def test_the_queue_is_read_in_the_order_it_will_run() -> None:
    step = next(s for s in load_fixture("queue_order")["steps"] if s["label"] == "queue with three pending")  # fmt: skip
    body = json.loads(json.dumps(step["body"]).replace('"n+', '"').replace('"n-', '"-'))
    for item in (*body["queue_running"], *body["queue_pending"]):
        item[0] = float(item[0])
    queue = QueueState.parse(body)
    assert [q.prompt_id for q in queue.pending] == ["<run>-front", "<run>-pending-1", "<run>-pending-2"]  # fmt: skip
    assert queue.find("<run>-running") == "running"
    assert queue.remaining == 4


def test_binary_frames_parse() -> None:
    jpeg = b"\xff\xd8\xff\xd9"
    meta = json.dumps({"node_id": "3", "prompt_id": "p", "image_type": "image/png"}).encode()
    assert parse_frame(struct.pack(">II", 1, 1) + jpeg) == Preview(None, None, "image/jpeg", jpeg)
    assert parse_frame(struct.pack(">II", 4, len(meta)) + meta + jpeg) == Preview("p", "3", "image/png", jpeg)  # fmt: skip
    assert parse_frame(struct.pack(">II", 3, 1) + b"6width: 1") == ProgressText("6", "width: 1")
    assert isinstance(parse_frame(struct.pack(">I", 9) + b"x"), UnknownEvent)


def test_json_frames_parse_and_unknown_ones_do_not_break() -> None:
    assert parse_frame('{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 2}}, "sid": "a"}}') == Status(2, "a")  # fmt: skip
    assert parse_frame('{"type": "executing", "data": {"node": "2"}}') == Executing(None, "2")
    assert parse_frame('{"type": "crystools.monitor", "data": {"cpu": 3}}') == UnknownEvent("crystools.monitor", {"cpu": 3})  # fmt: skip
    assert isinstance(parse_frame('{"type": "progress", "data": {"value": "x"}}'), UnknownEvent)
