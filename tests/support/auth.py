"""How tests are authenticated: ONE fixed admin token, everywhere.

Every server a test starts is authenticated like a real one (there is no switch that turns
authentication off). The suite's root `tests/conftest.py` sets `HANGAR_ADMIN_TOKEN` to
`TEST_ADMIN_TOKEN` in the environment before any test runs, so:

- every `Settings()` a test builds (in-process servers, `Runtime.start`, `fast_settings`) and
  every subprocess it starts (`comfyhangar serve`, `python -m ...`) creates its admin with this
  token on its first start;
- every CLI a test runs (in-process or as a subprocess) sends it too: the root conftest also
  sets `HANGAR_TOKEN` (`CLI_TOKEN_ENV`), which the CLI prefers to any other credential;
- a test that calls a route's handler as a function passes `ADMIN_PRINCIPAL`;
- a test sends `headers=auth_headers()` (or uses `ADMIN_HEADERS`) with each request, or builds
  its client with `httpx.AsyncClient(..., headers=auth_headers())`. The shared helpers
  (`running_hangar`, `api`, `read_events` in tests/server/conftest.py, the CLI and browser
  fixtures) already do.

Tests about authentication itself (first start without the variable, other users, roles,
tokens, the CLI finding a local server's token file) unset them with
`monkeypatch.delenv(ADMIN_TOKEN_ENV)` / `monkeypatch.delenv(CLI_TOKEN_ENV)` or make their own users through
the API with these admin headers (`make_user`).
"""

from __future__ import annotations

from typing import Any

import httpx

from comfyhangar.core.access import ROLE_SCOPES, Principal, Role

ADMIN_TOKEN_ENV = "HANGAR_ADMIN_TOKEN"
CLI_TOKEN_ENV = "HANGAR_TOKEN"
# Not an `hgr_` token on purpose: HANGAR_ADMIN_TOKEN is any string of 32+ characters.
TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop"


def auth_headers(token: str = TEST_ADMIN_TOKEN) -> dict[str, str]:
    """The headers of a request authenticated with `token` (default: the test admin's)."""
    return {"Authorization": f"Bearer {token}"}


ADMIN_HEADERS = auth_headers()
# For tests that call a route's handler directly (no request): an admin, who sees everything.
ADMIN_PRINCIPAL = Principal("test-admin", "admin", Role.ADMIN, ROLE_SCOPES[Role.ADMIN], "token")


async def make_user(
    http: httpx.AsyncClient,
    name: str,
    role: str,
    *,
    password: str = "correct horse battery",  # noqa: S107
) -> dict[str, Any]:
    """A new user of `role` through the API (invite, accept), and an API token of theirs with
    every scope of the role: `{"id", "name", "token", "headers"}`."""
    invite = await http.post("/api/v1/users/invites", json={"role": role}, headers=ADMIN_HEADERS)
    assert invite.status_code == 201, invite.text
    secret = invite.json()["url"].split("#invite=", 1)[1]
    async with httpx.AsyncClient(transport=http._transport, base_url=http.base_url) as browser:
        accepted = await browser.post(
            "/api/v1/auth/invites/accept",
            json={"invite": secret, "name": name, "password": password},
        )
        assert accepted.status_code == 200, accepted.text
        me = accepted.json()
        scopes = {"admin": ["read", "deploy", "run", "admin"], "member": ["read", "deploy", "run"]}
        made = await browser.post(
            "/api/v1/tokens",
            json={"name": f"{name} test token", "scopes": scopes.get(role, ["read"])},
            headers={"X-CSRF-Token": me["csrf_token"]},
        )
        assert made.status_code == 201, made.text
    token = made.json()["token"]
    return {"id": me["id"], "name": name, "token": token, "headers": auth_headers(token)}
