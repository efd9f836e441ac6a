"""Preflight in the embedded default, against the built-in Hugging Face and Civitai stand-ins: a
gated model without a token, a token without access or an invalid one, a missing repo, file or
Civitai version, a Civitai login wall, a plain URL the simulated cloud cannot reach, or a disk
too small is refused before any deployment is stored or any pod is created; every preset
passes; `POST /preflight` returns the resolved sizes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfyhangar.agent.manifest import Policy, parse_manifest
from comfyhangar.emulators.hub import (
    DEMO_CIVITAI_KEY,
    DEMO_HF_TOKEN,
    NO_ACCESS_HF_TOKEN,
    CivitaiFile,
    CivitaiVersion,
    HubEmulator,
    HubFile,
)
from comfyhangar.emulators.hub.content import Stored
from comfyhangar.server.services.preflight import Preflight
from comfyhangar.server.services.presets import PRESETS
from comfyhangar.server.settings import Settings
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, running_hangar
from tests.support.servers import free_port, running_server

GATED_REPO = "black-forest-labs/FLUX.1-dev"
OPEN_REPO = "black-forest-labs/FLUX.1-schnell"


@pytest.fixture
async def hangar_pf(tmp_path: Path) -> AsyncIterator[Hangar]:
    """A server with no RunPod key and no endpoints set: preflight asks the stand-ins."""
    async with running_hangar(fast_settings(tmp_path, preflight=True), timeout=20) as hangar:
        yield hangar


def hub_of(hangar: Hangar) -> HubEmulator:
    hub = hangar.runtime.cloud.hub
    assert hub is not None
    return hub


def hf(repo: str, file: str, folder: str = "diffusion_models") -> dict[str, Any]:
    return {"folder": folder, "source": {"type": "huggingface", "repo": repo, "file": file}}


def civitai(version_id: int, name: str = "civitai.safetensors") -> dict[str, Any]:
    return {
        "folder": "loras",
        "name": name,
        "source": {"type": "civitai", "version_id": version_id},
    }


GATED = hf(GATED_REPO, "flux1-dev.safetensors")
AE = hf(OPEN_REPO, "ae.safetensors", "vae")


def deploy(models: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**FLUX_DEPLOY, "manifest": {"version": 1, "models": models}, **extra}


async def _nothing_made(hangar: Hangar) -> None:
    assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []
    await hangar.cycles(2)
    assert hangar.emulator.all_pods == [], "no pod may exist after a refused deploy"


async def test_the_gated_preset_without_a_token_is_refused_naming_the_token(
    hangar_pf: Hangar,
) -> None:
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json={**FLUX_DEPLOY, "preset": "flux-dev"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "preflight_failed"
    (error,) = problem["errors"]
    assert error["field"] == "manifest.models.0"
    assert "flux1-dev.safetensors" in error["message"]
    assert "needs a Hugging Face token (hf_token)" in error["message"]
    # A newcomer learns which token gets past it in the simulated cloud.
    assert (
        f"in the simulated cloud any token shaped hf_ plus 34 letters or digits has access, for example {DEMO_HF_TOKEN}"
        in error["message"]
    )
    await _nothing_made(hangar_pf)


async def test_a_token_without_access_or_an_invalid_one_is_refused_and_never_echoed(
    hangar_pf: Hangar,
) -> None:
    hub = hub_of(hangar_pf)
    for token, words in (
        (NO_ACCESS_HF_TOKEN, "the Hugging Face token has no access"),
        ("hf_tooShort", "Hugging Face refused the token (hf_token) as invalid credentials"),
    ):
        response = await hangar_pf.http.post(
            "/api/v1/deployments", json=deploy([GATED], hf_token=token)
        )
        assert response.status_code == 422, response.text
        assert words in response.json()["errors"][0]["message"]
        assert token not in response.text
    asked = [r for r in hub.requests if r.path.endswith("/flux1-dev.safetensors")]
    assert [r.authorized for r in asked] == [True, True], "the token went to the hub"
    await _nothing_made(hangar_pf)


async def test_with_a_token_that_has_access_the_deployment_goes_ahead(hangar_pf: Hangar) -> None:
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json=deploy([GATED, AE], hf_token=DEMO_HF_TOKEN)
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "pending"
    assert DEMO_HF_TOKEN not in response.text
    calls = [(r.service, r.authorized) for r in hub_of(hangar_pf).requests]
    assert ("hf", True) in calls
    assert ("cdn", True) not in calls, "the token never followed the redirect"


async def test_every_preset_passes_preflight_with_its_real_sizes(hangar_pf: Hangar) -> None:
    for preset in PRESETS.values():
        body = {"preset": preset.id, "hf_token": DEMO_HF_TOKEN, "volume_gb": 100}
        response = await hangar_pf.http.post("/api/v1/preflight", json=body)
        assert response.status_code == 200, (preset.id, response.text)
        sizes = [m["size"] for m in response.json()["models"]]
        assert sizes == [m.size for m in preset.models], preset.id


async def test_a_disk_too_small_for_the_models_is_refused(hangar_pf: Hangar) -> None:
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json=deploy([GATED, AE], hf_token=DEMO_HF_TOKEN, volume_gb=30)
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "volume_gb"
    assert "ask for at least 35 GB" in error["message"]
    await _nothing_made(hangar_pf)


async def test_preflight_endpoint_resolves_sizes_without_deploying(hangar_pf: Hangar) -> None:
    models = [AE, civitai(128713, "dreamshaper.safetensors")]
    response = await hangar_pf.http.post(
        "/api/v1/preflight", json={"manifest": {"version": 1, "models": models}, "volume_gb": 20}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    sizes = [m["size"] for m in body["models"]]
    assert sizes == [335_304_388, 2_132_625_920]
    assert body["models"][1]["file_name"] == "dreamshaper_8.safetensors"
    assert body["required_bytes"] == sum(sizes) + 10_000_000_000
    assert (await hangar_pf.http.get("/api/v1/deployments")).json()["deployments"] == []
    assert hangar_pf.emulator.all_pods == []


async def test_preflight_endpoint_names_each_failing_model(hangar_pf: Hangar) -> None:
    hub = hub_of(hangar_pf)
    members = HubFile("members.safetensors", Stored(b"m" * 2048))
    hub.catalog.add_civitai_version(
        CivitaiVersion(999001, 999, "Members", "v1", files=[CivitaiFile(1, members)],
                       login_required=True)
    )  # fmt: skip
    url = {
        "folder": "upscale_models",
        "name": "x.pth",
        "source": {"type": "url", "url": "https://github.com/someone/x/releases/x.pth"},
    }
    models = [
        GATED,
        civitai(4242, "gone.safetensors"),
        civitai(999001, "members.safetensors"),
        url,
        hf(OPEN_REPO, "no-such-file.safetensors", "vae"),
        hf("nobody/nothing", "x.safetensors"),
    ]
    response = await hangar_pf.http.post(
        "/api/v1/preflight", json={"manifest": {"version": 1, "models": models}}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "preflight_failed"
    by_field = {e["field"]: e["message"] for e in problem["errors"]}
    assert "needs a Hugging Face token" in by_field["manifest.models.0"]
    assert "no Civitai model version 4242" in by_field["manifest.models.1"]
    assert "needs a Civitai token (civitai_token)" in by_field["manifest.models.2"]
    assert (
        "the simulated cloud only simulates Hugging Face and Civitai, not github.com"
        in (by_field["manifest.models.3"])
    )
    assert (
        "no-such-file.safetensors not found in Hugging Face repo" in by_field["manifest.models.4"]
    )
    assert "no Hugging Face repo nobody/nothing" in by_field["manifest.models.5"]

    ok = await hangar_pf.http.post(
        "/api/v1/preflight",
        json={"manifest": {"version": 1, "models": [models[2]]}, "civitai_token": DEMO_CIVITAI_KEY},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["models"][0]["size"] == 2048
    assert DEMO_CIVITAI_KEY not in ok.text


async def test_with_real_endpoints_a_url_source_is_asked_for_its_size() -> None:
    """Outside the simulated cloud a plain URL is a real host: its Content-Length counts."""

    async def plain(request: Request) -> Response:
        found = request.path_params["name"] == "upscaler.pth"
        return Response(status_code=200 if found else 404, headers={"content-length": "67040989"})

    app = Starlette(routes=[Route("/files/{name}", plain, methods=["GET", "HEAD"])])
    async with running_server(app) as base:
        manifest = parse_manifest(
            {
                "version": 1,
                "models": [
                    {"folder": "upscale_models", "name": n, "source": {"type": "url", "url": u}}
                    for n, u in (("a.pth", f"{base}/files/upscaler.pth"),
                                 ("b.pth", f"{base}/files/missing.pth"))
                ],
            },
            Policy(allow_insecure=True).with_hosts(["127.0.0.1"]),
        )  # fmt: skip
        result = await Preflight(base, base).run(manifest)
    assert [m.size for m in result.models] == [67_040_989, None]
    assert result.errors[0]["message"].endswith("127.0.0.1 answered 404")


def test_plain_http_endpoints_need_the_test_switch(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(data_dir=tmp_path, hf_endpoint="http://127.0.0.1:1")
    Settings(data_dir=tmp_path, hf_endpoint="http://127.0.0.1:1", insecure_allow_http=True)


async def test_an_unreachable_model_host_is_a_503_not_a_verdict_and_creates_nothing(
    tmp_path: Path,
) -> None:
    """Hugging Face not answering says nothing about the model: 503, try again; no pod."""
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = fast_settings(
        tmp_path, preflight=True, insecure_allow_http=True, hf_endpoint=dead, civitai_endpoint=dead
    )
    async with running_hangar(settings, timeout=20) as hangar:
        response = await hangar.http.post("/api/v1/deployments", json=deploy([AE]))
        assert response.status_code == 503, response.text
        problem = response.json()
        assert problem["code"] == "preflight_unavailable"
        assert "nothing was created" in problem["detail"]
        await _nothing_made(hangar)
