"""Serving bytes: one `Range` per request (206 / 416), HEAD without a body, streamed GET.

As RFC 9110 and S3/CloudFront do it: `bytes=a-b`, `bytes=a-` and `bytes=-n` are served as 206
with `Content-Range`; a range that starts past the end is 416 with `Content-Range: bytes */size`;
a header that is not a single byte range is ignored (the whole file, 200).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from comfyhangar.emulators.hub.content import Content

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The range starts at or after the end of the content."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`(start, end_exclusive)` of a single byte range, None to serve everything."""
    match = _RANGE.match((header or "").replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last n bytes
        n = int(last)
        if n == 0:
            raise Unsatisfiable
        return max(0, size - n), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None  # invalid: ignored
    if start >= size:
        raise Unsatisfiable
    return start, end


def serve(
    request: Request,
    content: Content,
    headers: dict[str, str],
    *,
    media_type: str,
    on_bytes: Callable[[int], None] | None = None,
) -> Response:
    """The content (or the requested range of it) with `headers`; HEAD gets headers only."""
    size = content.size
    try:
        wanted = parse_range(request.headers.get("range"), size)
    except Unsatisfiable:
        return Response(
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
            media_type=media_type,
        )
    start, end = wanted or (0, size)
    head = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    status = 200
    if wanted is not None:
        status = 206
        head["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=head, media_type=media_type)

    async def body() -> AsyncIterator[bytes]:
        for piece in content.chunks(start, end):
            yield piece
            if on_bytes is not None:
                on_bytes(len(piece))

    return StreamingResponse(body(), status_code=status, headers=head, media_type=media_type)
