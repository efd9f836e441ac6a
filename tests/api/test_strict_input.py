"""Input that looks almost right is refused: every field, taken from the schemas themselves.

- A trailing newline, carriage return, tab or surrounding space on any constrained string of any
  request body, and on any string of the pod manifest, is a 422 naming the field, and nothing
  is created or changed (Python's `re.match(r"...$")` lets "main\\n" through).
- A boolean, a float or a numeric string is not a count: every integer field of every body.
- Env names that steer git, pip, Python or the loader are a 422 naming the variable.

The fields come from the OpenAPI document and from `MANIFEST_SCHEMA` (tests/support/schema_walk):
a field added later is covered here without a change, and one without an example fails the
walk, saying so. Valid values come from the schemas' `examples`; the few that depend on what
exists (a network volume, a deployment, a second GPU) are made here first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from comfyhangar.agent.manifest import MANIFEST_SCHEMA
from comfyhangar.server.app import create_app
from comfyhangar.server.db.models import Budget, Deployment, Event
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.env_names import STEERING_NAMES, STEERING_PREFIXES
from tests.server.conftest import api, fast_settings, frozen_runtime
from tests.support.schema_walk import KEY, Leaf, json_body_schema, leaves, operations

# Values a trailing or leading character must never be able to join.
EDGES = ("{}\n", "{}\r", "{}\r\n", "{}\t", "{} ", " {}")
# Strings whose characters no schema restricts, on purpose: env values are free text (a PEM key
# has newlines) and never reach a shell (they travel as the container's environment).
# Passwords, API tokens and one-time link secrets are compared (or hashed) as they are, never
# interpreted: whatever characters a person picked are theirs.
FREE_TEXT = {
    ("POST", "/api/v1/deployments", "env.{key}.value"),
    *(
        (method, path, f"{field}.value")
        for method, path, fields in (
            ("POST", "/api/v1/auth/session", ("password", "token", "link")),
            ("POST", "/api/v1/auth/invites/accept", ("invite", "password")),
            ("PUT", "/api/v1/auth/password", ("current", "new")),
        )
        for field in fields
    ),
}
SECOND_GPU = "NVIDIA RTX A6000"
NOT_COUNTS = (True, False, 1.0, "1")
# Integers no field can hold (SQLite's and PostgreSQL's are 64-bit): a 422, never a 500.
HUGE = (2**63, 2**70, -(2**63) - 1, 10**20)


@dataclass
class World:
    runtime: Runtime
    http: httpx.AsyncClient
    deployment_id: str
    budget_id: str
    network_volume_id: str
    names: int = 0

    def fresh_name(self) -> str:
        self.names += 1
        return f"edge-{self.names}"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # Preflight asks a closed local port (no model check may reach the internet).
    unreachable = {"hf_endpoint": "http://127.0.0.1:9", "civitai_endpoint": "http://127.0.0.1:9"}
    async with (
        frozen_runtime(tmp_path, insecure_allow_http=True, **unreachable) as runtime,
        api(runtime) as http,
    ):
        made = await http.post(
            "/api/v1/deployments",
            json={"name": "existing", "gpu": {"id": "NVIDIA GeForce RTX 4090"}},
        )
        assert made.status_code == 201, made.text
        budget = await http.post("/api/v1/budgets", json={"name": "cap", "limit_usd": "10"})
        assert budget.status_code == 201, budget.text
        volume = runtime.cloud.emulator.create_network_volume("models", 50, "EU-RO-1")
        yield World(runtime, http, made.json()["id"], budget.json()["id"], volume.id)


def _app_openapi(world: World) -> dict[str, Any]:
    return create_app(world.runtime.settings).openapi()


def _body_leaves(doc: dict[str, Any]) -> list[tuple[str, str, Leaf]]:
    found = []
    for method, path, operation in operations(doc):
        schema = json_body_schema(operation)
        if schema is not None:
            found.extend((method, path, leaf) for leaf in leaves(doc, schema))
    return found


async def _snapshot(runtime: Runtime) -> tuple[Any, ...]:
    """What a refused request must leave as it was: rows made, events, every budget."""
    async with runtime.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Deployment, Event)
        ]
        budgets = [
            (b.id, b.name, b.deployment_id, b.period, b.limit_usd, b.on_exceed, b.version)
            for b in await session.scalars(select(Budget).order_by(Budget.id))
        ]
    return (*counts, budgets)


def _world_value(world: World, path: str, leaf: Leaf) -> Any:
    """The valid value of a leaf that depends on what exists, else the schema's example."""
    special = {
        "fallback_gpu_ids.0": SECOND_GPU,  # must differ from gpu.id
        "network_volume_id": world.network_volume_id,
        "deployment_id": world.deployment_id,
    }
    return special.get(leaf.dotted, leaf.example)


def _request_body(world: World, path: str, leaf: Leaf, value: Any) -> Any:
    body = leaf.build(value)
    if path == "/api/v1/deployments" and leaf.dotted != "name":
        body["name"] = world.fresh_name()  # names are unique: each create gets its own
    return body


async def _send(world: World, method: str, path: str, body: Any) -> httpx.Response:
    url = path.replace("{budget_id}", world.budget_id)
    return await world.http.request(method, url, json=body)


def _names(response: httpx.Response, field: str) -> bool:
    return response.status_code == 422 and any(
        e["field"] == field for e in response.json().get("errors", [])
    )


async def test_every_string_field_refuses_surrounding_whitespace(world: World) -> None:
    doc = _app_openapi(world)
    checked: list[str] = []
    for method, path, leaf in _body_leaves(doc):
        if leaf.kind != "string":
            continue
        where = f"{method} {path} {leaf.dotted}"
        if not leaf.constrained:
            assert (method, path, f"{leaf.dotted}.value") in FREE_TEXT, (
                f"{where}: a string the schema does not restrict; give it a pattern or an "
                "enum, or list it in FREE_TEXT with the reason"
            )
            continue
        good = _world_value(world, path, leaf)
        accepted = await _send(world, method, path, _request_body(world, path, leaf, good))
        # (POST /preflight may answer 503: its model hosts are a closed port here.)
        refused = accepted.status_code == 500 or _names(accepted, leaf.field_for(good))
        assert not refused, f"{where}: the valid value {good!r} is refused: {accepted.text}"
        for edge in EDGES:
            bad = edge.format(good)
            before = await _snapshot(world.runtime)
            response = await _send(world, method, path, _request_body(world, path, leaf, bad))
            assert _names(response, leaf.field_for(bad)), f"{where} = {bad!r}: {response.text}"
            assert response.json()["code"] == "invalid_input"
            assert await _snapshot(world.runtime) == before, f"{where} = {bad!r} changed things"
        checked.append(where)
    # The walk found the fields it must (a broken walk would check nothing and pass).
    assert {"POST /api/v1/deployments name", "POST /api/v1/deployments hf_token"} <= set(checked)
    assert "POST /api/v1/deployments env.{key}" in checked


async def _manifest_refused(world: World, leaf: Leaf, value: Any) -> None:
    """A deploy whose manifest holds `value` at `leaf` is a 422 there, and changes nothing."""
    field = f"manifest.{leaf.dotted}"
    before = await _snapshot(world.runtime)
    body = {"name": world.fresh_name(), "gpu": {"id": "NVIDIA GeForce RTX 4090"}}
    response = await world.http.post(
        "/api/v1/deployments", json={**body, "manifest": leaf.build(value)}
    )
    assert _names(response, field), f"{field} = {value!r}: {response.text}"
    assert await _snapshot(world.runtime) == before


async def test_every_manifest_string_refuses_surrounding_whitespace(world: World) -> None:
    checked = []
    for leaf in leaves(MANIFEST_SCHEMA, MANIFEST_SCHEMA):
        if leaf.kind != "string":
            continue
        field = f"manifest.{leaf.dotted}"
        body = {"name": world.fresh_name(), "gpu": {"id": "NVIDIA GeForce RTX 4090"}}
        accepted = await world.http.post(
            "/api/v1/deployments", json={**body, "manifest": leaf.build(leaf.example)}
        )
        assert accepted.status_code == 201, f"{field} = {leaf.example!r}: {accepted.text}"
        for edge in EDGES:
            await _manifest_refused(world, leaf, edge.format(leaf.example))
        checked.append(field)
    assert {"manifest.comfyui.ref", "manifest.models.0.folder", "manifest.pip.0"} <= set(checked)


async def test_every_integer_field_refuses_booleans_floats_strings_and_huge_values(
    world: World,
) -> None:
    doc = _app_openapi(world)
    checked = []
    for method, path, leaf in _body_leaves(doc):
        if leaf.kind != "integer":
            continue
        for value in (*NOT_COUNTS, *HUGE):
            before = await _snapshot(world.runtime)
            body = _request_body(world, path, leaf, value)
            response = await _send(world, method, path, body)
            where = f"{method} {path} {leaf.dotted} = {value!r}"
            assert _names(response, leaf.field_for(value)), f"{where}: {response.text}"
            assert await _snapshot(world.runtime) == before, where
        checked.append(f"{path} {leaf.dotted}")
    assert "/api/v1/deployments gpu.count" in checked
    assert "/api/v1/deployments container_disk_gb" in checked


async def test_every_manifest_integer_refuses_booleans_and_huge_values(world: World) -> None:
    checked = []
    for leaf in leaves(MANIFEST_SCHEMA, MANIFEST_SCHEMA):
        if leaf.kind != "integer":
            continue
        for value in (True, 1.0, "1", *HUGE):
            await _manifest_refused(world, leaf, value)
        checked.append(f"manifest.{leaf.dotted}")
    assert {"manifest.models.0.size", "manifest.models.0.source.version_id"} <= set(checked)


@pytest.mark.parametrize(
    "name",
    [
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_KEY_0",
        "git_ssh_command",
        "PIP_INDEX_URL",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "UV_INDEX_URL",
        "BASH_ENV",
        "https_proxy",
        "HF_ENDPOINT",
        "SSL_CERT_FILE",
        "PATH",
        *STEERING_NAMES,
        *(f"{prefix}X" for prefix in STEERING_PREFIXES),
    ],
)
async def test_env_names_that_steer_the_agents_tools_are_refused(world: World, name: str) -> None:
    before = await _snapshot(world.runtime)
    response = await world.http.post(
        "/api/v1/deployments",
        json={
            "name": "steered",
            "gpu": {"id": "NVIDIA GeForce RTX 4090"},
            "env": {"SAFE_SETTING": "1", name: "core.fsmonitor"},
        },
    )
    assert _names(response, f"env.{name}"), response.text
    message = response.json()["errors"][0]["message"]
    assert name in message, message
    assert "steers" in message, message
    assert await _snapshot(world.runtime) == before


async def test_env_names_that_steer_nothing_are_kept(world: World) -> None:
    env = {"HF_HUB_ENABLE_HF_TRANSFER": "1", "HF_HOME": "/workspace/hf", "COMFY_FLAGS": "x"}
    response = await world.http.post(
        "/api/v1/deployments",
        json={"name": "tuned", "gpu": {"id": "NVIDIA GeForce RTX 4090"}, "env": env},
    )
    assert response.status_code == 201, response.text
    async with world.runtime.sessions() as session:
        stored = await session.get(Deployment, response.json()["id"])
    assert stored is not None
    assert stored.spec["env"] == env


def test_the_walk_reaches_every_request_body(tmp_path: Path) -> None:
    """Every operation that takes a JSON body has fields the walk reaches; env keys among them."""
    doc = create_app(fast_settings(tmp_path)).openapi()
    bodies = {(m, p) for m, p, op in operations(doc) if json_body_schema(op) is not None}
    reached = {(m, p) for m, p, _ in _body_leaves(doc)}
    assert bodies == reached
    keys = [leaf for _, p, leaf in _body_leaves(doc) if KEY in leaf.path]
    assert [leaf.dotted for leaf in keys] == ["env.{key}", "overrides.{key}"]
