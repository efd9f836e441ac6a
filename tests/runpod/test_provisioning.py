"""Tagged creates: never a blind retry, capacity fallback, adoption (mock transport)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfyhangar.runpod.models import Cloud, CreatePodRequest, GpuType
from comfyhangar.runpod.provisioning import (
    DEPLOYMENT_ENV,
    Candidate,
    CreatePodFailedError,
    ProvisioningPolicy,
    build_candidates,
    create_tagged_pod,
    pod_name,
)
from tests.runpod.helpers import Sleeps, fast_policy, mock_client, pod_json, problem

DEPLOYMENT = "3f2c9a1e-7b44-4c1d-9a0e-5d6f7a8b9c0d"
REQUEST = CreatePodRequest(
    name="placeholder",
    image="runpod/comfyui:latest",
    gpu={"id": "NVIDIA GeForce RTX 4090", "count": 1},
    env={"FOO": "bar"},
)
CANDIDATES = [
    Candidate("NVIDIA GeForce RTX 4090", ("EU-RO-1",)),
    Candidate("NVIDIA GeForce RTX 4090", ("US-TX-3",)),
    Candidate("NVIDIA L40S", ("EU-RO-1",), Cloud.SECURE),
]
CAPACITY = "There are no longer any instances available with the requested specifications."


class FakeRunPod:
    """Pods in memory; `create_script` decides what each create does.

    Script items: "ok" (create, answer 201), "lost" (create, then drop the connection),
    "lost500" (create, answer 500), "garbled" (create, answer 201 with a broken body),
    "fail500" (no create, 500), "timeout" (no create, timeout),
    or an `httpx.Response` to answer without creating.
    """

    def __init__(self, *create_script: Any, list_failures: int = 0) -> None:
        self.script = list(create_script)
        self.pods: list[dict[str, Any]] = []
        self.creates: list[dict[str, Any]] = []
        self.lists = 0
        self.list_failures = list_failures
        self.hidden: list[dict[str, Any]] = []  # created, not yet visible in the list

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/v2/pods":
            self.lists += 1
            if self.list_failures:
                self.list_failures -= 1
                return problem(503, "list unavailable")
            visible = [p for p in self.pods if p not in self.hidden]
            self.hidden.clear()  # visible from the next list on (propagation delay)
            return httpx.Response(200, json={"pods": visible})
        assert (request.method, request.url.path) == ("POST", "/v2/pods")
        body = json.loads(request.content)
        self.creates.append(body)
        step = self.script.pop(0)
        if isinstance(step, httpx.Response):
            return step
        if step in ("fail500", "timeout"):
            if step == "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            return problem(500, "internal error")
        pod = pod_json(
            f"pod{len(self.pods) + 1}",
            name=body["name"],
            env=body.get("env", {}),
            gpu=body["gpu"],
            dataCenterId=(body.get("dataCenterIds") or ["US-TX-3"])[0],
            status="PROVISIONING",
        )
        self.pods.append(pod)
        if step == "lost":
            raise httpx.RemoteProtocolError("server disconnected", request=request)
        if step == "late500":
            self.hidden.append(pod)
            return problem(500, "created, but not listed yet")
        if step == "lost500":
            return problem(500, "created, then failed to read it back")
        if step == "garbled":
            return httpx.Response(201, content=b'{"id": "pod')
        return httpx.Response(201, json=pod)


def _policy(sleeps: Sleeps | None = None, **kwargs: Any) -> ProvisioningPolicy:
    options: dict[str, Any] = {"settle_delay": 0.0, "backoff": fast_policy(sleeps)}
    options.update(kwargs)
    return ProvisioningPolicy(**options)


async def _create(fake: FakeRunPod, **kwargs: Any) -> Any:
    policy = kwargs.pop("policy", None) or _policy()
    async with mock_client(fake) as client:
        return await create_tagged_pod(
            client,
            deployment_id=DEPLOYMENT,
            label=kwargs.pop("label", "ComfyUI main!"),
            request=REQUEST,
            candidates=kwargs.pop("candidates", CANDIDATES),
            policy=policy,
        )


def test_pod_name_is_deterministic_and_sanitised() -> None:
    assert pod_name(DEPLOYMENT, "ComfyUI main!") == "hangar-3f2c9a1e-comfyui-main"
    assert pod_name("ABC", "") == "hangar-abc-pod"
    assert pod_name(DEPLOYMENT, "x" * 100) == "hangar-3f2c9a1e-" + "x" * 40
    with pytest.raises(ValueError, match="deployment_id"):
        pod_name("---", "x")


@given(
    deployment=st.text(min_size=1).filter(lambda t: any(c.isalnum() and c.isascii() for c in t)),
    label=st.text(),
)
def test_pod_name_shape(deployment: str, label: str) -> None:
    name = pod_name(deployment, label)
    assert re.fullmatch(r"hangar-[a-z0-9]{1,8}-[a-z0-9]+(-[a-z0-9]+)*", name)
    assert len(name) <= 56
    assert name == pod_name(deployment, label)


async def test_created_pod_carries_the_tag() -> None:
    fake = FakeRunPod("ok")
    outcome = await _create(fake)
    assert not outcome.adopted
    assert outcome.candidate == CANDIDATES[0]
    body = fake.creates[0]
    assert body["name"] == "hangar-3f2c9a1e-comfyui-main"
    assert body["env"] == {"FOO": "bar", DEPLOYMENT_ENV: DEPLOYMENT}
    assert body["gpu"] == {"id": "NVIDIA GeForce RTX 4090", "count": 1}
    assert body["dataCenterIds"] == ["EU-RO-1"]
    assert fake.lists == 1  # looked for an existing pod first


async def test_capacity_fallback_reports_every_attempt() -> None:
    fake = FakeRunPod(problem(400, CAPACITY), problem(403, "pool not allowed"), "ok")
    outcome = await _create(fake)
    assert outcome.candidate == CANDIDATES[2]
    assert [a.result for a in outcome.attempts] == ["no_capacity", "forbidden", "created"]
    assert outcome.attempts[0].detail == CAPACITY
    assert fake.creates[2]["gpu"]["id"] == "NVIDIA L40S"
    assert fake.creates[2]["cloud"] == "SECURE"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (problem(402, "insufficient balance"), "insufficient_balance"),
        (problem(422, "Request validation failed."), "invalid_request"),
        (problem(401, "bad key"), "invalid_request"),
    ],
)
async def test_fatal_answers_stop_at_once(answer: httpx.Response, reason: str) -> None:
    fake = FakeRunPod(answer, "ok", "ok")
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake)
    assert info.value.reason == reason
    assert len(fake.creates) == 1
    assert len(info.value.attempts) == 1


async def test_all_candidates_out_of_capacity() -> None:
    fake = FakeRunPod(*[problem(400, CAPACITY)] * 3)
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake)
    assert info.value.reason == "no_capacity"
    assert [a.candidate for a in info.value.attempts] == CANDIDATES
    assert info.value.status == 400


async def test_the_same_400_everywhere_is_a_request_problem() -> None:
    fake = FakeRunPod(*[problem(400, "ports: 99999/http is invalid")] * 3)
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake)
    assert info.value.reason == "invalid_request"
    assert "99999" in str(info.value)


async def test_429_waits_retry_after_and_retries_the_same_candidate() -> None:
    sleeps = Sleeps()
    fake = FakeRunPod(problem(429, "slow down", **{"Retry-After": "3"}), "ok")
    outcome = await _create(fake, policy=_policy(sleeps))
    assert outcome.candidate == CANDIDATES[0]
    assert [a.result for a in outcome.attempts] == ["rate_limited", "created"]
    assert 3.0 <= sleeps.delays[0] <= 3.3


@pytest.mark.parametrize("loss", ["lost", "lost500", "garbled"])
async def test_unknown_outcome_lists_and_adopts(loss: str) -> None:
    fake = FakeRunPod(loss, "ok")
    outcome = await _create(fake, policy=_policy(check_existing=False))
    assert outcome.adopted
    assert outcome.pod.id == "pod1"
    assert len(fake.creates) == 1  # never created twice
    assert len(fake.pods) == 1
    assert [a.result for a in outcome.attempts] == ["outcome_unknown", "adopted"]


@pytest.mark.parametrize("failure", ["fail500", "timeout"])
async def test_unknown_outcome_not_found_retries_exactly_once(failure: str) -> None:
    fake = FakeRunPod(failure, "ok")
    outcome = await _create(fake, policy=_policy(check_existing=False))
    assert not outcome.adopted
    # looked confirm_lists (3) times, found nothing (+ a final look for late duplicates)
    assert fake.lists == 4
    assert len(fake.creates) == 2  # ... and created again exactly once
    assert outcome.duplicates == []
    assert outcome.candidate == CANDIDATES[0]
    assert [a.result for a in outcome.attempts] == ["outcome_unknown", "created"]


async def test_a_pod_slow_to_appear_is_adopted_not_created_twice() -> None:
    """The lost create's pod is missing from the first list but shows on a later look."""
    sleeps = Sleeps()
    fake = FakeRunPod("late500", "ok")
    outcome = await _create(fake, policy=_policy(sleeps, check_existing=False, settle_delay=2.0))
    assert outcome.adopted
    assert outcome.pod.id == "pod1"
    assert len(fake.creates) == 1
    assert sleeps.delays[:2] == [2.0, 4.0], "looked again after a longer wait"


async def test_a_late_duplicate_is_reported() -> None:
    """With a single look, a pod slower than that is only found after the second create."""
    fake = FakeRunPod("late500", "ok")
    outcome = await _create(fake, policy=_policy(check_existing=False, confirm_lists=1))
    assert not outcome.adopted
    assert [p.id for p in outcome.duplicates] == ["pod1"]
    assert outcome.pod.id == "pod2"


async def test_no_create_when_the_list_cannot_confirm() -> None:
    fake = FakeRunPod("timeout", "ok", list_failures=100)
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake, policy=_policy(check_existing=False))
    assert info.value.reason == "outcome_unknown"
    assert len(fake.creates) == 1


async def test_unknown_outcome_retries_are_bounded() -> None:
    fake = FakeRunPod(*["fail500"] * 10)
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake, policy=_policy(unknown_outcome_retries=2))
    assert info.value.reason == "outcome_unknown"
    assert len(fake.creates) == 3


async def test_unreachable_runpod_is_not_an_unknown_outcome() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with mock_client(refuse) as client:
        with pytest.raises(CreatePodFailedError) as info:
            await create_tagged_pod(
                client,
                deployment_id=DEPLOYMENT,
                label="x",
                request=REQUEST,
                candidates=CANDIDATES,
                policy=_policy(check_existing=False, unknown_outcome_retries=1),
            )
    assert info.value.reason == "unavailable"
    assert [a.result for a in info.value.attempts] == ["unavailable", "unavailable"]


async def test_rate_limit_budget() -> None:
    fake = FakeRunPod(*[problem(429, "slow", **{"Retry-After": "1"})] * 5)
    with pytest.raises(CreatePodFailedError) as info:
        await _create(fake, policy=_policy(Sleeps(), rate_limit_retries=2))
    assert info.value.reason == "rate_limited"
    assert len(fake.creates) == 3


async def test_existing_tagged_pod_is_adopted_without_creating() -> None:
    fake = FakeRunPod("ok")
    first = await _create(fake)
    fake.script = ["ok"]
    async with mock_client(fake) as client:
        second = await create_tagged_pod(
            client,
            deployment_id=DEPLOYMENT,
            label="ComfyUI main!",
            request=REQUEST,
            candidates=CANDIDATES,
            policy=_policy(),
        )
    assert second.adopted
    assert second.pod.id == first.pod.id
    assert second.candidate.data_center_ids == ("EU-RO-1",)
    assert len(fake.creates) == 1


def _gpu(gpu_id: str, stock: dict[str, str]) -> GpuType:
    return GpuType.model_validate(
        {
            "id": gpu_id,
            "availability": "HIGH" if stock else "NONE",
            "dataCenters": [{"id": dc, "name": dc, "availability": a} for dc, a in stock.items()],
        }
    )


def test_build_candidates_orders_by_preference_then_stock() -> None:
    catalog = [
        _gpu("A", {"DC1": "LOW", "DC2": "HIGH", "DC3": "NONE", "DC4": "HIGH"}),
        _gpu("B", {"DC1": "MEDIUM"}),
        _gpu("C", {}),
    ]
    got = build_candidates(catalog, ["A", "B", "C", "D"], cloud=Cloud.SECURE)
    assert [(c.gpu_type_id, c.data_center_ids) for c in got] == [
        ("A", ("DC2",)),
        ("A", ("DC4",)),
        ("A", ("DC1",)),
        ("B", ("DC1",)),
        ("D", ()),  # not in the catalog: let the scheduler choose
    ]
    assert all(c.cloud is Cloud.SECURE for c in got)
    mine = build_candidates(catalog, ["A"], data_center_ids=["DC1", "DC3", "DC2"])
    assert [c.data_center_ids for c in mine] == [("DC1",), ("DC2",)]
