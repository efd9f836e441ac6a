"""The CDN behind both hubs: byte ranges (206, 416), presigned links, no token needed."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from comfyhangar.emulators.hub import DEMO_HF_TOKEN, HubCatalog, HubEmulator
from comfyhangar.server.cloud import serve_hub
from tests.emulators.hub.conftest import GATED_REPO, Files


async def cdn_link(hub: HubEmulator, http: httpx.AsyncClient, repo: str, file: str) -> str:
    auth = {"Authorization": f"Bearer {DEMO_HF_TOKEN}"}
    head = await http.head(f"{hub.hf_url}/{repo}/resolve/main/{file}", headers=auth)
    assert head.status_code == 302
    return head.headers["location"]


async def test_ranges_are_served_as_206_and_past_the_end_as_416(
    hub: HubEmulator, http: httpx.AsyncClient, files: Files
) -> None:
    link = await cdn_link(hub, http, "org/small", "model.safetensors")
    data, size = files.weights, len(files.weights)
    cases = {
        "bytes=0-0": (0, 1),
        "bytes=1048570-1048600": (1048570, 1048601),  # across a block boundary
        f"bytes={size - 10}-": (size - 10, size),
        "bytes=-7": (size - 7, size),
        f"bytes=5-{size + 100}": (5, size),
    }
    for header, (start, end) in cases.items():
        response = await http.get(link, headers={"Range": header})
        assert response.status_code == 206, header
        assert response.content == data[start:end], header
        assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
        assert response.headers["content-length"] == str(end - start)
    past = await http.get(link, headers={"Range": f"bytes={size}-"})
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{size}"
    ignored = await http.get(link, headers={"Range": "bytes=0-1,5-6"})
    assert ignored.status_code == 200, "not a single range: the whole file"
    assert ignored.content == data
    head = await http.head(link)
    assert (head.status_code, head.headers["content-length"], head.content) == (200, str(size), b"")


async def test_the_cdn_needs_no_token_and_httpx_does_not_send_one(
    hub: HubEmulator, http: httpx.AsyncClient, files: Files
) -> None:
    auth = {"Authorization": f"Bearer {DEMO_HF_TOKEN}"}
    link = f"{hub.hf_url}/{GATED_REPO}/resolve/main/tiny.safetensors"
    got = await http.get(link, headers=auth, follow_redirects=True)
    assert got.content == files.gated
    asked = [(r.service, r.authorized) for r in hub.requests]
    assert asked == [("hf", True), ("cdn", False)]


async def test_a_tampered_or_expired_link_is_access_denied(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    link = await cdn_link(hub, http, "org/small", "model.safetensors")
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query))
    other_name = {**query, "response-content-disposition": 'attachment; filename="x.exe"'}
    for params in (other_name, {k: v for k, v in query.items() if k != "Signature"}):
        forged = parts._replace(query=urlencode(params)).geturl()
        refused = await http.get(forged)
        assert refused.status_code == 403
        assert "<Code>AccessDenied</Code>" in refused.text

    now = [1_000_000.0]
    late = HubEmulator(HubCatalog(), url_ttl_s=60, clock=lambda: now[0])
    late.catalog.add_hf_file("org/x", "a.safetensors", b"abc")
    async with serve_hub(late):
        link = await cdn_link(late, http, "org/x", "a.safetensors")
        assert (await http.get(link)).content == b"abc"
        now[0] += 61
        expired = await http.get(link)
        assert expired.status_code == 403
        assert "Request has expired" in expired.text


def test_origins_must_be_set_before_use() -> None:
    with pytest.raises(RuntimeError, match="set_origins"):
        _ = HubEmulator(HubCatalog()).hf_url
