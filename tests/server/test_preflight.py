"""Preflight against local stand-ins for Hugging Face and Civitai: a gated model without a
token, a token without access, a bad Civitai id or a disk too small is refused before any
deployment is stored or any pod is created; `POST /preflight` returns the resolved sizes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from comfyhangar.server.settings import Settings
from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, running_hangar
from tests.support.servers import free_port, running_server

GOOD = "hf_goodTokenWithAccess0123456789"
CIVITAI_GOOD = "civitaiGoodToken0123456789"
GATED_REPO = "black-forest-labs/FLUX.1-dev"
OPEN_REPO = "black-forest-labs/FLUX.1-schnell"
FILES: dict[tuple[str, str], int] = {
    (GATED_REPO, "flux1-dev.safetensors"): 23_802_932_552,
    (OPEN_REPO, "ae.safetensors"): 335_304_388,
}
CIVITAI: dict[int, tuple[str, float, bool]] = {
    128713: ("dreamshaper_8.safetensors", 2_082_642.5, False),
    999001: ("members-only.safetensors", 1024.0, True),
}


class StandIn:
    """Hugging Face (`/resolve/` with X-Linked-Size and a redirect), Civitai's model-version
    API, and a plain file host, on one local server; `auth` records what each path got."""

    def __init__(self) -> None:
        self.auth: list[tuple[str, str | None]] = []
        self.app = Starlette(
            routes=[
                Route(
                    "/{org}/{repo}/resolve/{rev}/{file:path}", self.resolve, methods=["GET", "HEAD"]
                ),
                Route("/cdn/{key:path}", self.cdn, methods=["GET", "HEAD"]),
                Route("/api/v1/model-versions/{vid:int}", self.civitai),
                Route("/files/{name}", self.plain, methods=["GET", "HEAD"]),
            ]
        )

    async def resolve(self, request: Request) -> Response:
        auth = request.headers.get("authorization")
        self.auth.append((request.url.path, auth))
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        size = FILES.get((repo, request.path_params["file"]))
        if size is None:
            return Response("not found", status_code=404)
        if repo == GATED_REPO and auth != f"Bearer {GOOD}":
            return Response("gated", status_code=401 if auth is None else 403)
        return RedirectResponse(
            f"/cdn/{repo}/{request.path_params['file']}",
            status_code=302,
            headers={"X-Linked-Size": str(size)},
        )

    async def cdn(self, request: Request) -> Response:
        self.auth.append((request.url.path, request.headers.get("authorization")))
        return Response(status_code=200, headers={"content-length": "0"})

    async def civitai(self, request: Request) -> Response:
        auth = request.headers.get("authorization")
        self.auth.append((request.url.path, auth))
        found = CIVITAI.get(request.path_params["vid"])
        if found is None:
            return JSONResponse({"error": "No model version"}, status_code=404)
        name, size_kb, members_only = found
        if members_only and auth != f"Bearer {CIVITAI_GOOD}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse(
            {
                "id": request.path_params["vid"],
                "files": [
                    {"name": "config.yaml", "sizeKB": 1.0, "type": "Config"},
                    {"name": name, "sizeKB": size_kb, "type": "Model", "primary": True},
                ],
            }
        )

    async def plain(self, request: Request) -> Response:
        if request.path_params["name"] != "upscaler.pth":
            return Response(status_code=404)
        return Response(status_code=200, headers={"content-length": "67040989"})


@pytest.fixture
async def standin() -> AsyncIterator[tuple[StandIn, str]]:
    hub = StandIn()
    async with running_server(hub.app) as base:
        yield hub, base


@contextlib.asynccontextmanager
async def preflight_hangar(tmp_path: Path, endpoint: str) -> AsyncIterator[Hangar]:
    """A server whose preflight asks `endpoint` for Hugging Face and Civitai alike."""
    settings = fast_settings(
        tmp_path,
        preflight=True,
        insecure_allow_http=True,
        hf_endpoint=endpoint,
        civitai_endpoint=endpoint,
        allowed_download_hosts="127.0.0.1",
    )
    async with running_hangar(settings, timeout=20) as hangar:
        yield hangar


@pytest.fixture
async def hangar_pf(tmp_path: Path, standin: tuple[StandIn, str]) -> AsyncIterator[Hangar]:
    _, base = standin
    async with preflight_hangar(tmp_path, base) as hangar:
        yield hangar


def hf(repo: str, file: str, folder: str = "diffusion_models") -> dict[str, Any]:
    return {"folder": folder, "source": {"type": "huggingface", "repo": repo, "file": file}}


GATED = hf(GATED_REPO, "flux1-dev.safetensors")
AE = hf(OPEN_REPO, "ae.safetensors", "vae")


def deploy(models: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**FLUX_DEPLOY, "manifest": {"version": 1, "models": models}, **extra}


async def _nothing_made(hangar: Hangar) -> None:
    assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []
    await hangar.cycles(2)
    assert hangar.emulator.all_pods == [], "no pod may exist after a refused deploy"


async def test_a_gated_model_without_a_token_is_refused_naming_it_and_no_pod_exists(
    hangar_pf: Hangar,
) -> None:
    response = await hangar_pf.http.post("/api/v1/deployments", json=deploy([AE, GATED]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "preflight_failed"
    (error,) = problem["errors"]
    assert error["field"] == "manifest.models.1"
    assert "flux1-dev.safetensors" in error["message"]
    assert "needs a Hugging Face token" in error["message"]
    await _nothing_made(hangar_pf)


async def test_a_token_without_access_is_refused_and_never_echoed(
    hangar_pf: Hangar, standin: tuple[StandIn, str]
) -> None:
    wrong = "hf_wrongTokenNoAccess0123456789"
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json=deploy([GATED], hf_token=wrong)
    )
    assert response.status_code == 422, response.text
    assert "no access" in response.json()["errors"][0]["message"]
    assert wrong not in response.text
    await _nothing_made(hangar_pf)
    hub, _ = standin
    assert (f"/{GATED_REPO}/resolve/main/flux1-dev.safetensors", f"Bearer {wrong}") in hub.auth


async def test_with_a_good_token_the_deployment_goes_ahead(
    hangar_pf: Hangar, standin: tuple[StandIn, str]
) -> None:
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json=deploy([GATED, AE], hf_token=GOOD)
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "pending"
    assert GOOD not in response.text
    hub, _ = standin
    gated = f"/{GATED_REPO}/resolve/main/flux1-dev.safetensors"
    assert (gated, f"Bearer {GOOD}") in hub.auth, "the gated file was asked with the token"
    cdn = {path for path, _ in hub.auth if path.startswith("/cdn/")}
    assert cdn == {f"/cdn/{GATED_REPO}/flux1-dev.safetensors", f"/cdn/{OPEN_REPO}/ae.safetensors"}


async def test_a_disk_too_small_for_the_models_is_refused(hangar_pf: Hangar) -> None:
    response = await hangar_pf.http.post(
        "/api/v1/deployments", json=deploy([GATED, AE], hf_token=GOOD, volume_gb=30)
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "volume_gb"
    assert "ask for at least 35 GB" in error["message"]
    await _nothing_made(hangar_pf)


async def test_preflight_endpoint_resolves_sizes_without_deploying(hangar_pf: Hangar) -> None:
    base = hangar_pf.runtime.settings.hf_endpoint
    models = [
        AE,
        {
            "folder": "checkpoints",
            "name": "dreamshaper.safetensors",
            "source": {"type": "civitai", "version_id": 128713},
        },
        {
            "folder": "upscale_models",
            "name": "up.pth",
            "source": {"type": "url", "url": f"{base}/files/upscaler.pth"},
        },
    ]
    response = await hangar_pf.http.post(
        "/api/v1/preflight",
        json={"manifest": {"version": 1, "models": models}, "volume_gb": 20},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    sizes = [m["size"] for m in body["models"]]
    assert sizes == [335_304_388, round(2_082_642.5 * 1024), 67_040_989]
    assert body["models"][1]["file_name"] == "dreamshaper_8.safetensors"
    assert body["total_bytes"] == sum(sizes)
    assert body["required_bytes"] == sum(sizes) + 10_000_000_000
    assert (await hangar_pf.http.get("/api/v1/deployments")).json()["deployments"] == []
    assert hangar_pf.emulator.all_pods == []


async def test_preflight_endpoint_names_each_failing_model(hangar_pf: Hangar) -> None:
    base = hangar_pf.runtime.settings.hf_endpoint
    models = [
        GATED,
        {
            "folder": "loras",
            "name": "gone.safetensors",
            "source": {"type": "civitai", "version_id": 4242},
        },
        {
            "folder": "loras",
            "name": "members.safetensors",
            "source": {"type": "civitai", "version_id": 999001},
        },
        {
            "folder": "upscale_models",
            "name": "x.pth",
            "source": {"type": "url", "url": f"{base}/files/missing.pth"},
        },
        hf(OPEN_REPO, "no-such-file.safetensors", "vae"),
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
    assert "needs a Civitai token" in by_field["manifest.models.2"]
    assert "answered 404" in by_field["manifest.models.3"]
    assert "not found" in by_field["manifest.models.4"]
    ok = await hangar_pf.http.post(
        "/api/v1/preflight",
        json={
            "manifest": {"version": 1, "models": [models[2]]},
            "civitai_token": CIVITAI_GOOD,
        },
    )
    assert ok.status_code == 200, ok.text
    assert CIVITAI_GOOD not in ok.text


async def test_preflight_of_a_preset_checks_its_gated_model(hangar_pf: Hangar) -> None:
    # The stand-in only hosts two files: the preset's others answer 404, but the gated one
    # must say it needs a token.
    response = await hangar_pf.http.post("/api/v1/preflight", json={"preset": "flux-dev"})
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "flux1-dev.safetensors" in messages
    assert "needs a Hugging Face token" in messages


def test_plain_http_endpoints_need_the_test_switch(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(data_dir=tmp_path, hf_endpoint="http://127.0.0.1:1")
    Settings(data_dir=tmp_path, hf_endpoint="http://127.0.0.1:1", insecure_allow_http=True)


async def test_an_unreachable_model_host_is_a_503_not_a_verdict_and_creates_nothing(
    tmp_path: Path,
) -> None:
    """Hugging Face not answering says nothing about the model: 503, try again; no pod."""
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with preflight_hangar(tmp_path, dead) as hangar:
        response = await hangar.http.post("/api/v1/deployments", json=deploy([AE]))
        assert response.status_code == 503, response.text
        problem = response.json()
        assert problem["code"] == "preflight_unavailable"
        assert "nothing was created" in problem["detail"]
        await _nothing_made(hangar)
