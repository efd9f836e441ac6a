"""Endpoints: paths, query parameters, headers, pagination (against a mock transport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from comfyhangar import __version__
from comfyhangar.runpod import RunPodError
from comfyhangar.runpod.models import (
    CreateNetworkVolumeRequest,
    CreatePodRequest,
    UpdateNetworkVolumeRequest,
)
from tests.runpod.helpers import API_KEY, mock_client, pod_json
from tests.support.spec import require_spec

VOLUME = {"id": "v1", "name": "models", "size": 100, "dataCenter": "EU-RO-1", "type": "STANDARD"}
TEMPLATE = {"id": "t1", "name": "comfy", "image": "img", "serverless": False}
GPU = {
    "id": "NVIDIA GeForce RTX 4090",
    "name": "RTX 4090",
    "pool": "ADA_24",
    "manufacturer": "NVIDIA",
    "memory": 24,
    "secure": True,
    "community": True,
    "price": {"secure": 0.69, "community": 0.34},
    "maxCount": {"secure": 8, "community": 8},
}


class Recorder:
    """Answers by (method, path) and records every request."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.routes[(request.method, request.url.path)]
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, httpx.Response):
            return answer
        status = 201 if request.method == "POST" and answer is not None else 200
        return httpx.Response(204) if answer is None else httpx.Response(status, json=answer)


def _pages(request: httpx.Request) -> dict[str, Any]:
    cursor = request.url.params.get("cursor")
    if cursor is None:
        return {"pods": [pod_json("a"), pod_json("b")], "pagination": {"nextCursor": "c2"}}
    if cursor == "c2":
        return {
            "pods": [pod_json("c"), pod_json("d")],
            "pagination": {"nextCursor": "c3", "hasNextPage": True},
        }
    return {"pods": [pod_json("e")], "pagination": {"nextCursor": None, "hasNextPage": False}}


async def test_list_pods_follows_cursor_pages() -> None:
    recorder = Recorder({("GET", "/v2/pods"): _pages})
    async with mock_client(recorder) as client:
        pods = await client.list_pods()
    assert [p.id for p in pods] == ["a", "b", "c", "d", "e"]
    assert [r.url.params.get("cursor") for r in recorder.requests] == [None, "c2", "c3"]


async def test_list_pods_without_pagination_and_repeated_cursor() -> None:
    recorder = Recorder({("GET", "/v2/pods"): {"pods": [pod_json("only")]}})
    async with mock_client(recorder) as client:
        assert [p.id for p in await client.list_pods(include_cluster_pods=True)] == ["only"]
    assert recorder.requests[0].url.params["includeClusterPods"] == "true"

    loop = {"pods": [pod_json("x")], "pagination": {"nextCursor": "same"}}
    async with mock_client(Recorder({("GET", "/v2/pods"): loop})) as client:
        with pytest.raises(RunPodError, match="repeated"):
            await client.list_pods()


async def test_headers() -> None:
    recorder = Recorder({("GET", "/v2/pods/p1"): pod_json("p1")})
    async with mock_client(recorder) as client:
        await client.get_pod("p1")
    headers = recorder.requests[0].headers
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["user-agent"] == f"comfyhangar/{__version__}"


@pytest.mark.spec
async def test_every_endpoint_hits_a_spec_operation() -> None:
    spec = require_spec()
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    billing = {"records": [], "metadata": {"recordCount": 0}}
    recorder = Recorder(
        {
            ("GET", "/v2/pods"): {"pods": []},
            ("POST", "/v2/pods"): pod_json("new", status="PROVISIONING"),
            ("GET", "/v2/pods/p1"): pod_json("p1"),
            ("PATCH", "/v2/pods/p1"): pod_json("p1", name="n2"),
            ("DELETE", "/v2/pods/p1"): None,
            ("POST", "/v2/pods/p1/action"): lambda r: (
                httpx.Response(204)
                if json.loads(r.content)["action"] == "terminate"
                else httpx.Response(200, json=pod_json("p1"))
            ),
            ("GET", "/v2/catalog/gpus"): {"gpus": [GPU]},
            ("GET", "/v2/catalog/gpus/NVIDIA GeForce RTX 4090"): GPU,
            ("GET", "/v2/catalog/datacenters"): {"dataCenters": [{"id": "EU-RO-1"}]},
            ("GET", "/v2/catalog/datacenters/EU-RO-1"): {"id": "EU-RO-1"},
            ("GET", "/v2/catalog/templates"): {"templates": [TEMPLATE]},
            ("GET", "/v2/network-volumes"): {"networkVolumes": [VOLUME]},
            ("POST", "/v2/network-volumes"): VOLUME,
            ("GET", "/v2/network-volumes/v1"): VOLUME,
            ("PATCH", "/v2/network-volumes/v1"): VOLUME,
            ("DELETE", "/v2/network-volumes/v1"): None,
            ("GET", "/v2/templates"): {"templates": [TEMPLATE]},
            ("GET", "/v2/templates/t1"): TEMPLATE,
            ("GET", "/v2/billing/pods"): billing,
            ("GET", "/v2/billing/network-volumes"): billing,
        }
    )
    from comfyhangar.runpod.models import UpdatePodRequest

    async with mock_client(recorder) as client:
        await client.list_pods()
        await client.create_pod(CreatePodRequest(name="n", image="i", gpu={"id": "g"}))
        await client.get_pod("p1")
        await client.update_pod("p1", UpdatePodRequest(name="n2"))
        await client.delete_pod("p1")
        for action in (client.start_pod, client.stop_pod, client.restart_pod):
            assert (await action("p1")).id == "p1"
        await client.terminate_pod("p1")
        gpus = await client.list_gpu_types(
            include_availability=True, cloud="SECURE", count=2, min_cuda_version="12.4"
        )
        assert gpus[0].price.secure is not None
        await client.get_gpu_type("NVIDIA GeForce RTX 4090")
        await client.list_data_centers(include_gpu_availability=True, regions=["EUROPE"])
        await client.get_data_center("EU-RO-1")
        await client.list_public_templates(source="official")
        await client.list_network_volumes()
        await client.create_network_volume(
            CreateNetworkVolumeRequest(name="m", size=100, data_center="EU-RO-1")
        )
        await client.get_network_volume("v1")
        await client.update_network_volume("v1", UpdateNetworkVolumeRequest(name="x"))
        await client.delete_network_volume("v1")
        assert (await client.list_templates())[0].id == "t1"
        await client.get_template("t1")
        await client.pod_billing(start_time=now - timedelta(days=1), end_time=now, pod_id="p1")
        await client.network_volume_billing(last_n=3, bucket_size="hour", network_volume_id="v1")
    for request in recorder.requests:
        body = json.loads(request.content) if request.content else None
        spec.validate_request(request.method, request.url.path, body)
    params = {r.url.path: dict(r.url.params) for r in recorder.requests}
    assert params["/v2/catalog/gpus"] == {
        "include": "AVAILABILITY",
        "product": "POD",
        "count": "2",
        "cloud": "SECURE",
        "minCudaVersion": "12.4",
    }
    assert params["/v2/catalog/gpus/NVIDIA GeForce RTX 4090"] == {}
    assert params["/v2/catalog/datacenters"] == {"include": "GPU_AVAILABILITY", "regions": "EUROPE"}
    assert params["/v2/billing/pods"] == {
        "startTime": "2026-11-25T08:00:00Z",
        "endTime": "2026-11-26T08:00:00Z",
        "podId": "p1",
    }
    assert params["/v2/billing/network-volumes"] == {
        "bucketSize": "hour",
        "lastN": "3",
        "networkVolumeId": "v1",
    }
    gpu_request = next(r for r in recorder.requests if "RTX" in r.url.path)
    assert b"NVIDIA%20GeForce%20RTX%204090" in gpu_request.url.raw_path


async def test_argument_errors_are_caught_before_sending() -> None:
    recorder = Recorder({})
    async with mock_client(recorder) as client:
        with pytest.raises(ValueError, match="include_availability"):
            await client.list_gpu_types(cloud="SECURE")
        with pytest.raises(ValueError, match="mutually exclusive"):
            await client.pod_billing(last_n=2, start_time=datetime.now(UTC))
        with pytest.raises(ValueError, match="timezone"):
            await client.pod_billing(start_time=datetime(2026, 1, 1))  # noqa: DTZ001
        with pytest.raises(ValueError, match="empty"):
            await client.get_pod("")
        with pytest.raises(ValueError, match="source"):
            client.stream_logs("p", source="stderr")
    assert recorder.requests == []
