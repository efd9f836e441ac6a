"""The manifest: a versioned JSON document describing what a pod gets, and its strict validation.

Version 1 (see `MANIFEST_SCHEMA` for the JSON Schema, and docs/agent-progress-protocol.md)::

    {"version": 1,
     "comfyui": {"repo": "https://github.com/comfyanonymous/ComfyUI", "ref": "v0.3.60"},
     "custom_nodes": [{"name": "ComfyUI-Custom-Scripts", "repo": "https://...", "ref": "main"}],
     "models": [{"folder": "vae", "name": "ae.safetensors", "size": 335304388, "sha256": "...",
                 "source": {"type": "huggingface", "repo": "org/repo", "file": "ae.safetensors",
                            "revision": "main"}}],
     "pip": ["some-package==1.2"]}

Every value that later reaches git, pip, a URL or a path is checked here: git refs and names
against conservative patterns (never a leading `-`), URLs for https (plain http and local git
repositories only behind the test switch) and an allow-listed host, file names for staying
inside their folder. Standard library only; the server imports this module too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

MANIFEST_VERSION = 1
DEFAULT_COMFYUI_REPO = "https://github.com/comfyanonymous/ComfyUI"
DEFAULT_ALLOWED_HOSTS = (
    "huggingface.co",
    "hf.co",
    "civitai.com",
    "github.com",
    "githubusercontent.com",
    "gitlab.com",
)
KNOWN_FOLDERS = (
    "checkpoints",
    "diffusion_models",
    "unet",
    "text_encoders",
    "clip",
    "clip_vision",
    "vae",
    "vae_approx",
    "loras",
    "upscale_models",
    "controlnet",
    "embeddings",
    "style_models",
    "photomaker",
    "gligen",
    "hypernetworks",
    "model_patches",
    "audio_encoders",
)
# Applied with `fullmatch` (a `$` in Python's re also matches before a final newline: "main\n"
# would pass `match(r"^...$")` and become a folder named "main\n").
_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}")
# A file or folder name; spaces inside, never at the end.
_PATH_PART = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9 ._+()\[\],=@-]{0,198}[A-Za-z0-9._+()\[\],=@-])?"
)
_FOLDER_PART = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,63}")
_HF_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PIP_REQ = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\[[A-Za-z0-9._,-]{1,100}\])?"
    r"((==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!]{1,50})?(,(==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!]{1,50}){0,4}"
)

# How much one manifest may ask for. Each model is checked by preflight and downloaded by the
# agent, each node cloned and installed: these bound the work (and the time before a deploy
# answers) whatever a client sends. Sizes above 2**53 cannot be read exactly by JSON clients.
MAX_MODELS = 256
MAX_CUSTOM_NODES = 128
MAX_PIP_REQUIREMENTS = 128
MAX_MODEL_BYTES = 2**53 - 1
MAX_CIVITAI_VERSION_ID = 2**31 - 1

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ComfyHangar pod manifest",
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": MANIFEST_VERSION},
        "comfyui": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ref"],
            "properties": {
                "repo": {"type": "string", "examples": [DEFAULT_COMFYUI_REPO]},
                "ref": {"type": "string", "examples": ["v0.3.60"]},
            },
        },
        "custom_nodes": {
            "type": "array",
            "maxItems": MAX_CUSTOM_NODES,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["repo", "ref"],
                "properties": {
                    "name": {"type": "string", "examples": ["ComfyUI-Custom-Scripts"]},
                    "repo": {
                        "type": "string",
                        "examples": ["https://github.com/pythongosssss/ComfyUI-Custom-Scripts"],
                    },
                    "ref": {"type": "string", "examples": ["main"]},
                    "requirements": {"type": "boolean"},
                },
            },
        },
        "models": {
            "type": "array",
            "maxItems": MAX_MODELS,
            "items": {
                "type": "object",
                "examples": [
                    {
                        "folder": "vae",
                        "name": "ae.safetensors",
                        "source": {
                            "type": "huggingface",
                            "repo": "black-forest-labs/FLUX.1-schnell",
                            "file": "ae.safetensors",
                        },
                    }
                ],
                "additionalProperties": False,
                "required": ["folder", "source"],
                "properties": {
                    "name": {"type": "string", "examples": ["ae.safetensors"]},
                    "folder": {"type": "string", "examples": ["vae"]},
                    "size": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": MAX_MODEL_BYTES,
                        "examples": [335304388],
                    },
                    "sha256": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{64}$",
                        "examples": [
                            "afc8e28272cd15db3919bacdb6918ce9c1ed22e96cb12c4d5ed0fba823529e38"
                        ],
                    },
                    "source": {
                        "oneOf": [
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["type", "repo", "file"],
                                "properties": {
                                    "type": {"const": "huggingface"},
                                    "repo": {
                                        "type": "string",
                                        "examples": ["black-forest-labs/FLUX.1-schnell"],
                                    },
                                    "file": {"type": "string", "examples": ["ae.safetensors"]},
                                    "revision": {"type": "string", "examples": ["main"]},
                                },
                            },
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["type", "version_id"],
                                "properties": {
                                    "type": {"const": "civitai"},
                                    "version_id": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_CIVITAI_VERSION_ID,
                                        "examples": [128713],
                                    },
                                },
                            },
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["type", "url"],
                                "properties": {
                                    "type": {"const": "url"},
                                    "url": {
                                        "type": "string",
                                        "examples": [
                                            "https://huggingface.co/org/repo/resolve/main/x.safetensors"
                                        ],
                                    },
                                },
                            },
                        ]
                    },
                },
            },
        },
        "pip": {
            "type": "array",
            "maxItems": MAX_PIP_REQUIREMENTS,
            "items": {"type": "string", "examples": ["some-package==1.2"]},
        },
    },
}


class ManifestError(ValueError):
    """The manifest is invalid; the message names the offending field."""


@dataclass(frozen=True)
class Policy:
    """What the operator allows: extra hosts, and plain http / local git repos (tests only)."""

    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    allow_insecure: bool = False

    def with_hosts(self, hosts: list[str]) -> Policy:
        """A copy that also allows `hosts`."""
        extra = tuple(h.lower() for h in hosts if h)
        return Policy(self.allowed_hosts + extra, self.allow_insecure)

    def host_allowed(self, host: str) -> bool:
        """True if `host` is an allowed host or a subdomain of one (ports are ignored)."""
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.allowed_hosts)


@dataclass(frozen=True)
class GitSource:
    """A git repository at a ref (tag, branch or commit)."""

    name: str
    repo: str
    ref: str
    requirements: bool = True


@dataclass(frozen=True)
class ModelSpec:
    """One model file: where it comes from and where it goes (`folder/name` under models/)."""

    name: str
    folder: str
    kind: str  # "huggingface" | "civitai" | "url"
    repo: str = ""
    file: str = ""
    revision: str = "main"
    version_id: int = 0
    url: str = ""
    size: int | None = None
    sha256: str | None = None

    @property
    def relpath(self) -> str:
        """Path relative to ComfyUI's models directory."""
        return f"{self.folder}/{self.name}"


@dataclass(frozen=True)
class Manifest:
    """A validated manifest."""

    comfyui: GitSource
    custom_nodes: tuple[GitSource, ...] = ()
    models: tuple[ModelSpec, ...] = ()
    pip: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def known_download_bytes(self) -> int:
        """Sum of the model sizes given in the manifest."""
        return sum(m.size or 0 for m in self.models)


def load_manifest(path: str | Path, policy: Policy | None = None) -> Manifest:
    """Read and validate a manifest file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read manifest: {exc}") from None
    return parse_manifest(data, policy)


def parse_manifest(data: Any, policy: Policy | None = None) -> Manifest:
    """Validate a decoded manifest document and return it typed; raises ManifestError."""
    policy = policy or Policy()
    doc = _obj(data, "manifest", {"version", "comfyui", "custom_nodes", "models", "pip"})
    if type(doc.get("version")) is not int or doc.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"version: must be {MANIFEST_VERSION}")
    comfy = _obj(doc.get("comfyui", {"ref": "master"}), "comfyui", {"repo", "ref"})
    comfyui = GitSource(
        name="ComfyUI",
        repo=check_git_url(comfy.get("repo", DEFAULT_COMFYUI_REPO), policy, "comfyui.repo"),
        ref=check_ref(comfy.get("ref"), "comfyui.ref"),
    )
    nodes: list[GitSource] = []
    for i, item in enumerate(_list(doc.get("custom_nodes", []), "custom_nodes", MAX_CUSTOM_NODES)):
        where = f"custom_nodes[{i}]"
        node = _obj(item, where, {"name", "repo", "ref", "requirements"})
        repo = check_git_url(node.get("repo"), policy, f"{where}.repo")
        default_name = PurePosixPath(urlsplit(repo).path).name.removesuffix(".git")
        name = check_name(node.get("name", default_name), f"{where}.name")
        reqs = node.get("requirements", True)
        if not isinstance(reqs, bool):
            raise ManifestError(f"{where}.requirements: must be a boolean")
        nodes.append(GitSource(name, repo, check_ref(node.get("ref"), f"{where}.ref"), reqs))
    if len({n.name.lower() for n in nodes}) != len(nodes):
        raise ManifestError("custom_nodes: two nodes share a name")
    models = [
        _model(item, f"models[{i}]", policy)
        for i, item in enumerate(_list(doc.get("models", []), "models", MAX_MODELS))
    ]
    if len({m.relpath.lower() for m in models}) != len(models):
        raise ManifestError("models: two models share a folder and name")
    pip = []
    for i, req in enumerate(_list(doc.get("pip", []), "pip", MAX_PIP_REQUIREMENTS)):
        if not isinstance(req, str) or not _PIP_REQ.fullmatch(req):
            raise ManifestError(f"pip[{i}]: not a plain requirement like 'name==1.0'")
        pip.append(req)
    return Manifest(comfyui, tuple(nodes), tuple(models), tuple(pip), raw=doc)


def check_ref(value: Any, where: str) -> str:
    """A git ref or commit: letters, digits and `._/+-`, no leading `-`, no `..`."""
    if not isinstance(value, str) or not _REF.fullmatch(value):
        raise ManifestError(f"{where}: not a valid git ref")
    if ".." in value or "//" in value or value.endswith((".lock", "/", ".")) or "@{" in value:
        raise ManifestError(f"{where}: not a valid git ref")
    return value


def check_name(value: Any, where: str) -> str:
    """A plain directory name (no separators, no leading `-` or `.`)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ManifestError(f"{where}: not a valid name")
    return value


def check_url(value: Any, policy: Policy, where: str) -> str:
    """An https URL (http only when insecure is allowed) on an allowed host, no credentials."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ManifestError(f"{where}: not a valid URL")
    parts = urlsplit(value)
    schemes = ("https", "http") if policy.allow_insecure else ("https",)
    if parts.scheme not in schemes:
        raise ManifestError(f"{where}: scheme must be {' or '.join(schemes)}")
    if not parts.hostname or parts.username or parts.password or "\\" in value:
        raise ManifestError(f"{where}: not a valid URL")
    if not policy.host_allowed(parts.hostname):
        raise ManifestError(f"{where}: host {parts.hostname} is not in the allow-list")
    return value


def check_git_url(value: Any, policy: Policy, where: str) -> str:
    """A git repository URL: https on an allowed host; `file://` only when insecure is allowed."""
    if policy.allow_insecure and isinstance(value, str) and value.startswith("file:///"):
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ManifestError(f"{where}: not a valid URL")
        return value
    return check_url(value, policy, where)


def _model(item: Any, where: str, policy: Policy) -> ModelSpec:
    model = _obj(item, where, {"name", "folder", "source", "size", "sha256"})
    folder = model.get("folder")
    if not isinstance(folder, str) or not all(_FOLDER_PART.fullmatch(p) for p in folder.split("/")):
        raise ManifestError(f"{where}.folder: not a valid folder")
    size = model.get("size")
    if size is not None and (type(size) is not int or not 0 <= size <= MAX_MODEL_BYTES):
        raise ManifestError(f"{where}.size: must be an integer from 0 to {MAX_MODEL_BYTES}")
    sha = model.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
        raise ManifestError(f"{where}.sha256: must be 64 lowercase hex digits")
    source = model.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    fields: dict[str, Any] = {}
    default_name: str | None = None
    if kind == "huggingface":
        src = _obj(source, f"{where}.source", {"type", "repo", "file", "revision"})
        repo = src.get("repo")
        if not isinstance(repo, str) or not _HF_REPO.fullmatch(repo) or ".." in repo:
            raise ManifestError(f"{where}.source.repo: not a valid repo id")
        file = check_relpath(src.get("file"), f"{where}.source.file")
        revision = check_ref(src.get("revision", "main"), f"{where}.source.revision")
        fields = {"repo": repo, "file": file, "revision": revision}
        default_name = PurePosixPath(file).name
    elif kind == "civitai":
        src = _obj(source, f"{where}.source", {"type", "version_id"})
        vid = src.get("version_id")
        if type(vid) is not int or not 1 <= vid <= MAX_CIVITAI_VERSION_ID:
            raise ManifestError(
                f"{where}.source.version_id: must be an integer from 1 to {MAX_CIVITAI_VERSION_ID}"
            )
        fields = {"version_id": vid}
    elif kind == "url":
        src = _obj(source, f"{where}.source", {"type", "url"})
        fields = {"url": check_url(src.get("url"), policy, f"{where}.source.url")}
    else:
        raise ManifestError(f"{where}.source.type: must be huggingface, civitai or url")
    if model.get("name") is None and default_name is None:
        raise ManifestError(f"{where}.name: required for {kind} sources")
    name = check_relpath(model.get("name", default_name), f"{where}.name")
    return ModelSpec(name=name, folder=folder, kind=kind, size=size, sha256=sha, **fields)


def check_relpath(value: Any, where: str) -> str:
    """A relative file path whose every part is a plain name: it cannot leave its folder."""
    if not isinstance(value, str) or not value or len(value) > 400:
        raise ManifestError(f"{where}: not a valid file name")
    parts = value.split("/")
    if not all(_PATH_PART.fullmatch(p) and p not in (".", "..") for p in parts):
        raise ManifestError(f"{where}: not a valid file name")
    return value


def _obj(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: must be an object")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise ManifestError(f"{where}: unknown field {unknown[0]!r}")
    return value


def _list(value: Any, where: str, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise ManifestError(f"{where}: must be an array")
    if len(value) > max_items:
        raise ManifestError(f"{where}: at most {max_items} entries (this one has {len(value)})")
    return value
