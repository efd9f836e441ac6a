"""SSE decoding and the log stream's resume-after-drop behaviour (mock transport)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfyhangar.core.sse import SSEDecoder
from comfyhangar.runpod import NotFoundError, RunPodUnavailableError, UnauthorizedError
from tests.runpod.helpers import mock_client, problem


def _event(seq: int, line: str | None = None) -> str:
    ts = f"2026-11-26T08:00:{seq:02d}Z"
    data = {"ts": ts, "source": "container", "line": f"line {seq}" if line is None else line}
    return f"id: {ts}/{seq:012d}\ndata: {json.dumps(data)}\n\n"


def test_decoder_follows_the_whatwg_rules() -> None:
    decoder = SSEDecoder()
    lines = [": comment", "event: log", "id: 7", "data: a", "data:b", "retry: 10", ""]
    events = [e for e in (decoder.feed(line) for line in lines) if e is not None]
    assert len(events) == 1
    assert events[0].data == "a\nb"
    assert events[0].event == "log"
    assert events[0].id == "7"
    assert events[0].retry == 10
    assert decoder.feed("") is None  # blank line without data dispatches nothing
    assert decoder.feed("data: partial") is None  # not dispatched until a blank line


class Breaking(httpx.AsyncByteStream):
    """Sends `chunks`, then fails like a dropped connection (or ends cleanly)."""

    def __init__(self, chunks: list[str], *, fail: bool = True) -> None:
        self.chunks = chunks
        self.fail = fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk.encode()
        if self.fail:
            raise httpx.RemoteProtocolError("peer closed connection")


def _sse(stream: httpx.AsyncByteStream) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


async def test_resumes_after_drop_without_loss_or_repeat() -> None:
    seen_headers: list[dict[str, str]] = []
    cut = _event(3)[:20]  # the connection dies in the middle of event 3

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(
            {"last": request.headers.get("last-event-id", ""), **request.url.params}
        )
        n = len(seen_headers)
        if n == 1:
            return _sse(Breaking([_event(1), _event(2), cut]))
        if n == 2:
            return problem(503, "busy")
        if n == 3:  # the server resumes inclusively: event 2 again, then 3 and 4
            return _sse(Breaking([_event(2), _event(3), _event(4)], fail=False))
        return problem(404, "pod not found")

    async with mock_client(handler) as client:
        events = [e async for e in client.stream_logs("pod1", tail=10)]
    assert [e.line for e in events] == ["line 1", "line 2", "line 3", "line 4"]
    assert events[0].id == "2026-11-26T08:00:01Z/000000000001"
    assert events[0].ts is not None
    assert events[0].source == "container"
    assert seen_headers[0] == {"last": "", "tail": "10"}
    assert seen_headers[1]["last"] == "2026-11-26T08:00:02Z/000000000002"
    assert "tail" not in seen_headers[1]
    assert seen_headers[3]["last"] == "2026-11-26T08:00:04Z/000000000004"


async def test_first_404_raises_and_other_4xx_raise() -> None:
    async with mock_client(lambda r: problem(404, "pod not found")) as client:
        with pytest.raises(NotFoundError):
            [e async for e in client.stream_logs("gone")]
    async with mock_client(lambda r: problem(401, "bad key")) as client:
        with pytest.raises(UnauthorizedError):
            [e async for e in client.stream_logs("p")]


async def test_resume_cursor_and_filters_are_sent() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            return _sse(Breaking([_event(5), "data: not json\n\n"], fail=False))
        return problem(404, "pod not found")

    async with mock_client(handler) as client:
        events = [
            e
            async for e in client.stream_logs(
                "pod1", last_event_id="2026-11-26T08:00:04Z/000000000004", source="system"
            )
        ]
    assert [e.line for e in events] == ["line 5", "not json"]
    assert requests[0].headers["last-event-id"] == "2026-11-26T08:00:04Z/000000000004"
    assert dict(requests[0].url.params) == {"source": "system"}


async def test_a_stream_that_keeps_failing_gives_up() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    async with mock_client(handler, max_attempts=3) as client:
        with pytest.raises(RunPodUnavailableError):
            [e async for e in client.stream_logs("p")]
    assert calls == 3


@given(
    lines=st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"])), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_decoder_is_independent_of_chunking(lines: list[str], cuts: list[int]) -> None:
    """However the bytes are split, the same events come out (httpx joins lines for us)."""
    stream = "".join(_event(n, line) for n, line in enumerate(lines, start=1))
    decoder = SSEDecoder()
    events = [e for e in map(decoder.feed, stream.split("\n")) if e is not None]
    assert [json.loads(e.data)["line"] for e in events] == lines
    assert all(e.own_id for e in events)
    # A stream cut anywhere never yields a partial event.
    for cut in cuts:
        partial = SSEDecoder()
        got = [e for e in map(partial.feed, stream[:cut].split("\n")[:-1]) if e is not None]
        assert [json.loads(e.data)["line"] for e in got] == lines[: len(got)]
