"""Every route of the OpenAPI document, walked with no credentials, a viewer's token and a
member's token: the "Done when" of accounts (issue 13).

- Without credentials, every operation but health, sign-in and accepting an invite answers 401
  `unauthenticated` (the docs are not in the document: test_auth.py checks them).
- With a viewer's token, every operation with an unsafe method answers 403 `forbidden`.
- With a member's token, every operation on a deployment of someone else answers 403 or 404.

In each case nothing changes: the deployment stays as it was. The routes come from the
document itself, so a route added later is walked without a change here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from comfyhangar.server.db.models import Run
from comfyhangar.server.runtime import Runtime
from tests.server.conftest import FLUX_DEPLOY, api, deployment, frozen_runtime
from tests.support.auth import make_user
from tests.support.schema_walk import NoExample, example, json_body_schema, operations

OPEN = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/session"),
    ("POST", "/api/v1/auth/invites/accept"),
}
SAFE = {"GET", "HEAD", "OPTIONS"}
PARAM = re.compile(r"\{([^}]+)\}")


@dataclass
class World:
    runtime: Runtime
    http: httpx.AsyncClient  # the admin's
    doc: dict[str, Any]
    deployment_id: str  # the admin's
    viewer: dict[str, Any]
    member: dict[str, Any]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        created = await http.post("/api/v1/deployments", json=FLUX_DEPLOY)
        assert created.status_code == 201, created.text
        doc = (await http.get("/api/v1/openapi.json")).json()
        viewer = await make_user(http, "vera", "viewer")
        member = await make_user(http, "mo", "member")
        yield World(runtime, http, doc, created.json()["id"], viewer, member)


def _url(path: str, deployment_id: str) -> str:
    return PARAM.sub(lambda m: deployment_id if m.group(1) == "deployment_id" else "0" * 32, path)


def _body(world: World, operation: dict[str, Any]) -> Any:
    schema = json_body_schema(operation)
    if schema is None:
        return None
    try:
        return example(world.doc, schema)
    except NoExample:
        return {}  # refused before the body is read anyway


async def _send(
    world: World, method: str, path: str, op: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    # A fresh client: no cookie, no default header of the admin's.
    transport = world.http._transport
    async with httpx.AsyncClient(transport=transport, base_url=world.http.base_url) as anon:
        return await anon.request(
            method, _url(path, world.deployment_id), json=_body(world, op), headers=headers
        )


async def _unchanged(world: World) -> None:
    dep = await deployment(world.runtime, world.deployment_id)
    assert (dep.state, dep.desired_state, dep.version) == ("pending", "running", 1)


async def test_without_credentials_every_route_but_health_and_sign_in_answers_401(
    world: World,
) -> None:
    walked = []
    for method, path, op in operations(world.doc):
        if (method, path) in OPEN:
            continue
        response = await _send(world, method, path, op, {})
        walked.append((method, path))
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = await _send(world, method, path, op, {"Authorization": "Bearer hgr_not-a-token"})
        assert wrong.status_code == 401, (method, path, wrong.text)
    assert len(walked) > 25, walked  # the whole API, not a corner of it
    await _unchanged(world)


async def test_a_viewer_token_is_refused_every_mutating_route(world: World) -> None:
    walked = []
    for method, path, op in operations(world.doc):
        if method in SAFE or (method, path) in OPEN:
            continue
        response = await _send(world, method, path, op, world.viewer["headers"])
        walked.append((method, path))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
    assert ("POST", "/api/v1/deployments") in walked
    assert ("DELETE", "/api/v1/deployments/{deployment_id}") in walked
    await _unchanged(world)
    # Reading is what a viewer may do.
    listed = await _send(world, "GET", "/api/v1/deployments", {}, world.viewer["headers"])
    assert [d["id"] for d in listed.json()["deployments"]] == [world.deployment_id]


async def test_a_member_token_cannot_reach_a_deployment_of_someone_else(world: World) -> None:
    walked = []
    for method, path, op in operations(world.doc):
        if "{deployment_id}" not in path:
            continue
        response = await _send(world, method, path, op, world.member["headers"])
        walked.append((method, path))
        assert response.status_code in (403, 404), (method, path, response.text)
    assert len(walked) >= 7
    await _unchanged(world)
    listed = await _send(world, "GET", "/api/v1/deployments", {}, world.member["headers"])
    assert listed.json()["deployments"] == []  # a member's list holds their own only


async def _admins_queued_run(world: World) -> str:
    """A run queued on the admin's deployment, owned by the admin (written as the service
    would: the frozen deployment is not ready, so the API refuses to queue one)."""
    run = Run(
        id=uuid.uuid4().hex,
        batch_id=uuid.uuid4().hex,
        deployment_id=world.deployment_id,
        prompt={},
        prompt_id=str(uuid.uuid4()),
        client_id=uuid.uuid4().hex,
        state="queued",
        owner="test-admin",
    )
    async with world.runtime.sessions() as session, session.begin():
        session.add(run)
    return run.id


async def test_a_member_cannot_run_on_or_cancel_runs_of_a_deployment_of_someone_else(
    world: World,
) -> None:
    member = world.member["headers"]
    stop = await world.http.post(f"/api/v1/deployments/{world.deployment_id}/stop", headers=member)
    assert stop.status_code in (403, 404), stop.text
    refused_as = (stop.status_code, stop.json()["code"])

    run_id = await _admins_queued_run(world)
    started = await world.http.post(
        "/api/v1/runs",
        json={"deployment_id": world.deployment_id, "prompt": {}},
        headers=member,
    )
    assert (started.status_code, started.json()["code"]) == refused_as, started.text
    cancelled = await world.http.post(f"/api/v1/runs/{run_id}/cancel", headers=member)
    assert (cancelled.status_code, cancelled.json()["code"]) == refused_as, cancelled.text

    # Nothing queued, nothing cancelled; a member's list holds their own runs only.
    listed = (await world.http.get("/api/v1/runs")).json()
    assert [(r["id"], r["state"]) for r in listed["items"]] == [(run_id, "queued")]
    assert (await world.http.get("/api/v1/runs", headers=member)).json()["total"] == 0
    await _unchanged(world)


async def test_runs_are_owned_by_who_started_them(world: World) -> None:
    member = world.member["headers"]
    mine = await world.http.post(
        "/api/v1/deployments", json={**FLUX_DEPLOY, "name": "mos"}, headers=member
    )
    assert mine.status_code == 201, mine.text
    # The member's own deployment passes the check (it is not ready yet: 409, not 404).
    tried = await world.http.post(
        "/api/v1/runs", json={"deployment_id": mine.json()["id"], "prompt": {}}, headers=member
    )
    assert tried.status_code == 409, tried.text
    assert tried.json()["code"] == "target_not_ready"
    await _admins_queued_run(world)
    async with world.runtime.sessions() as session:
        owners = set((await session.scalars(select(Run.owner))).all())
    assert owners == {"test-admin"}
