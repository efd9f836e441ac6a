"""The server's side of the pod manifest: validation with the agent's own parser.

The agent's `parse_manifest` is the single source of truth; the server runs it with the
operator's policy (`HANGAR_ALLOWED_DOWNLOAD_HOSTS` extends the default allow-list,
`HANGAR_INSECURE_ALLOW_HTTP` allows plain http for tests) and turns its message
(`models[2].source.url: ...`) into a 422 naming `manifest.models.2.source.url`.
"""

from __future__ import annotations

import re
from typing import Any

from comfyhangar.agent.manifest import Manifest, ManifestError, Policy, parse_manifest
from comfyhangar.core.errors import InvalidInput
from comfyhangar.server.settings import Settings

DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_CIVITAI_ENDPOINT = "https://civitai.com"
_INDEX = re.compile(r"\[(\d+)\]")


def manifest_policy(settings: Settings) -> Policy:
    """The operator's download policy."""
    policy = Policy(allow_insecure=settings.insecure_allow_http)
    return policy.with_hosts(settings.extra_download_hosts)


def agent_args(settings: Settings) -> tuple[str, ...]:
    """`agent run` arguments that give the pod agent the operator's policy and endpoints."""
    args: list[str] = []
    if settings.insecure_allow_http:
        args.append("--insecure-allow-http")
    for host in settings.extra_download_hosts:
        args += ["--allow-host", host]
    if settings.hf_endpoint != DEFAULT_HF_ENDPOINT:
        args += ["--hf-endpoint", settings.hf_endpoint]
    if settings.civitai_endpoint != DEFAULT_CIVITAI_ENDPOINT:
        args += ["--civitai-endpoint", settings.civitai_endpoint]
    return tuple(args)


def manifest_field_error(exc: ManifestError, prefix: str = "manifest") -> InvalidInput:
    """A 422 naming the field inside the manifest, with the agent's message."""
    text = str(exc)
    path, sep, message = text.partition(": ")
    if not sep or " " in path:
        path, message = "", text
    path = _INDEX.sub(r".\1", path)
    field = prefix if path in ("", "manifest") else f"{prefix}.{path}"
    return InvalidInput.at(field, message)


def validate_manifest(doc: Any, policy: Policy, prefix: str = "manifest") -> Manifest:
    """Parse `doc` with the agent's parser; InvalidInput (422) naming the field if it is bad."""
    try:
        return parse_manifest(doc, policy)
    except ManifestError as exc:
        raise manifest_field_error(exc, prefix) from None
