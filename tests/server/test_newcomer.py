"""A newcomer's first minutes, with real processes: `comfyhangar serve` prints a one-time
sign-in link; opening it signs a browser in; `comfyhangar deploy` in another terminal works
with no login step (it finds the admin token file of the server on this machine)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.auth import ADMIN_TOKEN_ENV, CLI_TOKEN_ENV
from tests.support.servers import free_port

LINK = re.compile(r"sign in\s+(http://127\.0\.0\.1:\d+/login#link=[A-Za-z0-9_-]+)")


@pytest.mark.slow
def test_serve_print_the_link_sign_in_and_deploy_from_the_cli_without_logging_in(
    tmp_path: Path,
) -> None:
    port = free_port()
    # A fresh account on a laptop: nothing set but where the home directory is.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.pop(ADMIN_TOKEN_ENV, None)
    env.pop(CLI_TOKEN_ENV, None)
    env.update(
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "share"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HANGAR_PREFLIGHT="0",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "comfyhangar", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert server.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        link = None
        while link is None:
            line = server.stdout.readline()
            assert line or server.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            lines.append(line)
            if match := LINK.search(line):
                link = match.group(1)
        assert link.startswith(f"{base}/login#link=")
        secret = link.split("#link=", 1)[1]

        # The browser: the page reads the fragment and signs in with it (what LoginPage does).
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.get("/api/v1/deployments").status_code == 401
            assert browser.get("/login").status_code == 200  # the dashboard's sign-in page
            signed = browser.post("/api/v1/auth/session", json={"link": secret})
            assert signed.status_code == 200, signed.text
            assert browser.get("/api/v1/deployments").status_code == 200

        # The CLI, in another terminal: no login step.
        deployed = subprocess.run(
            [
                sys.executable,
                "-m",
                "comfyhangar",
                "deploy",
                "first",
                "--gpu",
                "RTX 4090",
                "--detach",
                "--json",
                "--url",
                base,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert deployed.returncode == 0, deployed.stderr
        created = json.loads(deployed.stdout)
        assert created["name"] == "first"
        token_file = tmp_path / "share" / "comfyhangar" / "admin-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        listed = subprocess.run(
            [sys.executable, "-m", "comfyhangar", "ls", "--json", "--url", base],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert [d["id"] for d in json.loads(listed.stdout)["deployments"]] == [created["id"]]
        # The secrets of the token file never reach the output of either process.
        token = token_file.read_text().strip()
        assert token not in deployed.stdout + deployed.stderr + listed.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert token not in output
