"""The manifest is validated by the server with the agent's parser, before anything is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, running_hangar

HF_MODEL: dict[str, Any] = {
    "folder": "vae",
    "source": {
        "type": "huggingface",
        "repo": "black-forest-labs/FLUX.1-schnell",
        "file": "ae.safetensors",
    },
}


def manifest(**extra: Any) -> dict[str, Any]:
    return {"version": 1, **extra}


@pytest.fixture
async def hangar_hosts(tmp_path: Path) -> AsyncIterator[Hangar]:
    """A server whose operator allows downloads from models.example.org too (a data directory
    of its own: one simulated cloud serves one server process)."""
    settings = fast_settings(
        tmp_path / "hosts", allowed_download_hosts="models.example.org, cdn.example.net"
    )
    async with running_hangar(settings) as hangar:
        yield hangar


async def _refused(hangar: Hangar, doc: Any) -> dict[str, Any]:
    response = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "manifest": doc})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"] == "invalid_input"
    assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []
    return problem


URL_MODEL = {"folder": "loras", "name": "x.safetensors", "source": {"type": "url", "url": ""}}


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ({"version": 2}, "manifest.version", "must be 1"),
        (
            manifest(
                models=[
                    HF_MODEL,
                    {**HF_MODEL, "name": "b.safetensors"},
                    {**URL_MODEL, "source": {"type": "url", "url": "https://evil.example/x"}},
                ]
            ),
            "manifest.models.2.source.url",
            "allow-list",
        ),
        (
            manifest(
                models=[{**URL_MODEL, "source": {"type": "url", "url": "http://huggingface.co/x"}}]
            ),
            "manifest.models.0.source.url",
            "scheme",
        ),
        (manifest(models=[{**HF_MODEL, "name": "../../etc/passwd"}]), "manifest.models.0.name", ""),
        (
            manifest(models=[{**HF_MODEL, "source": {**HF_MODEL["source"], "file": "a/../../b"}}]),
            "manifest.models.0.source.file",
            "",
        ),
        (manifest(models=[{**HF_MODEL, "folder": "../secrets"}]), "manifest.models.0.folder", ""),
        (manifest(comfyui={"ref": "--upload-pack=touch /tmp/pwned"}), "manifest.comfyui.ref", ""),
        (manifest(comfyui={"ref": "main; touch /tmp/pwned"}), "manifest.comfyui.ref", ""),
        (
            manifest(custom_nodes=[{"repo": "https://github.com/a/b", "ref": "$(touch /tmp/x)"}]),
            "manifest.custom_nodes.0.ref",
            "",
        ),
        (
            manifest(
                custom_nodes=[{"repo": "https://github.com/a/b", "ref": "main", "name": "`id`"}]
            ),
            "manifest.custom_nodes.0.name",
            "",
        ),
        (
            manifest(custom_nodes=[{"repo": "ext::sh -c touch% /tmp/pwned", "ref": "main"}]),
            "manifest.custom_nodes.0.repo",
            "",
        ),
        (manifest(pip=["requests", "--index-url=https://evil.example"]), "manifest.pip.1", ""),
        (manifest(pip=["x; touch /tmp/pwned"]), "manifest.pip.0", ""),
        (manifest(bogus=1), "manifest", "bogus"),
    ],
)
async def test_a_bad_manifest_is_a_422_naming_the_field_inside_it(
    hangar: Hangar, doc: dict[str, Any], field: str, words: str
) -> None:
    problem = await _refused(hangar, doc)
    assert problem["errors"][0]["field"] == field, problem
    assert words in problem["errors"][0]["message"]


async def test_a_good_manifest_is_accepted_and_stored(hangar: Hangar) -> None:
    doc = manifest(
        comfyui={"ref": "v0.3.60"},
        custom_nodes=[
            {"repo": "https://github.com/pythongosssss/ComfyUI-Custom-Scripts", "ref": "main"}
        ],
        models=[HF_MODEL],
        pip=["onnxruntime==1.20.1"],
    )
    response = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "manifest": doc})
    assert response.status_code == 201, response.text
    dep = await hangar.runtime.deployments.get(response.json()["id"])
    assert dep.spec["manifest"]["models"][0]["source"]["repo"] == "black-forest-labs/FLUX.1-schnell"


async def test_the_operator_extends_the_download_allow_list(
    hangar: Hangar, hangar_hosts: Hangar
) -> None:
    url = "https://models.example.org/files/x.safetensors"
    doc = manifest(models=[{**URL_MODEL, "source": {"type": "url", "url": url}}])
    problem = await _refused(hangar, doc)
    assert problem["errors"][0]["field"] == "manifest.models.0.source.url"
    response = await hangar_hosts.http.post(
        "/api/v1/deployments", json={**FLUX_DEPLOY, "manifest": doc}
    )
    assert response.status_code == 201, response.text
