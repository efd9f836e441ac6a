"""The HTTP core of the RunPod client: one request, typed errors, retries for safe requests.

Kept apart from `client.py` so the endpoint methods there read as a list of endpoints.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from comfyhangar.runpod.errors import (
    RateLimitedError,
    RunPodError,
    UnexpectedResponseError,
    error_from_response,
    error_from_transport,
    parse_retry_after,
)
from comfyhangar.runpod.retry import NO_RETRY, RetryPolicy, is_retryable

logger = logging.getLogger("comfyhangar.runpod")

M = TypeVar("M", bound=BaseModel)


class Transport:
    """Sends requests through an `httpx.AsyncClient` and turns failures into `RunPodError`s.

    Holds the API key privately; it appears only in the `Authorization` header (which httpx
    masks in reprs) and is redacted from every error text.

    RunPod limits requests per API key, so a 429 speaks for every caller of this transport, not
    only the one that met it: until its `Retry-After` has passed nothing is sent, and then the
    waiting requests go one at a time until one gets through (no stampede of retries that would
    all meet the limit again).
    """

    def __init__(self, http: httpx.AsyncClient, api_key: str, retry: RetryPolicy) -> None:
        self.http = http
        self._secret = api_key
        self.retry = retry
        self._prefix = http.base_url.path.rstrip("/")
        self._limited_until: float | None = None  # monotonic; None when not rate limited
        self._probe = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Transport(base_url={str(self.http.base_url)!r})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one logical request; retry it per policy when `idempotent`.

        Raises the typed `RunPodError` of the last attempt. The error's attribute
        `after_unknown_outcome` is True when an earlier attempt may have taken effect
        (it failed with a 5xx or after the request was sent).
        """
        policy = self.retry if idempotent else NO_RETRY
        started = time.monotonic()
        attempt = 0
        uncertain = False
        while True:
            attempt += 1
            error: RunPodError
            try:
                response = await self._send(method, path, params=params, body=body, policy=policy)
            except httpx.TransportError as exc:
                error = error_from_transport(exc, method=method, path=self.shown(path))
                error.__cause__ = exc
            else:
                if response.status_code < 400:
                    return response
                error = self.error_for(response, path)
            error.after_unknown_outcome = uncertain
            error.attempt_count = attempt
            if not is_retryable(error) or attempt >= policy.max_attempts:
                raise error
            limited = isinstance(error, RateLimitedError)
            delay = self._gate_wait() if limited else policy.delay_for(error, attempt - 1)
            if time.monotonic() - started + delay > policy.max_elapsed:
                raise error
            uncertain = uncertain or error.outcome_unknown
            logger.info(
                "runpod %s %s failed (%s); retry %d in %.2fs",
                method,
                path,
                error.status if error.status is not None else type(error).__name__,
                attempt,
                delay,
            )
            if not limited:  # a 429's wait is the gate's, in `_send`
                await policy.sleep(delay)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        policy: RetryPolicy,
    ) -> httpx.Response:
        """One attempt, through the rate-limit gate: while RunPod has said 429, wait its
        `Retry-After`, then send one request at a time until one is not limited."""
        if self._limited_until is None:
            return await self._attempt(method, path, params=params, body=body, policy=policy)
        async with self._probe:
            wait = self._gate_wait()
            if wait > 0:
                await policy.sleep(wait)
            return await self._attempt(method, path, params=params, body=body, policy=policy)

    def _gate_wait(self) -> float:
        """Seconds until RunPod's last `Retry-After` has passed (0 when not rate limited)."""
        if self._limited_until is None:
            return 0.0
        return max(0.0, self._limited_until - time.monotonic())

    async def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        policy: RetryPolicy,
    ) -> httpx.Response:
        response = await self.http.request(method, path, params=clean_params(params), json=body)
        if response.status_code == 429:
            limited = RateLimitedError(
                "rate limited", retry_after=parse_retry_after(response.headers.get("retry-after"))
            )
            until = time.monotonic() + policy.delay_for(limited, 0)
            self._limited_until = max(self._limited_until or 0.0, until)
        else:
            self._limited_until = None
        return response

    def error_for(self, response: httpx.Response, path: str) -> RunPodError:
        """The typed error for an error `response`, with the API key redacted."""
        return error_from_response(response, secret=self._secret, path=self.shown(path))

    def shown(self, path: str) -> str:
        """`path` as RunPod sees it (with the base URL's `/v2`), for messages."""
        return self._prefix + path

    async def json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """`request()` and decode the JSON body (UnexpectedResponseError if it is not JSON)."""
        response = await self.request(method, path, params=params, body=body, idempotent=idempotent)
        try:
            return json.loads(response.content)
        except ValueError:
            raise UnexpectedResponseError(
                "response body is not JSON",
                status=response.status_code,
                method=method,
                path=self.shown(path),
            ) from None


def parse_model(model: type[M], data: Any, *, method: str, path: str) -> M:
    """Validate `data` as `model`, as an `UnexpectedResponseError` on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise UnexpectedResponseError(
            f"response does not match {model.__name__}: {summary}",
            status=200,
            method=method,
            path=path,
        ) from None


def clean_params(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters as RunPod wants them: no Nones, lower-case booleans, comma lists."""
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            if value:
                out[key] = ",".join(str(getattr(v, "value", v)) for v in value)
        else:
            out[key] = str(getattr(value, "value", value))
    return out
