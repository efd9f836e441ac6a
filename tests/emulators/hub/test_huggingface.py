"""The Hugging Face stand-in against what huggingface.co answers (recorded facts, see
`comfyhangar.emulators.hub`): redirects with the linked size and sha256, refusals with the
hub's status, `X-Error-Code`, `X-Error-Message` and body."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx

from comfyhangar.emulators.hub import DEMO_HF_TOKEN, NO_ACCESS_HF_TOKEN, HubEmulator
from comfyhangar.emulators.hub.content import git_blob_sha1
from tests.emulators.hub.conftest import GATED_REPO, OPEN_REPO, Files, sha256


def url(hub: HubEmulator, repo: str, file: str, revision: str = "main") -> str:
    return f"{hub.hf_url}/{repo}/resolve/{revision}/{file}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_lfs_file_is_a_302_to_the_cdn_with_linked_size_and_sha256(
    hub: HubEmulator, http: httpx.AsyncClient, files: Files
) -> None:
    head = await http.head(url(hub, "org/small", "model.safetensors"))
    assert head.status_code == 302
    h = head.headers
    assert h["x-linked-size"] == str(len(files.weights))
    assert h["x-linked-etag"] == h["etag"] == f'"{sha256(files.weights)}"'
    assert re.fullmatch(r"[0-9a-f]{40}", h["x-repo-commit"])
    assert h["accept-ranges"] == "bytes"
    assert h["x-powered-by"] == "huggingface-moon"
    assert h["x-request-id"].startswith("Root=1-")
    assert "X-Linked-Size" in h["access-control-expose-headers"]
    location = urlsplit(h["location"])
    assert location.port != urlsplit(hub.hf_url).port, "the CDN is another origin"
    assert head.content == b""

    got = await http.get(url(hub, "org/small", "model.safetensors"))
    assert got.status_code == 302
    assert got.text == f"Found. Redirecting to {got.headers['location']}"
    assert h["content-length"] == got.headers["content-length"] == str(len(got.content))
    assert int(h["content-length"]) != len(files.weights), "Content-Length is the redirect body's"

    followed = await http.get(url(hub, "org/small", "model.safetensors"), follow_redirects=True)
    assert followed.status_code == 200
    assert followed.content == files.weights
    assert followed.headers["content-disposition"].endswith('filename="model.safetensors";')


async def test_the_published_sha256_of_a_default_synthetic_file_is_that_of_its_bytes(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    """The catalog's 22 MB LoRA (synthetic content, sha256 from hashes.py), end to end."""
    link = url(hub, "XLabs-AI/flux-RealismLora", "lora.safetensors")
    head = await http.head(link)
    assert head.headers["x-linked-size"] == "22000000"
    got = await http.get(link, follow_redirects=True)
    assert len(got.content) == 22_000_000
    assert head.headers["x-linked-etag"] == f'"{sha256(got.content)}"'
    assert hub.bytes_served[sha256(got.content)] == 22_000_000


def test_every_default_file_has_a_precomputed_sha256() -> None:
    from comfyhangar.emulators.hub.catalog import default_synthetic_files
    from comfyhangar.emulators.hub.hashes import SYNTHETIC_SHA256

    seeds = {s.seed for s in default_synthetic_files()}
    assert seeds <= set(SYNTHETIC_SHA256), "run python -m comfyhangar.emulators.hub.hashes"


async def test_a_gated_repo_refuses_without_a_token_and_without_access(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    link = url(hub, GATED_REPO, "flux1-dev.safetensors")
    anonymous = await http.get(link)
    assert anonymous.status_code == 401
    message = (
        f"Access to model {GATED_REPO} is restricted. You must have access to it and be "
        "authenticated to access it. Please log in."
    )
    assert anonymous.headers["x-error-code"] == "GatedRepo"
    assert anonymous.headers["x-error-message"] == message
    assert anonymous.text == message
    assert anonymous.headers["content-type"] == "text/plain; charset=utf-8"
    assert anonymous.headers["www-authenticate"] == (
        'Bearer realm="Authentication required", charset="UTF-8"'
    )

    refused = await http.head(link, headers=bearer(NO_ACCESS_HF_TOKEN))
    assert refused.status_code == 403
    assert refused.headers["x-error-code"] == "GatedRepo"
    assert refused.headers["x-error-message"] == (
        f"Access to model {GATED_REPO} is restricted and you are not in the authorized list. "
        f"Visit https://huggingface.co/{GATED_REPO} to ask for access."
    )

    granted = await http.head(link, headers=bearer(DEMO_HF_TOKEN))
    assert granted.status_code == 302
    assert granted.headers["x-linked-size"] == "23802932552"


async def test_a_token_that_is_not_a_hugging_face_token_is_invalid_credentials(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    for repo, file in ((OPEN_REPO, "ae.safetensors"), (GATED_REPO, "ae.safetensors")):
        response = await http.head(url(hub, repo, file), headers=bearer("not-a-token"))
        assert response.status_code == 401
        assert response.headers["x-error-message"] == "Invalid credentials in Authorization header"
        assert "x-error-code" not in response.headers


async def test_a_missing_repo_is_401_to_anonymous_callers_and_404_with_a_token(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    link = url(hub, "nobody/nothing", "x.safetensors")
    anonymous = await http.get(link)
    assert anonymous.status_code == 401
    assert anonymous.headers["x-error-message"] == "Invalid username or password."
    assert "x-error-code" not in anonymous.headers
    assert len(anonymous.content) == 29
    known = await http.get(link, headers=bearer(DEMO_HF_TOKEN))
    assert known.status_code == 404
    assert known.headers["x-error-code"] == "RepoNotFound"


async def test_a_missing_file_and_a_missing_revision_are_404_with_their_codes(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    entry = await http.get(url(hub, OPEN_REPO, "nope.safetensors"))
    assert entry.status_code == 404
    assert entry.headers["x-error-code"] == "EntryNotFound"
    assert entry.headers["x-error-message"] == entry.text == "Entry not found"
    assert entry.headers["content-length"] == "15"
    assert re.fullmatch(r"[0-9a-f]{40}", entry.headers["x-repo-commit"])

    revision = await http.get(url(hub, OPEN_REPO, "ae.safetensors", revision="nope"))
    assert revision.status_code == 404
    assert revision.headers["x-error-code"] == "RevisionNotFound"
    assert json.loads(revision.content) == {"error": "Invalid rev id: nope"}


async def test_a_file_can_be_named_at_its_commit(hub: HubEmulator, http: httpx.AsyncClient) -> None:
    commit = (await http.head(url(hub, OPEN_REPO, "ae.safetensors"))).headers["x-repo-commit"]
    pinned = await http.head(url(hub, OPEN_REPO, "ae.safetensors", revision=commit))
    assert pinned.status_code == 302
    assert pinned.headers["x-repo-commit"] == commit


async def test_a_plain_git_file_is_served_by_the_hub_with_its_blob_id_and_ranges(
    hub: HubEmulator, http: httpx.AsyncClient
) -> None:
    repo = hub.catalog.hf[OPEN_REPO]
    readme = repo.files["README.md"]
    whole = await http.get(url(hub, OPEN_REPO, "README.md"))
    assert whole.status_code == 200
    assert whole.headers["etag"] == f'"{git_blob_sha1(readme.content)}"'
    assert whole.headers["x-repo-commit"] == repo.commit
    assert "x-linked-size" not in whole.headers
    assert whole.content.startswith(b"# black-forest-labs/FLUX.1-schnell")
    part = await http.get(url(hub, OPEN_REPO, "README.md"), headers={"Range": "bytes=2-6"})
    assert part.status_code == 206
    assert part.content == whole.content[2:7]
    assert part.headers["content-range"] == f"bytes 2-6/{len(whole.content)}"
