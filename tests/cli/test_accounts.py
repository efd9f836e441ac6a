"""`comfyhangar login`, `logout`, `login-link` and `tokens create|ls|revoke` against a real
server; the kept token file is 0600; a token never shows in `tokens ls`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.server.conftest import Hangar
from tests.support.auth import CLI_TOKEN_ENV, TEST_ADMIN_TOKEN


async def test_tokens_login_and_logout(
    cli: Cli, hangar: Hangar, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    made = await cli("tokens", "create", "laptop", "--scope", "read", "--scope", "deploy", "--json")
    assert made.exit_code == 0, made.both
    token = json.loads(made.stdout)["token"]
    assert token.startswith("hgr_")
    listed = await cli("tokens", "ls")
    assert listed.exit_code == 0, listed.both
    assert "laptop" in listed.stdout
    assert token not in listed.both
    bad = await cli("tokens", "create", "x", "--scope", "root")
    assert bad.exit_code == 1
    assert "unknown scope 'root'" in bad.stderr

    # Without HANGAR_TOKEN (and not a local data dir of this server): 401, and how to sign in.
    no_token = {CLI_TOKEN_ENV: None, "HANGAR_DATA_DIR": str(tmp_path / "elsewhere")}
    refused = await cli("ls", env=no_token)
    assert refused.exit_code == 1
    assert "comfyhangar login" in refused.stderr
    token_file = tmp_path / "token.txt"
    token_file.write_text(token + "\n")
    login = await cli("login", "--token-file", str(token_file), env=no_token)
    assert login.exit_code == 0, login.both
    assert "as admin (admin)" in login.stdout
    kept = config / "comfyhangar" / "credentials.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert (await cli("ls", env=no_token)).exit_code == 0  # the kept token is used
    link = await cli("login-link", env={CLI_TOKEN_ENV: TEST_ADMIN_TOKEN})
    assert link.exit_code == 0, link.both
    assert f"{hangar.base_url}/login#link=" in link.stdout

    token_id = json.loads(made.stdout)["id"]
    revoked = await cli("tokens", "revoke", token_id)
    assert revoked.exit_code == 0, revoked.both
    assert (await cli("ls", env=no_token)).exit_code == 1  # revoked: refused
    assert (await cli("logout", env=no_token)).exit_code == 0
    assert hangar.base_url not in kept.read_text()
