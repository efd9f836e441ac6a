"""`HubEmulator`: the catalog, three ASGI apps (Hugging Face, Civitai, their CDN) and accounting.

Serve `hf_app`, `civitai_app` and `cdn_app` on three origins (three loopback ports), then tell
the emulator where they are with `set_origins` (redirects and `downloadUrl`s are absolute).
`resolve_hf` / `resolve_civitai` answer in process what a download would get, for the simulated
pods of the RunPod emulator, with the same rules as the routes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from comfyhangar.emulators.hub import cdn, civitai, huggingface, rules
from comfyhangar.emulators.hub.catalog import (
    CivitaiFile,
    CivitaiVersion,
    HfRepo,
    HubCatalog,
    HubFile,
)

Service = Literal["hf", "civitai", "cdn"]
#: How long a CDN link stays valid (Hugging Face's and Civitai's presigned URLs: about an hour).
URL_TTL_S = 3600.0
REQUEST_LOG = 10_000


@dataclass(frozen=True)
class HubRequest:
    """One request a stand-in received (whether it carried credentials, never their value)."""

    service: Service
    method: str
    path: str
    range: str | None
    authorized: bool


@dataclass(frozen=True)
class Download:
    """What a download of one file would get: its name, size and sha256, on `host`."""

    name: str
    size: int
    sha256: str
    host: str


class HubEmulator:
    """Stand-ins for Hugging Face and Civitai (and the CDN they redirect to).

    Tests read `requests` (what each service was asked, with or without a token) and
    `bytes_served` (CDN bytes per sha256), and add files to `catalog`.
    """

    def __init__(
        self,
        catalog: HubCatalog | None = None,
        *,
        url_ttl_s: float = URL_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog if catalog is not None else HubCatalog.default()
        self.requests: deque[HubRequest] = deque(maxlen=REQUEST_LOG)
        self.bytes_served: Counter[str] = Counter()
        self._origins: dict[Service, str] = {}
        self._objects: dict[str, HubFile] = {}
        self._signer = cdn.Signer(secrets.token_bytes(32), url_ttl_s, clock)
        self.hf_app = huggingface.build_app(self)
        self.civitai_app = civitai.build_app(self)
        self.cdn_app = cdn.build_app(self._objects.get, self._signer, self._record_cdn, self._count)

    # ---- where it runs ------------------------------------------------------------------

    def set_origins(self, *, hf: str, civitai: str, cdn: str) -> None:
        """The base URLs the three apps are served at (`http://127.0.0.1:PORT`)."""
        self._origins = {"hf": hf.rstrip("/"), "civitai": civitai.rstrip("/"), "cdn": cdn}

    @property
    def hf_url(self) -> str:
        """Where the Hugging Face stand-in answers (what `hf_endpoint` is set to)."""
        return self._origin("hf")

    @property
    def civitai_url(self) -> str:
        """Where the Civitai stand-in answers (what `civitai_endpoint` is set to)."""
        return self._origin("civitai")

    def _origin(self, service: Service) -> str:
        if service not in self._origins:
            raise RuntimeError("HubEmulator.set_origins() was not called")
        return self._origins[service].rstrip("/")

    # ---- in process (simulated pods) ----------------------------------------------------

    def resolve_hf(self, repo_id: str, revision: str, path: str, token: str | None) -> Download:
        """What downloading a Hugging Face file gets; raises the hub's `HubError`."""
        _, _, file = rules.hf_resolve(self.catalog, repo_id, revision, path, token)
        return Download(file.name, file.size, file.sha256, self.hf_url)

    def resolve_civitai(self, version_id: int, token: str | None) -> Download:
        """What downloading a Civitai model version gets; raises Civitai's `HubError`."""
        _, file = rules.civitai_download(self.catalog, version_id, token)
        return Download(file.name, file.size, file.blob.sha256, self.civitai_url)

    # ---- used by the apps ---------------------------------------------------------------

    def publish_hf(self, repo: HfRepo, file: HubFile, disposition: str) -> str:
        """A presigned CDN URL for an LFS file (path shaped like `cdn-lfs`'s)."""
        repo_hash = hashlib.sha256(repo.id.encode()).hexdigest()
        sha = file.sha256
        return self._publish(
            f"/repos/{repo_hash[:2]}/{repo_hash[2:4]}/{repo_hash}/{sha}", file, disposition
        )

    def publish_civitai(self, version: CivitaiVersion, file: CivitaiFile, disposition: str) -> str:
        """A presigned CDN URL for a Civitai file."""
        return self._publish(
            f"/model/{version.model_id}/{file.id}/{file.blob.sha256}", file.blob, disposition
        )

    def _publish(self, path: str, file: HubFile, disposition: str) -> str:
        self._objects[path] = file
        return f"{self._origin('cdn')}{path}?{self._signer.query(path, disposition)}"

    def record(self, service: Service, request: Request) -> None:
        """Note a request (path without query: signatures and `?token=` stay out)."""
        authorized = "authorization" in request.headers or "token" in request.query_params
        self.requests.append(
            HubRequest(
                service, request.method, request.url.path, request.headers.get("range"), authorized
            )
        )

    def _record_cdn(self, request: Request) -> None:
        self.record("cdn", request)

    def _count(self, file: HubFile, n: int) -> None:
        self.bytes_served[file.sha256] += n
