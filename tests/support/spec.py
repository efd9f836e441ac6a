"""Validate requests and responses against RunPod's published REST v2 OpenAPI document.

The spec is read from `../shared/runpod/openapi-rest-v2.json` (never copied into the project).
`require_spec()` skips cleanly where it is absent; in CI a skip is a failure (see conftest).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
SPEC_PATH = SHARED_DIR / "runpod" / "openapi-rest-v2.json"


class SpecViolation(AssertionError):
    """A request or response does not match the RunPod v2 spec."""


def require_spec() -> RunPodSpec:
    """The loaded spec, or skip the test when `../shared` is not beside the project."""
    if not SPEC_PATH.exists():
        pytest.skip(f"RunPod spec not found at {SPEC_PATH}")
    return load_spec()


@cache
def load_spec() -> RunPodSpec:
    return RunPodSpec(json.loads(SPEC_PATH.read_text()))


class RunPodSpec:
    """Operations of the spec, matched by method and concrete path."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource("urn:runpod-v2", resource)
        self._routes: list[tuple[str, re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in document["paths"].items():
            # Literal segments first: /v2/registries/delegations before /v2/registries/{id}.
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    self._routes.append((method.upper(), pattern, template, operation))
        self._routes.sort(key=lambda r: r[2].count("{"))

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The (path template, operation) that serves `method path`."""
        for route_method, pattern, template, operation in self._routes:
            if route_method == method.upper() and pattern.match(path):
                return template, operation
        raise SpecViolation(f"{method} {path} is not an operation of RunPod REST v2")

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", **_rebase(schema)},
            registry=self._registry,
        )

    def _check(self, schema: dict[str, Any], instance: Any, what: str) -> None:
        errors = sorted(self._validator(schema).iter_errors(instance), key=lambda e: e.json_path)
        if errors:
            lines = "\n".join(f"  {e.json_path}: {e.message}" for e in errors[:10])
            raise SpecViolation(f"{what} does not match the spec:\n{lines}")

    def validate_request(self, method: str, path: str, body: Any | None) -> None:
        """Raise `SpecViolation` unless `body` is a valid request body for `method path`."""
        template, operation = self.operation(method, path)
        request_body = operation.get("requestBody")
        if request_body is None:
            if body is not None:
                raise SpecViolation(f"{method} {template} takes no body, got {body!r}")
            return
        if body is None:
            if request_body.get("required"):
                raise SpecViolation(f"{method} {template} requires a body")
            return
        schema = request_body["content"]["application/json"]["schema"]
        self._check(schema, body, f"request body of {method} {template}")

    def validate_response(
        self, method: str, path: str, status: int, content_type: str | None, body: Any | None
    ) -> None:
        """Raise `SpecViolation` unless (status, content type, body) is a response the spec allows."""
        template, operation = self.operation(method, path)
        responses = operation["responses"]
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            raise SpecViolation(f"{method} {template} never answers {status}")
        response = self._deref(response)
        content = response.get("content")
        if not content:
            if body not in (None, b"", ""):
                raise SpecViolation(f"{method} {template} {status} must have no body")
            return
        media = (content_type or "").split(";")[0].strip()
        if media not in content:
            raise SpecViolation(
                f"{method} {template} {status}: content type {media!r}, spec has {sorted(content)}"
            )
        schema = content[media].get("schema")
        if schema is not None and media.endswith("json"):
            self._check(schema, body, f"{status} response of {method} {template}")

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            parts = node["$ref"].removeprefix("#/").split("/")
            target: Any = self.document
            for part in parts:
                target = target[part]
            node = target
        return node


def _rebase(schema: Any) -> Any:
    """Point local `#/components/...` refs at the registered spec resource."""
    if isinstance(schema, dict):
        return {
            k: (
                "urn:runpod-v2" + v
                if k == "$ref" and isinstance(v, str) and v.startswith("#")
                else _rebase(v)
            )
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema
