"""Tokens: write-only download tokens and a pod token per deployment, in the create request
only; the one-click link; no token value in any API response, event stream or log line."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from comfyhangar.agent.pack import BUNDLE_ENV
from comfyhangar.server.services.secrets import load_secrets
from tests.server.conftest import FLUX_DEPLOY, Hangar

HF = "hf_SECRETvalueNeverShown0123456789abc"  # the shape of a real token (the stand-in checks)
CIVITAI = "civitaiSECRETvalue0123456789abcdef"


async def _events_text(base_url: str, until: int) -> str:
    chunks: list[str] = []
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=10) as http,
        http.stream("GET", "/api/v1/events", headers={"Last-Event-ID": "0"}) as stream,
    ):
        async for line in stream.aiter_lines():
            chunks.append(line)
            if line.startswith("data:") and json.loads(line[5:])["id"] >= until:
                break
    return "\n".join(chunks)


async def test_tokens_reach_the_pod_only_and_the_link_opens_comfyui(
    hangar: Hangar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body: dict[str, Any] = {
        **FLUX_DEPLOY,
        "preset": "flux-schnell",
        "hf_token": HF,
        "civitai_token": CIVITAI,
    }
    created = await hangar.http.post("/api/v1/deployments", json=body)
    assert created.status_code == 201, created.text
    dep_id = created.json()["id"]
    texts = [created.text]
    early = await hangar.http.get(f"/api/v1/deployments/{dep_id}/open", follow_redirects=False)
    assert early.status_code == 409
    ready = await hangar.wait_for(dep_id, "ready")
    assert ready["links"]["comfyui"] == f"/api/v1/deployments/{dep_id}/open"

    (pod,) = hangar.emulator.pods
    env = pod["env"]
    pod_token = env["HANGAR_POD_TOKEN"]
    assert len(pod_token) >= 32
    assert env["HF_TOKEN"] == HF
    assert env["CIVITAI_TOKEN"] == CIVITAI
    assert env[BUNDLE_ENV]
    assert "comfyhangar.agent" in pod["args"] or BUNDLE_ENV in pod["args"]

    opened = await hangar.http.get(f"/api/v1/deployments/{dep_id}/open", follow_redirects=False)
    assert opened.status_code == 307
    location = urlsplit(opened.headers["location"])
    # The simulated pod's ComfyUI is on this server (tests/server/test_simulated_comfyui.py).
    assert (location.scheme, location.netloc) == ("", "")
    assert location.path == f"/simulated-pods/{pod['id']}/comfyui/"
    assert parse_qs(location.query) == {"token": [pod_token]}
    assert opened.headers["cache-control"] == "no-store"

    for path in (
        "/api/v1/deployments",
        f"/api/v1/deployments/{dep_id}",
        f"/api/v1/deployments/{dep_id}/logs?lines=2000",
        "/api/v1/pods",
        "/api/v1/costs",
    ):
        response = await hangar.http.get(path)
        texts.append(response.text)
    await hangar.cycles(2)
    texts.append(await _events_text(hangar.base_url, hangar.runtime.events.last_id))
    # The server's log output (at DEBUG); httpx/httpcore records are this test's own client
    # tracing the redirect it received.
    for record in caplog.records:
        if record.name.split(".")[0] in ("httpx", "httpcore"):
            continue
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_text:
            texts.append(record.exc_text)
    everything = "\n".join(texts)
    for secret in (pod_token, HF, CIVITAI):
        assert secret not in everything

    # A second deployment gets its own pod token; no token at all leaves env alone.
    other = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "name": "plain"})
    other_id = other.json()["id"]
    await hangar.wait_for(other_id, "ready")
    other_pod = next(p for p in hangar.emulator.pods if p["id"] != pod["id"])
    assert other_pod["env"]["HANGAR_POD_TOKEN"] != pod_token
    assert "HF_TOKEN" not in other_pod["env"]
    assert "CIVITAI_TOKEN" not in other_pod["env"]


@pytest.mark.parametrize(
    "change",
    [
        {"hf_token": "bad token with spaces"},
        {"civitai_token": ""},
        {"env": {"HF_TOKEN": "x"}},
    ],
)
async def test_bad_tokens_are_refused_without_echoing_them(
    hangar: Hangar, change: dict[str, Any]
) -> None:
    response = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, **change})
    assert response.status_code == 422
    assert "bad token with spaces" not in response.text
    assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []


async def test_a_terminated_deployment_keeps_no_tokens(hangar: Hangar) -> None:
    body = {**FLUX_DEPLOY, "hf_token": HF, "civitai_token": CIVITAI}
    dep_id = (await hangar.http.post("/api/v1/deployments", json=body)).json()["id"]
    await hangar.wait_for(dep_id, "provisioning")
    assert set(await load_secrets(hangar.runtime.sessions, dep_id)) >= {"hf_token", "pod_token"}
    await hangar.http.delete(f"/api/v1/deployments/{dep_id}")
    await hangar.wait_for(dep_id, "terminated")
    assert await load_secrets(hangar.runtime.sessions, dep_id) == {}
