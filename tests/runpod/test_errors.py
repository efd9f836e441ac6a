"""Problem+json responses map to the documented exception tree; the key never leaks."""

from __future__ import annotations

import httpx
import pytest

from comfyhangar.runpod import (
    BadRequestError,
    CapacityError,
    ConflictError,
    ForbiddenError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RunPodAPIError,
    RunPodClient,
    RunPodError,
    RunPodUnavailableError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)
from comfyhangar.runpod.errors import error_from_response, is_capacity_detail, parse_retry_after
from tests.runpod.helpers import API_KEY, BASE_URL, Sleeps, mock_client, problem


def _mapped(response: httpx.Response) -> RunPodAPIError:
    response.request = httpx.Request("GET", "https://runpod.test/v2/pods")
    return error_from_response(response, secret=API_KEY, path="/v2/pods")


@pytest.mark.parametrize(
    ("status", "detail", "cls"),
    [
        (400, "allowedCudaVersions and minCudaVersion are mutually exclusive", BadRequestError),
        (
            400,
            "There are no longer any instances available with the requested specifications.",
            CapacityError,
        ),
        (400, "not enough free GPUs on the host machine", CapacityError),
        (400, "no capacity for NVIDIA H100 in EU-RO-1", CapacityError),
        (400, "No instances available", CapacityError),
        (401, "missing bearer token", UnauthorizedError),
        (402, "insufficient balance", InsufficientBalanceError),
        (403, "access denied", ForbiddenError),
        (404, "pod not found", NotFoundError),
        (409, "cannot stop a pod in EXITED", ConflictError),
        (422, "Request validation failed.", InvalidRequestError),
        (429, "rate limit exceeded for the minute window", RateLimitedError),
        (500, "internal error", ServerError),
        (503, "upstream unavailable", ServerError),
        (405, "method not allowed", RunPodAPIError),
    ],
)
def test_status_maps_to_class(status: int, detail: str, cls: type[RunPodAPIError]) -> None:
    error = _mapped(problem(status, detail))
    assert type(error) is cls
    assert isinstance(error, RunPodError)
    assert error.status == status
    assert error.detail == detail
    assert detail in str(error)


def test_capacity_is_a_bad_request() -> None:
    assert issubclass(CapacityError, BadRequestError)
    assert is_capacity_detail("NO CAPACITY right now")
    assert not is_capacity_detail("image is required unless templateId is set")


def test_422_carries_errors_list() -> None:
    response = httpx.Response(
        422,
        json={
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "Request validation failed.",
            "errors": ["$: additional properties 'bogus' not allowed"],
        },
    )
    error = _mapped(response)
    assert isinstance(error, InvalidRequestError)
    assert error.errors == ["$: additional properties 'bogus' not allowed"]
    assert "bogus" in str(error)


def test_429_retry_after_seconds_and_date() -> None:
    error = _mapped(problem(429, "slow down", **{"Retry-After": "12"}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 12
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert _mapped(problem(429, "x")).retry_after is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        httpx.Response(500, content=b""),
        httpx.Response(400, json=["not", "an", "object"]),
        httpx.Response(404, json={"message": "Pod not found"}),
    ],
)
def test_non_problem_bodies_are_handled(response: httpx.Response) -> None:
    error = _mapped(response)
    assert error.status == response.status_code
    assert error.detail
    if response.status_code == 404:
        assert error.detail == "Pod not found"


def test_key_is_redacted_from_server_text() -> None:
    error = _mapped(problem(401, f"invalid key {API_KEY}"))
    assert API_KEY not in str(error)
    assert API_KEY not in repr(error)
    assert "[redacted]" in error.detail


async def test_key_never_in_client_repr_or_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        raise httpx.ConnectError("connection refused", request=request)

    client = mock_client(handler, max_attempts=2)
    async with client:
        assert API_KEY not in repr(client)
        assert API_KEY not in str(vars(client))
        with pytest.raises(RunPodUnavailableError) as info:
            await client.get_pod("abc")
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value)
    assert not info.value.request_sent
    assert not info.value.outcome_unknown


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        RunPodClient("", BASE_URL)


async def test_success_with_garbage_body_is_unexpected() -> None:
    client = mock_client(lambda request: httpx.Response(200, text="<html>"))
    async with client:
        with pytest.raises(UnexpectedResponseError):
            await client.get_pod("p")
        with pytest.raises(UnexpectedResponseError):
            await mock_client(lambda r: httpx.Response(200, json={"no": "id"})).get_pod("p")


async def test_error_message_names_method_and_full_path() -> None:
    client = mock_client(lambda request: problem(404, "pod not found"), sleeps=Sleeps())
    async with client:
        with pytest.raises(NotFoundError, match=r"GET /v2/pods/nope: 404"):
            await client.get_pod("nope")
