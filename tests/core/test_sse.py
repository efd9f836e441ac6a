"""The package's one SSE decoder follows the WHATWG event-stream rules."""

from __future__ import annotations

from comfyhangar.core.sse import ServerSentEvent, decode_lines


def test_the_event_id_is_the_streams_cursor_and_is_not_cleared_after_an_event() -> None:
    lines = [": ping", "id: 7", "event: log", "data: a", "data: b", "", "", "data: x", ""]
    assert list(decode_lines(lines)) == [
        ServerSentEvent("a\nb", "log", "7", own_id=True),
        ServerSentEvent("x", "message", "7", own_id=False),
    ]


def test_an_empty_id_resets_the_cursor_and_a_cut_event_is_never_dispatched() -> None:
    lines = ["id: 3", "data: one", "", "id:", "data: two", "", "id: 9", "data: cut off"]
    events = list(decode_lines(lines))
    assert [(e.data, e.id) for e in events] == [("one", "3"), ("two", "")]


def test_an_event_without_data_is_not_dispatched_and_its_type_does_not_leak() -> None:
    lines = ["event: tick", "", 'data: {"n": 1}', ""]
    (event,) = decode_lines(lines)
    assert event.event == "message"
    assert event.json() == {"n": 1}
