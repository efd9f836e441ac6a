"""A built wheel carries the dashboard, and `uvx` runs it from the wheel with no Node around."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
WEB_IN_WHEEL = "comfyhangar/server/static/web/"


@pytest.mark.slow
def test_uvx_from_the_wheel_serves_the_dashboard_without_node(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None or shutil.which("npm") is None:
        pytest.skip("building a wheel needs uv and npm on PATH")
    out = tmp_path / "dist"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "HANGAR_SKIP_WEB_BUILD"},
    )
    wheel = next(out.glob("comfyhangar-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        index = archive.read(WEB_IN_WHEEL + "index.html").decode()
    assert any(n.startswith(WEB_IN_WHEEL + "assets/") and n.endswith(".js") for n in names)

    # Run it with `uvx` from the wheel, elsewhere, with no Node on PATH.
    port = free_port()
    env = {
        "PATH": f"{Path(uv).parent}:/bin",  # no /usr/bin: no node, npm or npx
        "HOME": str(tmp_path),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR")
        or subprocess.run([uv, "cache", "dir"], capture_output=True, text=True).stdout.strip(),
        "UV_PYTHON": sys.executable,
        "HANGAR_DATA_DIR": str(tmp_path / "data"),
        "SSL_CERT_FILE": os.environ.get("SSL_CERT_FILE", ""),
    }
    server = subprocess.Popen(
        [uv, "tool", "run", "--isolated", "--from", str(wheel), "comfyhangar", "serve",
         "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        page = _get_when_up(f"http://127.0.0.1:{port}/deployments/any", server)
        assert page.status_code == 200
        assert page.text == index  # the wheel's build, not this checkout's
        script = next(
            n for n in names if n.startswith(WEB_IN_WHEEL + "assets/") and n.endswith(".js")
        )
        asset = httpx.get(f"http://127.0.0.1:{port}/{script.removeprefix(WEB_IN_WHEEL)}")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stderr is not None:
            server.stderr.close()


def _get_when_up(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                server.stderr.read().decode() if server.stderr else "server exited"
            )
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("the installed server did not answer within 120 s")
