"""Bounds of the API's integers and of request bodies (docs/api.md states them).

Every integer the API takes is bounded, so no value can overflow a database column (SQLite and
PostgreSQL store 64-bit integers: a larger offset or id was a 500, `OverflowError`) or keep a
stream open on an id that cannot exist: it is a 422 naming the parameter instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

# The largest value of a 64-bit signed integer column: event ids, log line ids, offsets.
MAX_INT64 = 2**63 - 1
# The largest request body read, in bytes (a deployment with the largest manifest and env the
# API accepts fits well within it); a larger one is a 413 `payload_too_large`, unread.
MAX_BODY_BYTES = 1024 * 1024

ResumeAfter = Annotated[
    int | None,
    Query(ge=0, le=MAX_INT64, description="Resume after this id (0 to 2^63-1)"),
]
LastEventId = Annotated[
    int | None,
    Header(
        ge=0,
        le=MAX_INT64,
        description="The id of the last event seen (EventSource sends it when reconnecting)",
    ),
]
