"""Where a model comes from: the download URL and which token may go with it.

A Hugging Face token is sent only to huggingface.co / hf.co and the configured `--hf-endpoint`
host; a Civitai token only to civitai.com and the configured `--civitai-endpoint` host. Both go
in an `Authorization: Bearer` header, never in a URL, so they cannot leak through logs or
`Referer`, and they are dropped on a redirect to any other host (a CDN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from .httpget import HttpError, Response, host_key
from .manifest import ModelSpec

HF_HOSTS = frozenset({"huggingface.co", "hf.co"})
CIVITAI_HOSTS = frozenset({"civitai.com"})


@dataclass
class Sources:
    """Endpoints and tokens; `auth_for(url)` gives the credential headers for one hop."""

    hf_endpoint: str = "https://huggingface.co"
    civitai_endpoint: str = "https://civitai.com"
    hf_token: str | None = None
    civitai_token: str | None = None
    _hf_hosts: set[str] = field(default_factory=set, init=False, repr=False)
    _civitai_hosts: set[str] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.hf_endpoint = self.hf_endpoint.rstrip("/")
        self.civitai_endpoint = self.civitai_endpoint.rstrip("/")
        self._hf_hosts = set(HF_HOSTS) | {host_key(self.hf_endpoint)}
        self._civitai_hosts = set(CIVITAI_HOSTS) | {host_key(self.civitai_endpoint)}
        for token in (self.hf_token, self.civitai_token):
            if token is not None and (not token.isprintable() or any(c.isspace() for c in token)):
                raise ValueError("a token contains whitespace or control characters")

    def url_for(self, spec: ModelSpec) -> str:
        """The first URL to request for `spec`."""
        if spec.kind == "huggingface":
            path = "/".join(quote(p, safe="") for p in spec.file.split("/"))
            repo = "/".join(quote(p, safe="") for p in spec.repo.split("/"))
            return f"{self.hf_endpoint}/{repo}/resolve/{quote(spec.revision, safe='')}/{path}"
        if spec.kind == "civitai":
            return f"{self.civitai_endpoint}/api/download/models/{spec.version_id}"
        return spec.url

    def metadata_url(self, spec: ModelSpec) -> str | None:
        """Where the source publishes the file's size and hash apart from the download (Civitai's
        model-version document), or None (Hugging Face says it on the download's first hop)."""
        if spec.kind == "civitai":
            return f"{self.civitai_endpoint}/api/v1/model-versions/{spec.version_id}"
        return None

    def auth_for(self, url: str, kind: str = "url") -> dict[str, str]:
        """Credential headers for a request to `url` for a source of `kind`.

        A Hugging Face source gets the HF token on HF hosts, a Civitai source the Civitai token
        on Civitai hosts; a plain URL source gets whichever token its host owns. Every other
        host gets nothing.
        """
        host = host_key(url)
        if self.hf_token and kind in ("huggingface", "url") and host in self._hf_hosts:
            return {"Authorization": f"Bearer {self.hf_token}"}
        if self.civitai_token and kind in ("civitai", "url") and host in self._civitai_hosts:
            return {"Authorization": f"Bearer {self.civitai_token}"}
        return {}

    def check_response(self, resp: Response, spec: ModelSpec) -> None:
        """Raise HttpError unless `resp` is 200/206; only 408, 425, 429 and 5xx are retryable."""
        status = resp.status
        if status in (200, 206):
            return
        if status in (401, 403):
            token = {"huggingface": "HF_TOKEN", "civitai": "CIVITAI_TOKEN"}.get(
                spec.kind, "a token"
            )
            raise HttpError(
                f"HTTP {status}: access denied (gated model? check {token})",
                status,
                retryable=False,
            )
        retryable = status in (408, 425, 429) or status >= 500
        after = (resp.header("Retry-After") or "").strip()
        raise HttpError(
            f"HTTP {status} from {host_key(resp.url)}", status, retryable=retryable,
            retry_after=min(float(after), 300.0) if after.isdigit() else None,
        )  # fmt: skip
