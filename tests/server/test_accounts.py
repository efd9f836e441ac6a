"""Accounts: the first start, API tokens, browser sessions and CSRF, passwords and their rate
limit, roles and owners, secrets at rest and owner-only files (issue 13)."""

from __future__ import annotations

import logging
import sqlite3
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from comfyhangar.core.access import new_api_token, well_formed
from comfyhangar.server.db.models import ApiToken, ComfyUIServer, Deployment
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.services.secrets import SecretKeyError, load_secrets
from tests.server.conftest import FLUX_DEPLOY, api, deployment, fast_settings, frozen_runtime
from tests.support.auth import (
    ADMIN_TOKEN_ENV,
    TEST_ADMIN_TOKEN,
    auth_headers,
    make_user,
)

HF = "hf_" + "M4rk3r" * 5 + "abcd"  # a unique marker: 34 alphanumerics after hf_
CIVITAI = "c1v1" * 8
WILDCARD = "0.0.0.0"  # noqa: S104 - the address a refused server would bind
PASSWORD = "Pa55-marker-w0rd-xyz"
HEADER_VALUE = "Bearer hdr-M4rk3r-v4lue-qrs"  # a registered ComfyUI server's auth header


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        yield runtime, http


def browser(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client that holds cookies and sends no token (as a browser)."""
    return httpx.AsyncClient(transport=http._transport, base_url=http.base_url)


async def test_the_first_start_makes_the_admin_a_token_file_and_a_one_time_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADMIN_TOKEN_ENV)
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        token_file = tmp_path / "admin-token"
        token = token_file.read_text().strip()
        assert well_formed(token)
        assert _mode(token_file) == 0o600
        assert _mode(tmp_path) == 0o700
        for name in ("hangar.db", "hangar.db-wal", "hangar.db-shm", "secret.key"):
            if (tmp_path / name).exists():
                assert _mode(tmp_path / name) == 0o600, name
        me = await http.get("/api/v1/auth/me", headers=auth_headers(token))
        assert me.json()["name"] == "admin"
        assert me.json()["role"] == "admin"
        link = runtime.first_login_link
        assert link is not None
        async with browser(http) as b:
            signed = await b.post("/api/v1/auth/session", json={"link": link})
            assert signed.status_code == 200, signed.text
            cookie = signed.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=lax" in cookie
            assert (await b.get("/api/v1/deployments")).status_code == 200
        async with browser(http) as again:
            spent = await again.post("/api/v1/auth/session", json={"link": link})
            assert spent.status_code == 401  # one time only
    # A second start keeps the admin and its token; no new link.
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        assert runtime.first_login_link is None
        assert token_file.read_text().strip() == token
        listed = await http.get("/api/v1/users", headers=auth_headers(token))
        assert [u["name"] for u in listed.json()["users"]] == ["admin"]


async def test_hangar_admin_token_becomes_the_admins_token(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = world
    assert (runtime.settings.admin_token_file).read_text().strip() == TEST_ADMIN_TOKEN
    me = await http.get("/api/v1/auth/me")
    assert me.json()["scopes"] == ["admin", "deploy", "read", "run"]


async def test_api_tokens_are_shown_once_scoped_revocable_and_stored_as_hashes(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = world
    made = await http.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"]})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert well_formed(token)
    listed = (await http.get("/api/v1/tokens")).text
    assert token not in listed
    assert made.json()["hint"] in listed
    async with runtime.sessions() as session:
        stored = list(await session.scalars(select(ApiToken)))
    assert all(token not in (r.token_hash, r.hint) for r in stored)
    read_only = auth_headers(token)
    assert (await http.get("/api/v1/deployments", headers=read_only)).status_code == 200
    refused = await http.post("/api/v1/deployments", json=FLUX_DEPLOY, headers=read_only)
    assert refused.status_code == 403
    assert "scope 'deploy'" in refused.json()["detail"]
    # A typo is caught by the checksum, a revoked token stops at once.
    typo = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await http.get("/api/v1/deployments", headers=auth_headers(typo))).status_code == 401
    assert (
        await http.get("/api/v1/deployments", headers=auth_headers(new_api_token()))
    ).status_code == 401
    revoked = await http.delete(f"/api/v1/tokens/{made.json()['id']}")
    assert revoked.json()["revoked_at"] is not None
    gone = await http.get("/api/v1/deployments", headers=read_only)
    assert gone.status_code == 401
    assert gone.json()["code"] == "unauthenticated"
    # Expired tokens stop too; last use is recorded.
    other = (await http.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]})).json()
    assert (await http.get("/api/v1/gpus", headers=auth_headers(other["token"]))).status_code == 200
    async with runtime.sessions() as session, session.begin():
        row = await session.get(ApiToken, other["id"])
        assert row is not None
        assert row.last_used_at is not None
        await session.execute(
            update(ApiToken).where(ApiToken.id == other["id"]).values(expires_at=row.created_at)
        )
    assert (await http.get("/api/v1/gpus", headers=auth_headers(other["token"]))).status_code == 401


async def test_a_token_cannot_give_more_than_its_user_has(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = world
    member = await make_user(http, "mia", "member")
    beyond = await http.post(
        "/api/v1/tokens", json={"name": "up", "scopes": ["admin"]}, headers=member["headers"]
    )
    assert beyond.status_code == 422
    assert (await http.get("/api/v1/users", headers=member["headers"])).status_code == 403


async def test_cookie_writes_need_the_csrf_token_and_our_origin(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = world
    dep_id = (await http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    async with browser(http) as b:
        me = (await b.post("/api/v1/auth/session", json={"token": TEST_ADMIN_TOKEN})).json()
        csrf = {"X-CSRF-Token": me["csrf_token"]}
        for headers in ({}, {"X-CSRF-Token": "0" * 64}, {**csrf, "Origin": "https://evil.example"}):
            refused = await b.post(f"/api/v1/deployments/{dep_id}/stop", headers=headers)
            assert refused.status_code == 403, headers
        assert (await deployment(runtime, dep_id)).desired_state == "running"
        stopped = await b.post(f"/api/v1/deployments/{dep_id}/stop", headers=csrf)
        assert stopped.status_code == 202
        assert (await deployment(runtime, dep_id)).desired_state == "stopped"
        assert (await b.delete("/api/v1/auth/session", headers=csrf)).status_code == 204
        b.cookies.clear()
    # The old cookie no longer signs in.
    async with browser(http) as b:
        b.cookies.set("hangar_session", "x" * 43)
        assert (await b.get("/api/v1/auth/me")).status_code == 401


async def test_passwords_sign_in_and_guessing_is_rate_limited(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = world
    await make_user(http, "pat", "member", password=PASSWORD)
    async with browser(http) as b:
        ok = await b.post("/api/v1/auth/session", json={"name": "pat", "password": PASSWORD})
        assert ok.status_code == 200
        for _ in range(5):
            wrong = await b.post(
                "/api/v1/auth/session", json={"name": "pat", "password": "nope-nope-nope"}
            )
            assert wrong.status_code == 401
            assert wrong.json()["detail"] == "wrong name or password"
        limited = await b.post("/api/v1/auth/session", json={"name": "pat", "password": PASSWORD})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) > 0
        unknown = await b.post(
            "/api/v1/auth/session", json={"name": "nobody", "password": "x" * 12}
        )
        assert unknown.json()["detail"] == "wrong name or password"


async def test_members_own_their_deployments_and_admins_see_all(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, http = world
    mine = (await http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    member = await make_user(http, "max", "member")
    body = {**FLUX_DEPLOY, "name": "max-flux"}
    theirs = (await http.post("/api/v1/deployments", json=body, headers=member["headers"])).json()[
        "id"
    ]
    assert (await deployment(runtime, theirs)).owner_id == member["id"]
    listed = (await http.get("/api/v1/deployments", headers=member["headers"])).json()
    assert [d["id"] for d in listed["deployments"]] == [theirs]
    assert {d["id"] for d in (await http.get("/api/v1/deployments")).json()["deployments"]} == {
        mine,
        theirs,
    }
    assert (
        await http.post(f"/api/v1/deployments/{theirs}/stop", headers=member["headers"])
    ).status_code == 202
    assert (
        await http.post(f"/api/v1/deployments/{mine}/stop", headers=member["headers"])
    ).status_code == 404
    # Disabled: the member's token stops; deleted: the deployment becomes the admin's.
    users = (await http.get("/api/v1/users")).json()["users"]
    admin_id = next(u["id"] for u in users if u["name"] == "admin")
    assert (
        await http.patch(f"/api/v1/users/{member['id']}", json={"disabled": True})
    ).status_code == 200
    assert (await http.get("/api/v1/deployments", headers=member["headers"])).status_code == 401
    assert (await http.delete(f"/api/v1/users/{member['id']}")).status_code == 204
    assert (await deployment(runtime, theirs)).owner_id == admin_id
    # The last admin stays one.
    last = await http.patch(f"/api/v1/users/{admin_id}", json={"role": "viewer"})
    assert last.status_code == 409


async def test_existing_deployments_become_the_admins(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        dep_id = (await http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
        async with runtime.sessions() as session, session.begin():
            await session.execute(update(Deployment).values(owner_id=None))  # as before 0009
    async with frozen_runtime(tmp_path) as runtime:
        owner = (await deployment(runtime, dep_id)).owner_id
        users = await runtime.accounts.users()
        assert owner == users[0].id


async def test_no_secret_is_stored_in_clear_logged_or_answered(
    world: tuple[Runtime, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    """Unique markers (a Hugging Face and a Civitai token, the pod token, an API token, the
    admin token, a password, a registered server's auth header value) appear nowhere: not in the database dump (events included), not
    in the log, not in any answer of a GET route."""
    caplog.set_level(logging.DEBUG)
    runtime, http = world
    body = {**FLUX_DEPLOY, "hf_token": HF, "civitai_token": CIVITAI}
    dep_id = (await http.post("/api/v1/deployments", json=body)).json()["id"]
    made = (await http.post("/api/v1/tokens", json={"name": "m", "scopes": ["read"]})).json()
    sam = await make_user(http, "sam", "member", password=PASSWORD)
    async with browser(http) as b:
        await b.post("/api/v1/auth/session", json={"name": "sam", "password": PASSWORD})
        await b.post("/api/v1/auth/session", json={"name": "sam", "password": PASSWORD + "x"})
    server = await http.post(
        "/api/v1/comfyui-servers",
        json={
            "name": "studio",
            "url": "http://127.0.0.1:9",
            "auth_header_name": "Authorization",
            "auth_header_value": HEADER_VALUE,
        },
    )
    assert server.status_code == 201, server.text
    assert server.json()["has_auth"] is True
    # Opened where the client is built: the header sent is the value given.
    row = await runtime.servers.get(server.json()["id"])
    assert row.auth_header_value is not None
    assert row.auth_header_value.startswith("fernet:")
    endpoint = runtime.comfyui.server_endpoint(row)
    assert endpoint.headers == {"Authorization": HEADER_VALUE}
    pod_token = await runtime.deployments.pod_token(dep_id)
    assert pod_token
    markers = (HF, CIVITAI, pod_token, made["token"], sam["token"], TEST_ADMIN_TOKEN, PASSWORD)
    markers += (HEADER_VALUE,)
    database = runtime.settings.data_dir / "hangar.db"
    with sqlite3.connect(database) as conn:
        dump = "\n".join(conn.iterdump())
    assert "fernet:" in dump
    answers = []
    doc = (await http.get("/api/v1/openapi.json")).json()
    for path, item in doc["paths"].items():
        if "get" in item and "events" not in path and "follow" not in str(item["get"]):
            url = path.replace("{deployment_id}", dep_id).replace("{user_id}", sam["id"])
            url = url.replace("{server_id}", server.json()["id"])
            answers.append((await http.get(url.replace("{budget_id}", "0" * 32))).text)
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    for marker in markers:
        assert marker not in dump
        assert marker not in logged
        assert all(marker not in answer for answer in answers)
    assert len(answers) > 15


def test_serve_refuses_a_public_address_without_tls(tmp_path: Path) -> None:
    env = {"HANGAR_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "comfyhangar", "serve", "--host", WILDCARD],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "HANGAR_PUBLIC_URL=https://" in done.stderr
    assert not (tmp_path / "hangar.db").exists()  # refused before anything was made
    behind_tls = fast_settings(tmp_path, host=WILDCARD, public_url="https://h.example")
    assert behind_tls.exposure_problem() is None


async def test_every_page_carries_the_security_headers(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = world
    async with browser(http) as b:
        for path in ("/", "/login", "/api/v1/docs", "/api/v1/health", "/api/v1/deployments"):
            response = await b.get(path)
            csp = response.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp, path
            assert "script-src 'self'" in csp
            assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "same-origin"
            assert "access-control-allow-origin" not in response.headers
        docs = (await b.get("/api/v1/docs")).text
        assert "<script>" not in docs


async def test_a_limited_token_cannot_sign_a_browser_in(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = world
    limited = (await http.post("/api/v1/tokens", json={"name": "r", "scopes": ["read"]})).json()
    async with browser(http) as b:
        refused = await b.post("/api/v1/auth/session", json={"token": limited["token"]})
        assert refused.status_code == 403
        assert "hangar_session" not in refused.headers.get("set-cookie", "")
        assert (await b.get("/api/v1/auth/me")).status_code == 401


async def test_the_audit_log_has_every_change_and_refusal_with_who_and_from_where(
    world: tuple[Runtime, httpx.AsyncClient],
) -> None:
    _, http = world
    dep_id = (await http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    viewer = await make_user(http, "val", "viewer")
    await http.post(f"/api/v1/deployments/{dep_id}/stop", headers=viewer["headers"])  # 403
    await http.get("/api/v1/deployments", headers=auth_headers("x" * 40))  # 401
    async with browser(http) as b:
        await b.post("/api/v1/auth/session", json={"name": "val", "password": "wrong-wrong-wrong"})
    await http.get("/api/v1/deployments")  # a read: not audited
    entries = (await http.get("/api/v1/audit")).json()["entries"]
    seen = [(e["actor_name"], e["method"], e["path"], e["status"], e["outcome"]) for e in entries]
    assert ("admin", "POST", "/api/v1/deployments", 201, "ok") in seen
    assert ("val", "POST", f"/api/v1/deployments/{dep_id}/stop", 403, "refused") in seen
    assert (None, "GET", "/api/v1/deployments", 401, "refused") in seen
    failed = next(e for e in entries if e["path"] == "/api/v1/auth/session" and e["status"] == 401)
    assert failed["subject"] == "val"
    assert failed["address"]
    assert ("admin", "GET", "/api/v1/deployments", 200, "ok") not in seen
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    exported = await http.get("/api/v1/audit", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("id,at,actor_name")
    assert len(lines) == len(entries) + 1
    assert (await http.get("/api/v1/audit", headers=viewer["headers"])).status_code == 403
    assert "wrong-wrong-wrong" not in exported.text


async def test_a_secret_key_that_does_not_fit_stops_the_start(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        body = {**FLUX_DEPLOY, "hf_token": HF}
        assert (await http.post("/api/v1/deployments", json=body)).status_code == 201
    (tmp_path / "secret.key").write_text(Fernet.generate_key().decode())  # the key was lost
    with pytest.raises(SecretKeyError, match="does not decrypt"):
        async with frozen_runtime(tmp_path):
            pass


async def test_rotating_the_secret_key_reencrypts_every_secret(tmp_path: Path) -> None:
    old = tmp_path / "secret.key"
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        body = {**FLUX_DEPLOY, "hf_token": HF}
        dep_id = (await http.post("/api/v1/deployments", json=body)).json()["id"]
    new = Fernet.generate_key().decode()
    keys = f"{new},{old.read_text().strip()}"
    async with frozen_runtime(tmp_path, secret_key=keys) as runtime:
        assert (await load_secrets(runtime.sessions, dep_id, runtime.deployments.secret_box))[
            "hf_token"
        ] == HF
    old.unlink()
    async with frozen_runtime(tmp_path, secret_key=new) as runtime:  # the old key is gone
        secrets = await load_secrets(runtime.sessions, dep_id, runtime.deployments.secret_box)
        assert secrets["hf_token"] == HF


async def test_a_servers_auth_header_stored_in_clear_is_sealed_at_start(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        body = {
            "name": "studio",
            "url": "http://127.0.0.1:9",
            "auth_header_name": "X-Key",
            "auth_header_value": HEADER_VALUE,
        }
        server_id = (await http.post("/api/v1/comfyui-servers", json=body)).json()["id"]
        async with runtime.sessions() as session, session.begin():  # as before it was sealed
            await session.execute(
                update(ComfyUIServer)
                .where(ComfyUIServer.id == server_id)
                .values(auth_header_value=HEADER_VALUE)
            )
    async with frozen_runtime(tmp_path) as runtime:
        row = await runtime.servers.get(server_id)
        assert row.auth_header_value is not None
        assert row.auth_header_value.startswith("fernet:")
        assert runtime.comfyui.server_endpoint(row).headers == {"X-Key": HEADER_VALUE}
        database = runtime.settings.data_dir / "hangar.db"
    with sqlite3.connect(database) as conn:
        dump = "\n".join(conn.iterdump())
    assert server_id in dump
    assert HEADER_VALUE not in dump
