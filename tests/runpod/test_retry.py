"""Which requests are retried, how long the client waits, and idempotent actions."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time

import httpx
import pytest

from comfyhangar.runpod import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    RunPodClient,
    RunPodUnavailableError,
    ServerError,
)
from comfyhangar.runpod.models import CreatePodRequest
from tests.runpod.helpers import (
    API_KEY,
    BASE_URL,
    Sleeps,
    fast_policy,
    mock_client,
    pod_json,
    problem,
)


class Script:
    """A handler answering from a list of canned responses/exceptions, recording requests."""

    def __init__(self, *answers: httpx.Response | type[Exception]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)  # type: ignore[call-arg]
        return answer


async def test_get_retries_5xx_and_transport_errors_then_succeeds() -> None:
    script = Script(
        problem(503, "busy"),
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.Response(200, json=pod_json("p1")),
    )
    sleeps = Sleeps()
    async with mock_client(script, sleeps=sleeps) as client:
        pod = await client.get_pod("p1")
    assert pod.id == "p1"
    assert len(script.requests) == 4
    assert len(sleeps.delays) == 3


async def test_attempts_are_bounded() -> None:
    script = Script(*[problem(500, "down")] * 10)
    async with mock_client(script, max_attempts=3) as client:
        with pytest.raises(ServerError) as info:
            await client.list_pods()
    assert len(script.requests) == 3
    assert info.value.attempt_count == 3


async def test_total_time_is_bounded() -> None:
    script = Script(*[problem(429, "slow", **{"Retry-After": "30"})] * 3)
    sleeps = Sleeps()
    async with mock_client(script, sleeps=sleeps, max_elapsed=10.0) as client:
        with pytest.raises(RateLimitedError) as info:
            await client.list_pods()
    assert len(script.requests) == 1  # a 30 s wait does not fit a 10 s budget
    assert sleeps.delays == []
    assert info.value.retry_after == 30


async def test_429_honours_retry_after() -> None:
    script = Script(
        problem(429, "slow", **{"Retry-After": "2"}),
        httpx.Response(200, json={"pods": []}),
    )
    sleeps = Sleeps()
    async with mock_client(script, sleeps=sleeps) as client:
        assert await client.list_pods() == []
    assert len(sleeps.delays) == 1
    assert 2.0 <= sleeps.delays[0] <= 2.2  # Retry-After plus at most 10 % jitter


async def test_a_429_holds_back_every_caller_until_retry_after() -> None:
    """RunPod limits per key: after a 429 no caller sends before `Retry-After` has passed, and
    the waiting callers then go one at a time (two retries at once would both meet the limit)."""
    sent: list[float] = []
    answers = iter([429, 429, 429, 200, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        status = next(answers)
        if status == 429:
            return problem(429, "slow down", **{"Retry-After": "0.3"})
        return httpx.Response(200, json={"pods": []})

    async with RunPodClient(
        API_KEY,
        BASE_URL,
        retry=fast_policy(retry_after_jitter=0.0),
        transport=httpx.MockTransport(handler),
    ) as client:
        assert await asyncio.gather(client.list_pods(), client.list_pods()) == [[], []]
    assert len(sent) == 5
    # The first two went out together, before anyone knew; every send after a 429 waited for
    # its Retry-After, and the last (after a success) went at once.
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert gaps[1] >= 0.3, gaps
    assert gaps[2] >= 0.3, gaps


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
async def test_other_4xx_are_never_retried(status: int) -> None:
    script = Script(problem(status, "no"), httpx.Response(200, json=pod_json()))
    async with mock_client(script) as client:
        with pytest.raises(Exception, match="no"):
            await client.get_pod("pod1")
    assert len(script.requests) == 1


@pytest.mark.parametrize("failure", [problem(500, "boom"), httpx.ReadTimeout])
async def test_create_is_sent_exactly_once(failure: httpx.Response | type[Exception]) -> None:
    script = Script(failure, httpx.Response(201, json=pod_json()))
    request = CreatePodRequest(name="x", image="img", gpu={"id": "NVIDIA A40"})
    async with mock_client(script) as client:
        with pytest.raises((ServerError, RunPodUnavailableError)) as info:
            await client.create_pod(request)
    assert len(script.requests) == 1
    assert info.value.outcome_unknown


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(1))
    delays = [policy.backoff(n) for n in range(10) for _ in range(50)]
    assert all(0.0 <= d <= 8.0 for d in delays)
    assert max(policy.backoff(0) for _ in range(200)) <= 1.0
    assert max(delays) > 4.0  # the cap is reached, not just the base
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


async def test_stop_retried_after_lost_answer_returns_the_stopped_pod() -> None:
    script = Script(
        httpx.ReadTimeout,  # the stop happened, the answer was lost
        problem(409, "pod is not running"),  # the retry conflicts
        httpx.Response(200, json=pod_json(status="EXITED", actions=["start", "terminate"])),
    )
    async with mock_client(script) as client:
        pod = await client.stop_pod("pod1")
    assert pod.status == "EXITED"
    assert [r.method for r in script.requests] == ["POST", "POST", "GET"]
    assert json.loads(script.requests[0].content) == {"action": "stop"}


async def test_conflict_on_first_attempt_is_raised() -> None:
    script = Script(problem(409, "pod is not running"))
    async with mock_client(script) as client:
        with pytest.raises(ConflictError):
            await client.stop_pod("pod1")


async def test_terminate_404_after_unknown_outcome_is_success() -> None:
    script = Script(problem(502, "bad gateway"), problem(404, "pod not found"), problem(404, "x"))
    async with mock_client(script) as client:
        await client.terminate_pod("pod1")
    assert [r.method for r in script.requests] == ["POST", "POST", "GET"]


async def test_terminate_of_unknown_pod_raises_but_ensure_terminated_does_not() -> None:
    script = Script(problem(404, "pod not found"), problem(404, "pod not found"))
    async with mock_client(script) as client:
        with pytest.raises(NotFoundError):
            await client.terminate_pod("ghost")
        assert await client.ensure_terminated("ghost") is False


async def test_ensure_terminated_true_when_it_terminated() -> None:
    script = Script(httpx.Response(204))
    async with mock_client(script) as client:
        assert await client.ensure_terminated("pod1") is True
    assert json.loads(script.requests[0].content) == {"action": "terminate"}


async def test_delete_404_after_unknown_outcome_is_success() -> None:
    script = Script(httpx.ReadError, problem(404, "pod not found"))
    async with mock_client(script) as client:
        await client.delete_pod("pod1")
    script = Script(problem(404, "pod not found"))
    async with mock_client(script) as client:
        with pytest.raises(NotFoundError):
            await client.delete_pod("pod1")


async def test_patch_is_retried_but_bad_request_is_not() -> None:
    from comfyhangar.runpod.models import UpdatePodRequest

    script = Script(problem(500, "x"), httpx.Response(200, json=pod_json(name="renamed")))
    async with mock_client(script) as client:
        pod = await client.update_pod("pod1", UpdatePodRequest(name="renamed"))
    assert pod.name == "renamed"
    assert len(script.requests) == 2
    script = Script(problem(400, "network: [] is not allowed"))
    async with mock_client(script) as client:
        with pytest.raises(BadRequestError):
            await client.update_pod("pod1", UpdatePodRequest(ports=[]))
