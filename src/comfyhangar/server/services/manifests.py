"""The server's side of the pod manifest: validation with the agent's own parser.

The agent's `parse_manifest` is the single source of truth; the server runs it with the
operator's policy (`HANGAR_ALLOWED_DOWNLOAD_HOSTS` extends the default allow-list,
`HANGAR_INSECURE_ALLOW_HTTP` allows plain http for tests) and turns its message
(`models[2].source.url: ...`) into a 422 naming `manifest.models.2.source.url`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ModelHosts:
    """Where models come from: Hugging Face and Civitai, or the simulated cloud's stand-ins
    (`simulated`: plain http on loopback, which only the simulated world uses)."""

    hf_endpoint: str
    civitai_endpoint: str
    simulated: bool = False


def model_hosts(settings: Settings, stand_ins: tuple[str, str] | None = None) -> ModelHosts:
    """The operator's endpoints; in the simulated cloud (`stand_ins`: the built-in Hugging Face
    and Civitai), those stand-ins, unless the operator set an endpoint of their own."""
    defaults = (DEFAULT_HF_ENDPOINT, DEFAULT_CIVITAI_ENDPOINT)
    if stand_ins is not None and (settings.hf_endpoint, settings.civitai_endpoint) == defaults:
        return ModelHosts(*stand_ins, simulated=True)
    return ModelHosts(settings.hf_endpoint, settings.civitai_endpoint)


def agent_args(settings: Settings, hosts: ModelHosts) -> tuple[str, ...]:
    """`agent run` arguments that give the pod agent the operator's policy and endpoints
    (and, in the simulated cloud, what it needs to reach the stand-ins on loopback)."""
    args: list[str] = []
    if settings.insecure_allow_http or hosts.simulated:
        args.append("--insecure-allow-http")
    extra = settings.extra_download_hosts + (["127.0.0.1"] if hosts.simulated else [])
    for host in dict.fromkeys(extra):
        args += ["--allow-host", host]
    if hosts.hf_endpoint != DEFAULT_HF_ENDPOINT:
        args += ["--hf-endpoint", hosts.hf_endpoint]
    if hosts.civitai_endpoint != DEFAULT_CIVITAI_ENDPOINT:
        args += ["--civitai-endpoint", hosts.civitai_endpoint]
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
