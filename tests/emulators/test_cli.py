"""`comfyhangar emulator` serves the emulator from the command line."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from tests.support.servers import free_port


def test_cli_serves_the_emulator() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "comfyhangar",
        "emulator",
        "--port",
        str(port),
        "--api-key",
        "k",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v2/pods", headers={"Authorization": "Bearer k"}
                )
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["pods"] == []
        anonymous = httpx.get(f"http://127.0.0.1:{port}/v2/pods")
        assert anonymous.status_code == 401
    finally:
        process.terminate()
        process.communicate(timeout=10)
