"""Caps on what one request may ask for: the body size, the models, nodes and pip packages of a
manifest, and the time preflight may take. Each refusal says which limit was hit, and nothing
is created."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfyhangar.agent.manifest import (
    MAX_CUSTOM_NODES,
    MAX_MODELS,
    MAX_PIP_REQUIREMENTS,
    Policy,
)
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.limits import MAX_BODY_BYTES
from comfyhangar.server.services.manifests import validate_manifest
from comfyhangar.server.services.preflight import Preflight, PreflightUnavailable
from tests.server.conftest import FLUX_DEPLOY, api, frozen_runtime
from tests.support.servers import running_server

RTX_4090 = "NVIDIA GeForce RTX 4090"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        yield runtime, http


async def _deployments(http: httpx.AsyncClient) -> list[Any]:
    return list((await http.get("/api/v1/deployments")).json()["deployments"])


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert f"{MAX_BODY_BYTES:,} bytes" in problem["detail"]


async def test_a_body_announced_too_large_is_refused_unread(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = served
    padding = " " * (MAX_BODY_BYTES + 1)
    body = json.dumps(FLUX_DEPLOY) + padding
    _assert_too_large(
        await http.post(
            "/api/v1/deployments", content=body, headers={"content-type": "application/json"}
        )
    )
    dep = (await http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    # A route that reads no body at all refuses it too (and does nothing).
    _assert_too_large(await http.post(f"/api/v1/deployments/{dep['id']}/stop", content=padding))
    assert (await http.get(f"/api/v1/deployments/{dep['id']}")).json()["desired_state"] == (
        "running"
    )
    assert [d["id"] for d in await _deployments(http)] == [dep["id"]]


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = served
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield json.dumps(FLUX_DEPLOY)[:-1].encode() + b', "env": {"A": "'
        for _ in range(4 * MAX_BODY_BYTES // 65536):
            sent += 65536
            yield b"x" * 65536
        yield b'"}}'

    response = await http.post(
        "/api/v1/deployments", content=chunks(), headers={"content-type": "application/json"}
    )
    _assert_too_large(response)
    assert sent < 2 * MAX_BODY_BYTES, "the whole body was read before refusing it"
    assert await _deployments(http) == []


async def test_a_body_within_the_limit_is_served(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = served
    body = json.dumps(FLUX_DEPLOY)
    body += " " * (MAX_BODY_BYTES - len(body))
    response = await http.post(
        "/api/v1/deployments", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "entry", "cap"),
    [
        (
            "models",
            lambda i: {
                "folder": "loras",
                "name": f"l{i}.safetensors",
                "source": {"type": "url", "url": f"https://huggingface.co/o/r/resolve/main/{i}"},
            },
            MAX_MODELS,
        ),
        (
            "custom_nodes",
            lambda i: {"name": f"n{i}", "repo": f"https://github.com/o/n{i}", "ref": "main"},
            MAX_CUSTOM_NODES,
        ),
        ("pip", lambda i: f"package-{i}==1.0", MAX_PIP_REQUIREMENTS),
    ],
)
async def test_a_manifest_beyond_its_caps_is_refused_at_once(
    served: tuple[Runtime, httpx.AsyncClient], field: str, entry: Any, cap: int
) -> None:
    _, http = served
    at_cap = {"version": 1, field: [entry(i) for i in range(cap)]}
    ok = await http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "manifest": at_cap})
    assert ok.status_code == 201, ok.text
    # 20,000 models once kept the POST open for minutes (preflight checked each one).
    count = 20_000 if field == "models" else cap + 1
    over = {"version": 1, field: [entry(i) for i in range(count)]}
    body = {**FLUX_DEPLOY, "name": "over", "manifest": over}
    response = await http.post("/api/v1/deployments", json=body)
    if len(json.dumps(body)) > MAX_BODY_BYTES:
        _assert_too_large(response)
        over[field] = over[field][: cap + 1]
        response = await http.post("/api/v1/deployments", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == f"manifest.{field}"
    assert f"at most {cap}" in error["message"]
    assert [d["name"] for d in await _deployments(http)] == [FLUX_DEPLOY["name"]]


async def test_a_preset_plus_models_beyond_the_cap_is_refused(
    served: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """The cap holds for what is installed: the preset's models count too."""
    _, http = served
    extra = [
        {
            "folder": "loras",
            "name": f"l{i}.safetensors",
            "source": {"type": "url", "url": f"https://huggingface.co/o/r/resolve/main/{i}"},
        }
        for i in range(MAX_MODELS)
    ]
    body = {**FLUX_DEPLOY, "preset": "flux-schnell", "manifest": {"models": extra}}
    response = await http.post("/api/v1/deployments", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "manifest.models"
    assert await _deployments(http) == []


async def test_preflight_stops_at_its_deadline_and_says_so() -> None:
    """A host that never answers cannot keep a deploy waiting past preflight's deadline."""
    asked = asyncio.Event()

    async def hang(_request: Request) -> Response:
        asked.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError  # pragma: no cover

    hub = Starlette(routes=[Route("/{path:path}", hang, methods=["GET", "HEAD"])])
    async with running_server(hub) as base:
        manifest = validate_manifest(
            {
                "version": 1,
                "models": [
                    {"folder": "vae", "source": {"type": "huggingface", "repo": "o/r", "file": f}}
                    for f in ("a.safetensors", "b.safetensors")
                ],
            },
            Policy(),
        )
        preflight = Preflight(base, base, timeout_s=120, deadline_s=0.5)
        async with asyncio.timeout(30):
            with pytest.raises(PreflightUnavailable) as refused:
                await preflight.run(manifest)
    assert asked.is_set()
    assert "preflight time limit" in refused.value.message
    assert "0.5 s" in refused.value.message
    assert "0 of 2 checked" in refused.value.message
    assert refused.value.details["limit"] == "preflight_deadline_s"
