"""Wire models: lenient on what RunPod sends, exact on what we send (checked with the spec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from comfyhangar.runpod._wire import parse_timestamp
from comfyhangar.runpod.models import (
    Cloud,
    CreateGpuConfig,
    CreateNetworkVolumeRequest,
    CreatePodRequest,
    GpuType,
    MountsInput,
    NetworkMountInput,
    Pod,
    PodBillingReport,
    PodStatus,
    UpdateNetworkVolumeRequest,
    UpdatePodRequest,
)
from tests.runpod.helpers import pod_json
from tests.support.spec import SHARED_DIR, require_spec


def _spec_examples(path: str, method: str) -> Any:
    document = json.loads((SHARED_DIR / "runpod" / "openapi-rest-v2.json").read_text())
    content = document["paths"][path][method]["responses"]
    code = "201" if "201" in content else "200"
    examples = content[code]["content"]["application/json"]["examples"]
    return next(iter(examples.values()))["value"]


@pytest.mark.spec
def test_spec_examples_parse() -> None:
    require_spec()
    pods = _spec_examples("/v2/pods", "get")["pods"]
    pod = Pod.model_validate(pods[0])
    assert pod.status is PodStatus.RUNNING
    assert pod.gpu is not None
    assert pod.gpu.id == "NVIDIA GeForce RTX 4090"
    assert pod.cost == Decimal("0.44")
    assert pod.ssh.direct is not None
    assert pod.ssh.direct.port == 34446
    assert pod.runtime is not None
    assert pod.runtime.ports[0].public == 34446
    created = Pod.model_validate(_spec_examples("/v2/pods", "post"))
    assert created.status is PodStatus.PROVISIONING
    assert created.started_at is None


def test_pod_parsing_is_lenient() -> None:
    pod = Pod.model_validate(
        pod_json(
            cost="0.74",  # P13: numbers as strings
            status="PAUSED",  # a status this client does not know
            cudaVersion=12.8,
            createdAt="2026-10-04 11:09:24.633 +0000 UTC",  # Go's layout
            startedAt="garbage",
            env={"N": 3, "NULL": None},
            runtime={},  # the create example shows {} while provisioning
            mounts={"network": None},
            somethingNew={"x": 1},
        )
    )
    assert pod.cost == Decimal("0.74")
    assert pod.status is PodStatus.UNKNOWN
    assert pod.cuda_version == "12.8"
    assert pod.created_at == datetime(2026, 10, 4, 11, 9, 24, 633000, tzinfo=UTC)
    assert pod.started_at is None
    assert pod.env == {"N": "3", "NULL": ""}
    assert pod.runtime is not None
    assert pod.runtime.ports == []
    minimal = Pod.model_validate({"id": "x"})
    assert minimal.status is PodStatus.UNKNOWN
    assert minimal.gpu is None


def test_pod_repr_hides_env() -> None:
    pod = Pod.model_validate(pod_json(env={"HF_TOKEN": "hf_secret_value"}))
    assert "hf_secret_value" not in repr(pod)
    assert "hf_secret_value" not in str(pod)


def test_catalog_and_billing_are_lenient() -> None:
    gpu = GpuType.model_validate(
        {
            "id": "NVIDIA A40",
            "price": {"secure": "0.40", "community": 0.35},
            "maxCount": {"secure": 8, "community": 4},
            "availability": "SOMETIMES",
            "dataCenters": [{"id": "EU-RO-1", "name": "Romania", "availability": "HIGH"}],
            "cudaVersions": [{"version": 12.8, "available": True}],
        }
    )
    assert gpu.price.secure == Decimal("0.40")
    assert gpu.availability == "NONE"
    assert gpu.data_centers[0].availability.rank == 3
    assert gpu.cuda_versions[0].version == "12.8"
    report = PodBillingReport.model_validate(
        {"records": [{"podId": "p", "totalAmount": "1.25", "startTime": "2026-11-26T00:00:00Z"}]}
    )
    assert report.records[0].total_amount == Decimal("1.25")
    assert report.metadata.record_count == 0


def _create(**kwargs: Any) -> CreatePodRequest:
    base: dict[str, Any] = {"name": "hangar-1-x", "image": "img", "gpu": {"id": "NVIDIA A40"}}
    base.update(kwargs)
    return CreatePodRequest(**base)


@pytest.mark.spec
@pytest.mark.parametrize(
    "request_",
    [
        _create(),
        _create(
            gpu=CreateGpuConfig(id="NVIDIA L40S", count=2, allowed_cuda_versions=["12.8"]),
            cloud=Cloud.COMMUNITY,
            data_center_ids=["EU-RO-1"],
            env={"A": "1"},
            ports=["8188/http", "22/tcp"],
            args="bash -c 'x'",
            disk=40,
            registry=None,
            mounts=MountsInput(network=[NetworkMountInput(volume_id="v1", path="/workspace")]),
            start_ssh=True,
            global_networking=False,
        ),
        _create(
            image=None, template_id="30zmvf89kd", mounts={"persistent": {"size": 20, "path": "/w"}}
        ),
    ],
)
def test_create_request_serialises_to_valid_spec_bodies(request_: CreatePodRequest) -> None:
    spec = require_spec()
    body = request_.to_wire()
    spec.validate_request("POST", "/v2/pods", body)
    assert body["gpu"]["count"] >= 1  # P9: always sent
    assert all(v is not None for k, v in body.items() if k != "registry")


def test_create_request_exact_shape() -> None:
    assert _create().to_wire() == {
        "name": "hangar-1-x",
        "image": "img",
        "gpu": {"id": "NVIDIA A40", "count": 1},
    }
    assert _create(registry=None).to_wire()["registry"] is None  # explicit null is kept
    assert "registry" not in _create().to_wire()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bogus": 1},  # unknown field
        {"gpu": None},  # neither gpu nor cpu
        {"cpu": {"id": "cpu5c", "vcpu_count": 4}},  # both
        {"image": None},  # neither image nor template
        {"gpu": {"id": "g", "count": 0}},
        {"gpu": {"id": "g", "allowed_cuda_versions": ["12.8"], "min_cuda_version": "12.1"}},
        {"gpu": {"id": "g", "allowed_cuda_versions": ["12"]}},
        {"disk": "50"},  # strict: no coercion in requests
        {"mounts": {"persistent": {"size": 5, "path": "/w"}}},
        {"cloud": "ALL"},
    ],
)
def test_create_request_is_strict(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _create(**kwargs)


@pytest.mark.spec
def test_other_request_bodies_match_the_spec() -> None:
    spec = require_spec()
    spec.validate_request("PATCH", "/v2/pods/p1", UpdatePodRequest(name="n").to_wire())
    spec.validate_request(
        "PATCH", "/v2/pods/p1", UpdatePodRequest(registry=None, ports=[], env={}).to_wire()
    )
    assert UpdatePodRequest(locked=True).to_wire() == {"locked": True}
    volume = CreateNetworkVolumeRequest(name="models", size=100, data_center="EU-RO-1")
    spec.validate_request("POST", "/v2/network-volumes", volume.to_wire())
    assert volume.to_wire() == {"name": "models", "size": 100, "dataCenter": "EU-RO-1"}
    spec.validate_request(
        "PATCH", "/v2/network-volumes/v1", UpdateNetworkVolumeRequest(size=200).to_wire()
    )
    with pytest.raises(ValidationError):
        UpdateNetworkVolumeRequest()


def test_replace_keeps_fields_and_revalidates() -> None:
    request = _create(env={"A": "1"}, data_center_ids=["X"])
    changed = request.replace(name="other")
    assert changed.to_wire()["name"] == "other"
    assert changed.env == {"A": "1"}
    with pytest.raises(ValidationError):
        request.replace(name="")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-26T08:00:00Z", datetime(2026, 11, 26, 8, tzinfo=UTC)),
        ("2026-11-26T09:00:00+01:00", datetime(2026, 11, 26, 8, tzinfo=UTC)),
        ("2026-11-26 08:00:00 +0000 UTC", datetime(2026, 11, 26, 8, tzinfo=UTC)),
        ("2026-11-26T08:00:00", datetime(2026, 11, 26, 8, tzinfo=UTC)),
        (1_795_680_000, datetime(2026, 11, 26, 8, tzinfo=UTC)),
        (10**30, None),
        (True, None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_are_parsed_leniently(raw: object, expected: datetime | None) -> None:
    assert parse_timestamp(raw) == expected
