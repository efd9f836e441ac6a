"""Manifest validation: the schema, strict URLs, refs, names and paths."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from comfyhangar.agent.manifest import (
    MANIFEST_SCHEMA,
    ManifestError,
    Policy,
    parse_manifest,
)

GOOD: dict[str, Any] = {
    "version": 1,
    "comfyui": {"repo": "https://github.com/comfyanonymous/ComfyUI", "ref": "v0.3.60"},
    "custom_nodes": [
        {"repo": "https://github.com/pythongosssss/ComfyUI-Custom-Scripts", "ref": "main"},
        {"name": "kj", "repo": "https://github.com/kijai/ComfyUI-KJNodes.git", "ref": "a1b2c3d"},
    ],
    "models": [
        {
            "folder": "diffusion_models",
            "size": 23802932552,
            "sha256": "a" * 64,
            "source": {
                "type": "huggingface",
                "repo": "black-forest-labs/FLUX.1-dev",
                "file": "flux1-dev.safetensors",
            },
        },
        {
            "folder": "loras",
            "name": "x.safetensors",
            "source": {"type": "civitai", "version_id": 9},
        },
        {
            "folder": "vae",
            "name": "sub/ae (1).safetensors",
            "source": {"type": "url", "url": "https://cdn.huggingface.co/ae.safetensors"},
        },
    ],
    "pip": ["onnxruntime-gpu==1.19.2", "opencv-python>=4,<5"],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


class TestParseManifest:
    def test_good_manifest(self) -> None:
        m = parse_manifest(GOOD)
        assert m.comfyui.ref == "v0.3.60"
        assert [n.name for n in m.custom_nodes] == ["ComfyUI-Custom-Scripts", "kj"]
        assert m.models[0].name == "flux1-dev.safetensors"
        assert m.models[0].revision == "main"
        assert m.models[2].relpath == "vae/sub/ae (1).safetensors"
        assert m.known_download_bytes == 23802932552

    def test_good_manifest_matches_json_schema(self) -> None:
        jsonschema.validate(GOOD, MANIFEST_SCHEMA)

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (["version"], 2),
            (["version"], True),
            (["version"], 1.0),
            (["comfyui", "ref"], "--upload-pack=touch /tmp/PWNED"),
            (["comfyui", "ref"], "main;touch x"),
            (["comfyui", "ref"], "$(touch x)"),
            (["comfyui", "ref"], "a..b"),
            (["comfyui", "repo"], "http://github.com/x/y"),
            (["comfyui", "repo"], "--upload-pack=touch x"),
            (["comfyui", "repo"], "ext::sh -c touch% /tmp/x"),
            (["comfyui", "repo"], "file:///tmp/repo"),
            (["comfyui", "repo"], "https://evil.example/x"),
            (["comfyui", "repo"], "https://user:pw@github.com/x"),
            (["custom_nodes", 0, "name"], "../../etc"),
            (["custom_nodes", 0, "name"], "-rf"),
            (["custom_nodes", 1, "name"], "ComfyUI-Custom-Scripts"),
            (["custom_nodes", 0, "ref"], "`touch x`"),
            (["models", 0, "folder"], "../outside"),
            (["models", 0, "folder"], "/etc"),
            (["models", 0, "name"], "../../etc/passwd"),
            (["models", 0, "name"], "/etc/passwd"),
            (["models", 0, "name"], "a\nb"),
            (["models", 0, "name"], ".bashrc"),
            (["models", 0, "sha256"], "A" * 64),
            (["models", 0, "size"], -1),
            (["models", 0, "source", "repo"], "../x"),
            (["models", 0, "source", "file"], "../../x"),
            (["models", 0, "source", "revision"], "-x"),
            (["models", 1, "source", "version_id"], "9; rm"),
            (["models", 2, "source", "url"], "https://evil.example/x"),
            (["models", 2, "source", "url"], "https://huggingface.co/a b"),
            (["models", 2, "source", "url"], "javascript:alert(1)"),
            (["pip", 0], "--index-url=https://evil"),
            (["pip", 0], "-r /etc/passwd"),
            (["pip", 0], "pkg @ https://evil/x.whl"),
            (["pip", 0], "$(touch x)"),
            (["extra"], 1),
        ],
    )
    def test_rejects(self, path: list[Any], value: Any) -> None:
        with pytest.raises(ManifestError):
            parse_manifest(_with(path, value))

    def test_civitai_needs_a_name(self) -> None:
        doc = _with(
            ["models", 1], {"folder": "loras", "source": {"type": "civitai", "version_id": 1}}
        )
        with pytest.raises(ManifestError, match="name"):
            parse_manifest(doc)

    def test_operator_hosts_and_insecure_switch(self) -> None:
        doc = _with(["models", 2, "source", "url"], "http://127.0.0.1:9/x.bin")
        with pytest.raises(ManifestError):
            parse_manifest(doc, Policy().with_hosts(["127.0.0.1"]))
        with pytest.raises(ManifestError):
            parse_manifest(doc, Policy(allow_insecure=True))
        policy = Policy(allow_insecure=True).with_hosts(["127.0.0.1"])
        assert parse_manifest(doc, policy).models[2].url == "http://127.0.0.1:9/x.bin"
        assert parse_manifest(_with(["comfyui", "repo"], "file:///tmp/r"), policy)

    def test_subdomains_of_allowed_hosts(self) -> None:
        policy = Policy()
        assert policy.host_allowed("cdn-lfs.huggingface.co")
        assert not policy.host_allowed("huggingface.co.evil.example")
        assert not policy.host_allowed("evilhuggingface.co")
