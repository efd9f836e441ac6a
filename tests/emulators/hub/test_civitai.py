"""The Civitai stand-in: public model-version metadata, downloads behind a login wall when the
creator asks for one, with Civitai's statuses and bodies (recorded facts, see
`comfyhangar.emulators.hub`)."""

from __future__ import annotations

import httpx

from comfyhangar.emulators.hub import DEMO_CIVITAI_KEY, HubEmulator
from tests.emulators.hub.conftest import Files, sha256

LOGIN_WALL = (
    b'{"error":"Unauthorized","message":"The creator of this asset requires you to be logged '
    b'in to download it"}'
)


async def test_a_model_version_lists_its_files_with_size_hash_and_download_url(
    hub: HubEmulator, http: httpx.AsyncClient, files: Files
) -> None:
    response = await http.get(f"{hub.civitai_url}/api/v1/model-versions/700001")
    assert response.status_code == 200, "metadata is public even behind a login wall"
    body = response.json()
    assert (body["id"], body["modelId"], body["model"]["type"]) == (700001, 600001, "LORA")
    (file,) = body["files"]
    assert file["name"] == "lora.safetensors"
    assert file["sizeKB"] * 1024 == len(files.lora)
    assert (file["type"], file["primary"]) == ("Model", True)
    assert file["hashes"]["SHA256"] == sha256(files.lora).upper()
    assert (
        file["downloadUrl"]
        == body["downloadUrl"]
        == (f"{hub.civitai_url}/api/download/models/700001")
    )


async def test_unknown_and_malformed_ids(hub: HubEmulator, http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{hub.civitai_url}/api/v1/model-versions/42")
    assert (missing.status_code, missing.json()) == (404, {"error": "Model not found"})
    bad = await http.get(f"{hub.civitai_url}/api/v1/model-versions/abc")
    assert (bad.status_code, bad.json()) == (400, {"error": "Invalid id: abc"})
    gone = await http.get(f"{hub.civitai_url}/api/download/models/42")
    assert (gone.status_code, gone.json()) == (404, {"error": "Model not found"})


async def test_a_download_that_needs_a_login_is_refused_without_an_api_key(
    hub: HubEmulator, http: httpx.AsyncClient, files: Files
) -> None:
    link = f"{hub.civitai_url}/api/download/models/700001"
    anonymous = await http.get(link)
    assert anonymous.status_code == 401
    assert anonymous.content == LOGIN_WALL
    assert len(anonymous.content) == 106
    not_a_key = await http.get(link, headers={"Authorization": "Bearer hello"})
    assert not_a_key.status_code == 401

    for how in ({"headers": {"Authorization": f"Bearer {DEMO_CIVITAI_KEY}"}},
                {"params": {"token": DEMO_CIVITAI_KEY}}):  # fmt: skip
        redirect = await http.get(link, **how)  # type: ignore[arg-type]
        assert redirect.status_code == 307
        got = await http.get(redirect.headers["location"])
        assert got.content == files.lora
        assert got.headers["content-disposition"] == 'attachment; filename="lora.safetensors"'


async def test_an_open_download_redirects_to_the_cdn_without_a_key(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    redirect = await http.head(f"{hub.civitai_url}/api/download/models/128713")
    assert redirect.status_code == 307
    head = await http.head(redirect.headers["location"])
    assert head.headers["content-length"] == "2132625920"
    assert 'filename="dreamshaper_8.safetensors"' in head.headers["content-disposition"]
