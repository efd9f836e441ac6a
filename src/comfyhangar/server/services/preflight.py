"""Preflight: what a manifest will download, checked before any pod (and any money) exists.

For each model: a Hugging Face file is asked for with the user's token (HEAD on
`{hf}/{repo}/resolve/{revision}/{file}`; the hub's `X-Error-Code` tells a gated repo from a
missing repo, revision or file, and an invalid token from one without access), a Civitai model
version is resolved to its file name and size (`{civitai}/api/v1/model-versions/{id}`, public)
and its download is asked for without following it (a 401 is the creator's login wall), an
https URL is asked for its Content-Length. The total, plus headroom for ComfyUI itself, is held
against the disk the models go to. Tokens are sent only to their own service (httpx drops
`Authorization` on a redirect to another origin) and never appear in a result or a message.

In the simulated cloud (`simulated=True`: the endpoints are the built-in stand-ins) a plain URL
source is refused: nothing simulates its host, and a simulated pod could not fetch it.

The whole check has a deadline (`DEADLINE_S`): a deploy never waits on slow hosts longer than
that, and a manifest holds at most `MAX_MODELS` models (the parser refuses more).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from comfyhangar.agent.manifest import Manifest, ModelSpec
from comfyhangar.core.errors import HangarError
from comfyhangar.emulators.hub import DEMO_HF_TOKEN
from comfyhangar.server.services.manifests import ModelHosts

GB = 1_000_000_000
# ComfyUI, its venv and custom nodes live on the same disk as the models.
COMFYUI_HEADROOM_BYTES = 10 * GB
TIMEOUT_S = 15.0
PARALLEL = 8
# The most one preflight may take, all models together; then it answers 503 saying so.
DEADLINE_S = 60.0


class PreflightFailed(HangarError):
    """A model cannot be fetched (no access, not found) or the disk is too small."""

    code = "preflight_failed"
    http_status = 422


class PreflightUnavailable(HangarError):
    """A model host could not be reached: nothing is known to be wrong, nothing was created."""

    code = "preflight_unavailable"
    http_status = 503
    retry_after_s = 10


# What a newcomer needs to know to get past a gated model in the simulated cloud.
SIMULATED_HF_TOKENS = (
    "in the simulated cloud any token shaped hf_ plus 34 letters or digits has access, "
    f"for example {DEMO_HF_TOKEN}"
)


@dataclass
class ModelCheck:
    """What preflight found out about one model of the manifest."""

    index: int
    name: str
    folder: str
    source: str
    size: int | None = None
    file_name: str | None = None
    error: str | None = None
    unreachable: bool = False  # the error is the host not answering, not the model
    # A token problem, for clients to act on: `token_required` (none was given) or
    # `token_refused` (it has no access), and the request field of that token.
    error_code: str | None = None
    token_field: str | None = None

    def refuse_token(self, token_field: str, given: bool, message: str) -> None:
        """The model's host refused: no token was given, or the one given has no access."""
        self.error = message
        self.error_code = "token_refused" if given else "token_required"
        self.token_field = token_field

    def error_entry(self) -> dict[str, str]:
        """The model's entry in a 422's `errors`: field and message, plus `code` and `token`
        when a token is missing or refused."""
        entry = {
            "field": f"manifest.models.{self.index}",
            "message": f"{self.folder}/{self.name}: {self.error}",
        }
        if self.error_code is not None and self.token_field is not None:
            entry.update(code=self.error_code, token=self.token_field)
        return entry

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": f"manifest.models.{self.index}",
            "model": f"{self.folder}/{self.name}",
            "source": self.source,
            "size": self.size,
            "file_name": self.file_name,
            "error": self.error,
        }


@dataclass
class PreflightResult:
    models: list[ModelCheck]
    total_bytes: int
    required_bytes: int
    disk_bytes: int | None
    disk_field: str | None
    errors: list[dict[str, str]] = field(default_factory=list)
    unreachable: bool = False  # every error is a host that did not answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.errors,
            "models": [m.as_dict() for m in self.models],
            "total_bytes": self.total_bytes,
            "required_bytes": self.required_bytes,
            "disk_bytes": self.disk_bytes,
            "disk_field": self.disk_field,
            "errors": self.errors,
        }

    def raise_for_errors(self) -> None:
        """PreflightFailed (422 `preflight_failed`, one entry per problem) if anything failed;
        PreflightUnavailable (503) when the only problems are hosts that did not answer."""
        if not self.errors:
            return
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors[:5])
        if self.unreachable:
            raise PreflightUnavailable(
                f"preflight could not finish, nothing was created: {summary}; try again",
                details={"errors": self.errors},
            )
        raise PreflightFailed(
            f"preflight failed: {summary}",
            details={"errors": self.errors, "models": [m.as_dict() for m in self.models]},
        )


@dataclass(frozen=True)
class Disk:
    """The disk the models go to: its size and the request field that set it."""

    gb: int
    field: str


class Preflight:
    """Runs the checks against Hugging Face and Civitai (or their configured stand-ins)."""

    def __init__(
        self,
        hf_endpoint: str = "https://huggingface.co",
        civitai_endpoint: str = "https://civitai.com",
        *,
        simulated: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = TIMEOUT_S,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self.hf_endpoint = hf_endpoint.rstrip("/")
        self.civitai_endpoint = civitai_endpoint.rstrip("/")
        self.simulated = simulated
        self._transport = transport
        self._timeout = timeout_s
        self.deadline_s = deadline_s

    @classmethod
    def for_hosts(cls, hosts: ModelHosts) -> Preflight:
        """The checks against these endpoints (the stand-ins, in the simulated cloud)."""
        return cls(hosts.hf_endpoint, hosts.civitai_endpoint, simulated=hosts.simulated)

    async def run(
        self,
        manifest: Manifest,
        *,
        hf_token: str | None = None,
        civitai_token: str | None = None,
        disk: Disk | None = None,
    ) -> PreflightResult:
        """Check every model and the disk; the result lists every problem found.

        Raises `PreflightUnavailable` (503) when the checks take longer than the deadline.
        """
        checks = [
            ModelCheck(i, m.name, m.folder, _describe(m)) for i, m in enumerate(manifest.models)
        ]
        if checks:
            gate = asyncio.Semaphore(PARALLEL)
            async with httpx.AsyncClient(
                transport=self._transport,
                timeout=self._timeout,
                follow_redirects=True,
                headers={"User-Agent": "comfyhangar-preflight"},
            ) as http:
                done: list[ModelCheck] = []

                async def one(spec: ModelSpec, check: ModelCheck) -> None:
                    async with gate:
                        await self._check(http, spec, check, hf_token, civitai_token)
                    done.append(check)

                try:
                    async with asyncio.timeout(self.deadline_s):
                        await asyncio.gather(
                            *(one(s, c) for s, c in zip(manifest.models, checks, strict=True))
                        )
                except TimeoutError:
                    raise PreflightUnavailable(
                        f"preflight time limit: checking the models took more than "
                        f"{self.deadline_s:g} s ({len(done)} of {len(checks)} checked), so "
                        "nothing was created; try again, or deploy with fewer models",
                        details={"limit": "preflight_deadline_s", "limit_value": self.deadline_s},
                    ) from None
        errors = [c.error_entry() for c in checks if c.error]
        total = sum(c.size or 0 for c in checks)
        required = total + COMFYUI_HEADROOM_BYTES
        disk_bytes = disk.gb * GB if disk else None
        if disk is not None and disk_bytes is not None and required > disk_bytes:
            errors.append(
                {
                    "field": disk.field,
                    "message": f"the models need {_gb(total)} plus about {_gb(COMFYUI_HEADROOM_BYTES)} "
                    f"for ComfyUI ({_gb(required)}), more than the {disk.gb} GB disk; ask for at "
                    f"least {-(-required // GB)} GB",
                }
            )
        return PreflightResult(
            checks,
            total,
            required,
            disk_bytes,
            disk.field if disk else None,
            errors,
            unreachable=bool(errors) and len(errors) == sum(c.unreachable for c in checks),
        )

    async def _check(
        self,
        http: httpx.AsyncClient,
        spec: ModelSpec,
        check: ModelCheck,
        hf_token: str | None,
        civitai_token: str | None,
    ) -> None:
        try:
            if spec.kind == "huggingface":
                await self._huggingface(http, spec, check, hf_token)
            elif spec.kind == "civitai":
                await self._civitai(http, spec, check, civitai_token)
            else:
                await self._url(http, spec, check)
        except httpx.HTTPError as exc:
            check.error = f"cannot reach {_host(exc)}: {type(exc).__name__}"
            check.unreachable = True
        if check.size is None and spec.size is not None:
            check.size = spec.size

    async def _huggingface(
        self, http: httpx.AsyncClient, spec: ModelSpec, check: ModelCheck, token: str | None
    ) -> None:
        url = (
            f"{self.hf_endpoint}/{spec.repo}/resolve/{quote(spec.revision, safe='')}/"
            f"{quote(spec.file, safe='/')}"
        )
        response = await http.head(url, headers=_bearer(token))
        if response.status_code >= 400:
            message, about_token = _huggingface_refusal(response, spec, token is not None)
            if about_token:
                if self.simulated:
                    message += f" ({SIMULATED_HF_TOKENS})"
                check.refuse_token("hf_token", token is not None, message)
            else:
                check.error = message
            return
        check.size = _size(response)

    async def _civitai(
        self, http: httpx.AsyncClient, spec: ModelSpec, check: ModelCheck, token: str | None
    ) -> None:
        url = f"{self.civitai_endpoint}/api/v1/model-versions/{spec.version_id}"
        response = await http.get(url, headers=_bearer(token))
        status = response.status_code
        if status == 404:
            check.error = f"no Civitai model version {spec.version_id}"
            return
        if status >= 400:
            check.error = f"Civitai answered {status} for model version {spec.version_id}"
            return
        try:
            files = response.json().get("files") or []
            chosen = next((f for f in files if f.get("primary")), None) or next(
                (f for f in files if f.get("type") == "Model"), None
            )
            if chosen is None:
                check.error = f"Civitai model version {spec.version_id} has no model file"
                return
            check.file_name = str(chosen.get("name") or "") or None
            size_kb = chosen.get("sizeKB")
            if isinstance(size_kb, int | float) and size_kb >= 0:
                check.size = round(float(size_kb) * 1024)
        except (ValueError, AttributeError, TypeError):
            check.error = f"Civitai's answer for model version {spec.version_id} is not readable"
            return
        # The metadata is public; a creator's login wall shows only on the download itself.
        download = f"{self.civitai_endpoint}/api/download/models/{spec.version_id}"
        answer = await http.head(download, headers=_bearer(token), follow_redirects=False)
        if answer.status_code in (401, 403):
            check.refuse_token(
                "civitai_token",
                token is not None,
                f"Civitai model version {spec.version_id} can only be downloaded when logged "
                "in: it needs a Civitai token (civitai_token)"
                if token is None
                else f"Civitai refused the token (civitai_token) for model version "
                f"{spec.version_id}",
            )
        elif answer.status_code >= 400:
            check.error = (
                f"Civitai answered {answer.status_code} to the download of model version "
                f"{spec.version_id}"
            )

    async def _url(self, http: httpx.AsyncClient, spec: ModelSpec, check: ModelCheck) -> None:
        if self.simulated:
            check.error = (
                f"the simulated cloud only simulates Hugging Face and Civitai, not "
                f"{urlsplit(spec.url).hostname}: use a huggingface or civitai source, or real "
                "RunPod (HANGAR_RUNPOD_API_KEY) for a plain URL"
            )
            return
        response = await http.head(spec.url)
        if response.status_code >= 400:
            check.error = f"{urlsplit(spec.url).hostname} answered {response.status_code}"
            return
        check.size = _size(response)


def _huggingface_refusal(
    response: httpx.Response, spec: ModelSpec, with_token: bool
) -> tuple[str, bool]:
    """What a refusal of the hub means, read from its status and `X-Error-Code` (as
    `huggingface_hub.hf_raise_for_status` reads them), and whether a token is the matter."""
    status, code = response.status_code, response.headers.get("x-error-code")
    repo = spec.repo
    if code == "GatedRepo" or (status == 403 and code is None):
        if status == 401 or not with_token:
            return (
                f"Hugging Face repo {repo} is gated: it needs a Hugging Face token (hf_token) "
                "with access",
                True,
            )
        return (
            f"the Hugging Face token has no access to {repo} (accept its license on the model "
            "page, or use a token of an account that did)",
            True,
        )
    if status == 401 and with_token:
        return "Hugging Face refused the token (hf_token) as invalid credentials", True
    if status == 401 or code == "RepoNotFound":
        private = "" if with_token else " (or it is private and needs a token, hf_token)"
        return f"no Hugging Face repo {repo}{private}", False
    if code == "RevisionNotFound":
        return f"no revision {spec.revision} in Hugging Face repo {repo}", False
    if status == 404:
        return f"{spec.file} not found in Hugging Face repo {repo} at {spec.revision}", False
    return f"Hugging Face answered {status} for {repo}/{spec.file}", False


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _size(response: httpx.Response) -> int | None:
    """The file size: Hugging Face's X-Linked-Size on the first hop, else Content-Length."""
    for hop in (*response.history, response):
        linked = hop.headers.get("x-linked-size")
        if linked and linked.isdigit():
            return int(linked)
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() and int(length) > 0 else None


def _describe(spec: ModelSpec) -> str:
    if spec.kind == "huggingface":
        return f"huggingface:{spec.repo}/{spec.file}@{spec.revision}"
    if spec.kind == "civitai":
        return f"civitai:{spec.version_id}"
    parts = urlsplit(spec.url)
    return f"url:{parts.hostname}{parts.path}"


def _host(exc: httpx.HTTPError) -> str:
    try:
        return exc.request.url.host or "the server"
    except RuntimeError:
        return "the server"


def _gb(n: int) -> str:
    return f"{n / GB:.1f} GB"
