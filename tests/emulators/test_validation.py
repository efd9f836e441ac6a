"""Strict request validation: 422 with an `errors` array naming fields; 400 cross-field rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulators.conftest import RTX_4090, pod_body
from tests.support.runpod_emulator import EmulatorHandle


async def _errors(client: httpx.AsyncClient, body: Any, path: str = "/pods") -> list[str]:
    response = await client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Unprocessable Entity"
    return list(problem["errors"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (pod_body(bogus=1), "$: additional properties 'bogus' not allowed"),
        (pod_body(gpu={"id": RTX_4090, "count": 0}), "$.gpu.count: must be >= 1"),
        (pod_body(gpu={"id": RTX_4090, "count": "1"}), "$.gpu.count: expected integer"),
        (pod_body(gpu={"count": 1}), "$.gpu: missing properties 'id'"),
        (pod_body(disk=0), "$.disk: must be >= 1"),
        (pod_body(name=""), "$.name: length must be >= 1"),
        (pod_body(cloud="ALL"), "$.cloud: must be one of SECURE, COMMUNITY"),
        (pod_body(env={"A": 1}), "$.env.A: expected string"),
        (pod_body(ports="8188/http"), "$.ports: expected array"),
        (pod_body(globalNetworking="yes"), "$.globalNetworking: expected boolean"),
        (
            pod_body(gpu={"id": RTX_4090, "count": 1, "minCudaVersion": "12"}),
            "$.gpu.minCudaVersion: must match pattern ^\\d+\\.\\d+$",
        ),
        (
            pod_body(mounts={"persistent": {"size": 5, "path": "/w"}}),
            "$.mounts.persistent.size: must be >= 10",
        ),
        (
            pod_body(mounts={"network": [{"volumeId": "a", "path": "/a"}] * 2}),
            "$.mounts.network: must have at most 1 items",
        ),
        (
            pod_body(gpu={"id": RTX_4090, "count": 1, "x": 1}),
            "$.gpu: additional properties 'x' not allowed",
        ),
    ],
)
async def test_create_body_violations_name_the_field(
    handle: EmulatorHandle, client: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    assert expected in await _errors(client, body)
    assert handle.emu.pods == []


async def test_image_is_required_without_template(client: httpx.AsyncClient) -> None:
    body = pod_body()
    del body["image"], body["name"]
    errors = await _errors(client, body)
    assert "$: missing properties 'name'" in errors
    assert "$: missing properties 'image'" in errors


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (pod_body(cpu={"id": "cpu5c", "vcpuCount": 2}), "exactly one of gpu or cpu"),
        ({k: v for k, v in pod_body().items() if k != "gpu"}, "exactly one of gpu or cpu"),
        (
            {
                **{k: v for k, v in pod_body().items() if k != "gpu"},
                "cpu": {"id": "cpu5c", "vcpuCount": 2},
            },
            "CPU pods are not supported",
        ),
        (
            pod_body(
                gpu={
                    "id": RTX_4090,
                    "count": 1,
                    "allowedCudaVersions": ["12.8"],
                    "minCudaVersion": "12.4",
                }
            ),
            "mutually exclusive",
        ),
        (
            pod_body(
                mounts={
                    "persistent": {"size": 10, "path": "/p"},
                    "network": [{"volumeId": "x", "path": "/n"}],
                }
            ),
            "mutually exclusive",
        ),
        (pod_body(ports=["8188"]), "invalid port"),
        (pod_body(dataCenterIds=["MARS-1"]), "unknown data center"),
        (pod_body(gpu={"id": RTX_4090, "count": 99}), "exceeds the largest"),
    ],
)
async def test_cross_field_rules_are_400(
    client: httpx.AsyncClient, body: dict[str, Any], detail: str
) -> None:
    response = await client.post("/pods", json=body)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]


async def test_cuda_constraints_pick_a_matching_host(client: httpx.AsyncClient) -> None:
    floor = pod_body(gpu={"id": RTX_4090, "count": 1, "minCudaVersion": "12.8"})
    pod = (await client.post("/pods", json=floor)).json()
    assert pod["cudaVersion"] in ("12.8", "12.9")
    exact = pod_body(gpu={"id": RTX_4090, "count": 1, "allowedCudaVersions": ["12.4"]})
    pinned = await client.post("/pods", json=exact)
    assert pinned.json()["cudaVersion"] == "12.4"
    never = pod_body(gpu={"id": RTX_4090, "count": 1, "allowedCudaVersions": ["9.0"]})
    assert (await client.post("/pods", json=never)).status_code == 400
    empty = pod_body(
        gpu={"id": RTX_4090, "count": 1, "allowedCudaVersions": [], "minCudaVersion": "12.0"}
    )
    assert (await client.post("/pods", json=empty)).status_code == 201


async def test_unknown_gpu_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/pods", json=pod_body(gpu={"id": "NVIDIA GTX 9999", "count": 1}))
    assert response.status_code == 404


async def test_bad_json_and_other_bodies(client: httpx.AsyncClient) -> None:
    response = await client.post("/pods", content=b"{not json")
    assert response.status_code == 400
    assert await _errors(client, [1, 2]) == ["$: expected object"]
    pod_id = (await client.post("/pods", json=pod_body())).json()["id"]
    action = await client.post(f"/pods/{pod_id}/action", json={"action": "stop", "now": True})
    assert action.status_code == 422
    assert "$: additional properties 'now' not allowed" in action.json()["errors"]
    patch = await client.patch(f"/pods/{pod_id}", json={"gpu": {"id": RTX_4090}})
    assert patch.status_code == 422


async def test_unknown_path_404_and_wrong_method_405(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.put("/pods")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, POST"
    assert wrong.json()["status"] == 405
    assert (await client.get("/clusters")).status_code == 501


async def test_authentication_comes_before_routing(handle: EmulatorHandle) -> None:
    async with httpx.AsyncClient(base_url=handle.base_url) as anonymous:
        assert (await anonymous.get("/nothing-here")).status_code == 401
