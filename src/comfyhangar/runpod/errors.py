"""Exceptions raised by the RunPod client.

RunPod REST v2 answers errors with RFC 9457 `application/problem+json` bodies
(`title`, `status`, `detail`, optional `errors`). Each is mapped to one class of this tree::

    RunPodError                       base; .status .title .detail .errors
    ├── RunPodUnavailableError        no HTTP answer: connect/read timeout, reset, protocol error
    └── RunPodAPIError                RunPod answered with an error status
        ├── BadRequestError           400: a cross-field rule is broken ...
        │   └── CapacityError         400: ... or no machine can take this GPU/data center now
        ├── UnauthorizedError         401: missing or invalid API key
        ├── InsufficientBalanceError  402: not enough credit
        ├── ForbiddenError            403: the key may not use this resource or pool
        ├── NotFoundError             404
        ├── ConflictError             409: action not valid in the pod's current status
        ├── InvalidRequestError       422: body violates the contract; .errors lists each rule
        ├── RateLimitedError          429: .retry_after seconds (from `Retry-After`)
        ├── ServerError               5xx
        └── UnexpectedResponseError   a success status whose body is not what the spec promises

`RunPodError.outcome_unknown` says whether a non-idempotent request (a create) may have taken
effect although it failed: true for 5xx, for transport errors after the request was sent, and
for a success answer whose body could not be read.

No exception text ever contains the API key: the client redacts it from every server detail.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

#: Phrases RunPod uses when a GPU/data-center combination cannot be placed (lower case).
CAPACITY_PHRASES: tuple[str, ...] = (
    "no longer any instances available",
    "not enough free gpus",
    "no capacity",
    "no instances",
    "insufficient capacity",
    "out of capacity",
)


class RunPodError(Exception):
    """Base of every error the RunPod client raises.

    `status` is the HTTP status (None when RunPod gave no answer), `title` and `detail` come from
    the problem body, `errors` lists individual validation failures (422), `method`/`path` name
    the request (never its headers).
    """

    outcome_unknown: bool = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        errors: list[str] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.title = title or ""
        self.detail = detail
        self.errors: list[str] = list(errors or [])
        self.method = method
        self.path = path
        #: How many attempts the client made before giving up with this error.
        self.attempt_count = 1
        #: True when an earlier attempt of the same request may have taken effect.
        self.after_unknown_outcome = False
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        head = f"{self.status} {self.title}".strip() if self.status is not None else self.title
        text = f"{where}{head}: {self.detail}" if head else f"{where}{self.detail}"
        if self.errors:
            text += " [" + "; ".join(self.errors) + "]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, detail={self.detail!r})"


class RunPodUnavailableError(RunPodError):
    """RunPod could not be reached, or the connection failed before a full answer arrived.

    `request_sent` is False only when the connection was never established (the request
    certainly had no effect); otherwise the outcome of a create is unknown.
    """

    def __init__(self, detail: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        self.request_sent = request_sent
        super().__init__(detail, **kwargs)

    @property
    def outcome_unknown(self) -> bool:  # type: ignore[override]
        return self.request_sent


class RunPodAPIError(RunPodError):
    """RunPod answered with an error status (`status` is always set)."""

    status: int


class BadRequestError(RunPodAPIError):
    """400: the request is well formed but was rejected (a cross-field rule, or capacity)."""


class CapacityError(BadRequestError):
    """400 whose detail says no machine can take this GPU type in this data center/cloud now."""


class UnauthorizedError(RunPodAPIError):
    """401: the API key is missing, malformed, expired or invalid."""


class InsufficientBalanceError(RunPodAPIError):
    """402: the account balance is too low for this resource."""


class ForbiddenError(RunPodAPIError):
    """403: the key is valid but may not use this resource (or GPU pool)."""


class NotFoundError(RunPodAPIError):
    """404: no such resource, or not visible to this key."""


class ConflictError(RunPodAPIError):
    """409: the request conflicts with the resource's state (e.g. an invalid pod action)."""


class InvalidRequestError(RunPodAPIError):
    """422: the body violates the contract; `errors` lists each violation. Never retry."""


class RateLimitedError(RunPodAPIError):
    """429: too many requests; wait `retry_after` seconds (None when RunPod did not say)."""

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **kwargs)


class ServerError(RunPodAPIError):
    """5xx: RunPod failed. A create that got this may still have made a pod."""

    outcome_unknown = True


class UnexpectedResponseError(RunPodAPIError):
    """A success status with a body that does not parse as the documented shape.

    The request did succeed, so for a create the pod exists: `outcome_unknown` is True.
    """

    outcome_unknown = True


_BY_STATUS: dict[int, type[RunPodAPIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    402: InsufficientBalanceError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
    429: RateLimitedError,
}


def is_capacity_detail(detail: str) -> bool:
    """True when a 400 detail reads like RunPod's "no capacity" message."""
    text = detail.lower()
    return any(phrase in text for phrase in CAPACITY_PHRASES)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4:
        return text.replace(secret, "[redacted]")
    return text


def error_from_response(
    response: httpx.Response, *, secret: str | None = None, path: str | None = None
) -> RunPodAPIError:
    """Build the typed exception for an error `response` (problem+json or anything else).

    `secret` (the API key) is removed from every text taken from the body.
    """
    status = response.status_code
    title = response.reason_phrase or ""
    detail = ""
    errors: list[str] = []
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        title = str(body.get("title") or title)
        raw_detail = body.get("detail", body.get("message", body.get("error")))
        detail = "" if raw_detail is None else str(raw_detail)
        raw_errors = body.get("errors")
        if isinstance(raw_errors, list):
            errors = [str(e) if not isinstance(e, dict) else json.dumps(e) for e in raw_errors]
    elif response.content:
        detail = response.content[:300].decode("utf-8", "replace").strip()
    if not detail:
        detail = title or f"HTTP {status}"
    detail = _redact(detail, secret)
    title = _redact(title, secret)
    errors = [_redact(e, secret) for e in errors]
    common: dict[str, Any] = {
        "status": status,
        "title": title,
        "errors": errors,
        "method": response.request.method if _has_request(response) else None,
        "path": path,
    }
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(detail, retry_after=retry_after, **common)
    if status == 400 and is_capacity_detail(detail):
        return CapacityError(detail, **common)
    if status >= 500:
        return ServerError(detail, **common)
    cls = _BY_STATUS.get(status, RunPodAPIError)
    return cls(detail, **common)


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def error_from_transport(
    exc: httpx.TransportError, *, method: str, path: str
) -> RunPodUnavailableError:
    """Wrap an httpx transport failure; `request_sent` is False only for connect failures."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    kind = type(exc).__name__
    return RunPodUnavailableError(
        f"RunPod did not answer ({kind})",
        request_sent=not never_sent,
        method=method,
        path=path,
    )
