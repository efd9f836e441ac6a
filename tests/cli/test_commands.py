"""The commands as a newcomer meets them, on one server for the module: narrow terminals,
presets, tokens, log lines in words, actions that are already done, names, the server URL."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import select
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from comfyhangar.agent.protocol import PREFIX
from tests.cli.conftest import Cli
from tests.server.conftest import FLUX_DEPLOY, Hangar
from tests.support.servers import running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

HF = "hf_cliTokenFromTheEnvironment01234567"  # the hub stand-in's token shape
HF_FILE = "hf_cliTokenFromAFile01234567890123456"
CIVITAI = "cafe0123456789abcdef0123456789ab"


async def deployed(hangar: Hangar, name: str, **extra: Any) -> dict[str, Any]:
    """A deployment made through the API, once it is ready."""
    response = await hangar.http.post(
        "/api/v1/deployments", json={**FLUX_DEPLOY, "name": name, **extra}
    )
    assert response.status_code == 201, response.text
    return await hangar.wait_for(response.json()["id"], "ready")


async def pod_env(hangar: Hangar, dep_id: str) -> dict[str, str]:
    """The env of the pod made for `dep_id` (waits for the create)."""
    await hangar.wait_for(dep_id, "ready")
    (pod,) = [p for p in hangar.emulator.all_pods if p["env"].get("HANGAR_DEPLOYMENT_ID") == dep_id]
    env: dict[str, str] = pod["env"]
    return env


# nothing a user copies is cut


@pytest.mark.parametrize("columns", [80, 60])
async def test_show_cuts_no_id_url_or_image_on_a_narrow_terminal(
    shared_hangar: Hangar, columns: int
) -> None:
    name = f"narrow-{columns}"
    dep = await deployed(shared_hangar, name)
    shown = await Cli(shared_hangar.base_url, columns=columns)("show", name)
    assert shown.exit_code == 0, shown.both
    link = shared_hangar.base_url + dep["links"]["comfyui"]
    (row,) = [line for line in shown.stdout.splitlines() if link in line]
    assert len(row) > columns, "the URL's line is wider than the terminal, and still whole"
    for whole in (dep["id"], dep["pod"]["id"], link, dep["image"], dep["gpu"]["id"]):
        assert whole in shown.stdout, f"{whole!r} is cut at {columns} columns:\n{shown.stdout}"
    assert "…" not in shown.stdout

    listed = await Cli(shared_hangar.base_url, columns=columns)("ls")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(name))
    assert dep["id"][:8] in row
    assert "…" not in listed.stdout


@pytest.mark.parametrize("columns", [80, 60])
async def test_gpus_cuts_no_gpu_id_on_a_narrow_terminal(
    shared_hangar: Hangar, columns: int
) -> None:
    catalog: list[dict[str, Any]] = (await shared_hangar.http.get("/api/v1/gpus")).json()["gpus"]
    listed = await Cli(shared_hangar.base_url, columns=columns)("gpus")
    assert listed.exit_code == 0, listed.both
    lines = listed.stdout.splitlines()
    for gpu in catalog:
        assert any(starts_with_id(line, gpu["id"]) for line in lines), f"{gpu['id']} is cut"
    assert "…" not in listed.stdout
    # The secure price and stock of each GPU stay with it (on its line, or the next).
    at = next(i for i, line in enumerate(lines) if starts_with_id(line, "NVIDIA GeForce RTX 4090"))
    near = " ".join(lines[at : at + 2])
    assert "$0.44" in near
    assert "HIGH" in near


def starts_with_id(line: str, gpu_id: str) -> bool:
    """The line starts with this id, whole (then the end of the line or a column gap)."""
    return line.startswith(gpu_id) and line[len(gpu_id) : len(gpu_id) + 2].strip() == ""


# presets


async def test_presets_lists_ids_sizes_tokens_and_models(shared_hangar: Hangar) -> None:
    served = (await shared_hangar.http.get("/api/v1/presets")).json()
    listed = await Cli(shared_hangar.base_url, columns=80)("presets")
    assert listed.exit_code == 0, listed.both
    lines = listed.stdout.splitlines()
    for preset in served["presets"]:
        (head,) = [line for line in lines if line.startswith(preset["id"] + " ")]
        assert preset["title"] in head
        needs = "needs a Hugging Face token" if preset["needs_hf_token"] else "no token needed"
        assert needs in head
        for model in preset["models"]:
            assert f"{model['folder']}/{model['name']}" in listed.stdout
    assert "flux-schnell  FLUX.1-schnell  34.2 GB  no token needed" in listed.stdout
    assert "--preset" in listed.stdout
    as_json = await Cli(shared_hangar.base_url)("presets", "--json")
    assert json.loads(as_json.stdout) == served
    assert as_json.stderr == ""


async def test_an_unknown_preset_names_the_close_one_and_creates_nothing(
    shared_hangar: Hangar,
) -> None:
    before = len(shared_hangar.emulator.all_pods)
    result = await Cli(shared_hangar.base_url)(
        "deploy", "typo", "--gpu", "RTX 4090", "--preset", "sdxl"
    )
    assert result.exit_code == 2
    assert "unknown preset 'sdxl'; did you mean sdxl-base?" in result.stderr
    assert "flux-schnell, sdxl-base, flux-seed, flux-dev" in result.stderr  # GET /presets order
    deployments = (await shared_hangar.http.get("/api/v1/deployments")).json()["deployments"]
    assert "typo" not in {d["name"] for d in deployments}
    assert len(shared_hangar.emulator.all_pods) == before


async def test_the_readme_first_deploy_installs_the_flux_schnell_set(shared_hangar: Hangar) -> None:
    result = await Cli(shared_hangar.base_url)(
        "deploy", "flux", "--preset", "flux-schnell", "--gpu", "RTX 4090", "--volume", "60"
    )
    assert result.exit_code == 0, result.both
    assert "flux is ready: ComfyUI at http://" in result.stdout
    for model in ("flux1-schnell.safetensors", "t5xxl_fp16.safetensors", "ae.safetensors"):
        assert f"models: {model} done" in result.stdout


# tokens


async def test_tokens_from_the_environment_and_files_reach_the_pod_and_are_never_printed(
    shared_hangar: Hangar, tmp_path: Path
) -> None:
    cli = Cli(shared_hangar.base_url)
    from_env = await cli(
        "deploy", "tok-env", "--gpu", "RTX 4090", "--preset", "flux-schnell", "-d",
        env={"HF_TOKEN": HF, "CIVITAI_TOKEN": CIVITAI},
    )  # fmt: skip
    assert from_env.exit_code == 0, from_env.both
    assert (
        "Using the Hugging Face token from HF_TOKEN and the Civitai token from CIVITAI_TOKEN"
        in (from_env.stderr)
    )
    dep_id = (await shared_hangar.http.get("/api/v1/deployments")).json()["deployments"][0]["id"]
    env = await pod_env(shared_hangar, dep_id)
    assert (env["HF_TOKEN"], env["CIVITAI_TOKEN"]) == (HF, CIVITAI)

    hf_file = tmp_path / "hf.txt"
    hf_file.write_text(f"  {HF_FILE}\n")
    from_file = await cli(
        "deploy", "tok-file", "--gpu", "RTX 4090", "--hf-token-file", str(hf_file), "--json",
        env={"HF_TOKEN": HF},
    )  # fmt: skip
    assert from_file.exit_code == 0, from_file.both
    created = json.loads(from_file.stdout)
    env = await pod_env(shared_hangar, created["id"])
    assert env["HF_TOKEN"] == HF_FILE, "the file option wins over the environment"
    shown = await cli("show", "tok-file", "--json")
    logs = await cli("logs", "tok-file", "--json")
    for result in (from_env, from_file, shown, logs):
        for token in (HF, HF_FILE, CIVITAI):
            assert token not in result.both


async def test_a_token_file_that_is_empty_or_unreadable_is_refused_without_echo(
    shared_hangar: Hangar, tmp_path: Path
) -> None:
    cli = Cli(shared_hangar.base_url)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    refused = await cli("deploy", "tok-bad", "--gpu", "RTX 4090", "--hf-token-file", str(empty))
    assert refused.exit_code == 1
    assert f"--hf-token-file: {empty} is empty" in refused.stderr
    two = tmp_path / "two.txt"
    two.write_text("hf_one hf_two\n")
    refused = await cli("deploy", "tok-bad", "--gpu", "RTX 4090", "--civitai-token-file", str(two))
    assert refused.exit_code == 1
    assert "should hold only the Civitai token" in refused.stderr
    assert "hf_one" not in refused.both
    missing = await cli(
        "deploy", "tok-bad", "--gpu", "RTX 4090", "--hf-token-file", str(tmp_path / "nope")
    )
    assert missing.exit_code == 1
    assert "cannot read the Hugging Face token from" in missing.stderr
    names = {
        d["name"]
        for d in (await shared_hangar.http.get("/api/v1/deployments")).json()["deployments"]
    }
    assert "tok-bad" not in names


def read_until(fd: int, text: bytes, timeout: float = 30.0) -> bytes:
    """What a pseudo-terminal shows, read until `text` appears (or the deadline passes)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} on the terminal: {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other side closed
                break
            seen += chunk
    return seen


def drain(fd: int) -> bytes:
    """What is left to read on a pseudo-terminal."""
    seen = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


async def test_a_gated_preset_asks_a_terminal_for_the_token_without_echo(
    shared_hangar: Hangar,
) -> None:
    typed = "hf_typedAtTheHiddenPrompt012345678901"
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "CIVITAI_TOKEN")}
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "comfyhangar", "deploy", "prompted", "--gpu", "RTX 4090",
            "--preset", "flux-dev", "-d", "--json",
            env={**env, "HANGAR_URL": shared_hangar.base_url, "COLUMNS": "80"},
            stdin=terminal, stdout=asyncio.subprocess.PIPE, stderr=terminal,
            start_new_session=True,  # no controlling terminal: getpass uses stdin, not /dev/tty
        )  # fmt: skip
        asked = await asyncio.to_thread(read_until, controller, b"empty to go on without")
        assert b"flux-dev has gated models (black-forest-labs/FLUX.1-dev)" in asked
        # Type only once the prompt has switched echo off (it flushes what came before).
        async with asyncio.timeout(30):
            while termios.tcgetattr(terminal)[3] & termios.ECHO:
                await asyncio.sleep(0.01)
        os.write(controller, typed.encode() + b"\n")
        stdout, _ = await asyncio.wait_for(proc.communicate(), 60)
        shown = asked + await asyncio.to_thread(drain, controller)
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0, shown
    assert typed.encode() not in shown + stdout, "the token is neither echoed nor printed"
    created = json.loads(stdout)
    assert (await pod_env(shared_hangar, created["id"]))["HF_TOKEN"] == typed


# logs


async def test_logs_show_progress_lines_in_words_and_json_keeps_them_raw(
    shared_hangar: Hangar,
) -> None:
    await deployed(shared_hangar, "log-words", preset="flux-schnell")
    cli = Cli(shared_hangar.base_url)
    words = await cli("logs", "log-words", "-n", "2000")
    assert words.exit_code == 0, words.both
    assert PREFIX not in words.stdout
    assert '{"v":1' not in words.stdout
    assert re.search(
        r" setup models · running · [\d.]+ GB of 34\.2 GB · [\d.]+ [MG]B/s · (\d+m )?\d+s left",
        words.stdout,
    )
    assert " setup models · done · flux1-schnell.safetensors · 23.8 GB" in words.stdout
    assert " setup ready · done · ComfyUI is ready" in words.stdout
    assert "[comfyui] Starting server" in words.stdout, "other lines as they are"
    raw = json.loads((await cli("logs", "log-words", "-n", "2000", "--json")).stdout)
    assert any(line["line"].startswith(PREFIX) for line in raw["lines"])


# actions that are already done


async def test_actions_already_done_say_so_and_exit_zero(shared_hangar: Hangar) -> None:
    dep = await deployed(shared_hangar, "acts")
    ref = dep["id"][:8]
    cli = Cli(shared_hangar.base_url)
    started = await cli("start", "acts")
    assert (started.exit_code, started.stdout.strip()) == (
        0,
        f"acts ({ref}) is already running (ready).",
    )

    assert (await cli("stop", "acts", "--wait")).exit_code == 0
    stopped = await cli("stop", "acts")
    assert (stopped.exit_code, stopped.stdout.strip()) == (0, f"acts ({ref}) is already stopped.")
    waited = await cli("stop", "acts", "--wait")
    assert waited.stdout.strip() == f"acts ({ref}) is already stopped."

    restarted = await cli("restart", "acts")
    assert restarted.exit_code == 1
    assert "only a running deployment can be restarted (it is stopped)" in restarted.stderr

    removed = await cli("rm", "acts", "--yes")
    assert removed.exit_code == 0
    assert (
        f"Terminate requested: acts ({ref}) is terminating. Follow it: comfyhangar show {ref} -f"
        in (removed.stdout)
    )
    await shared_hangar.wait_for(dep["id"], "terminated")
    again = await cli("rm", "acts")  # no question: there is nothing left to destroy
    assert (again.exit_code, again.stdout.strip()) == (0, f"acts ({ref}) is already terminated.")
    assert "Follow it" not in again.stdout
    refused = await cli("stop", "acts")
    assert refused.exit_code == 1
    assert "is terminated; deploy a new one" in refused.stderr


# names


async def test_a_name_means_its_live_deployment_and_otherwise_the_ids_are_listed(
    shared_hangar: Hangar,
) -> None:
    cli = Cli(shared_hangar.base_url)
    first = await deployed(shared_hangar, "dup")
    assert (await cli("rm", "dup", "--yes", "--wait")).exit_code == 0
    second = await deployed(shared_hangar, "dup")
    shown = json.loads((await cli("show", "dup", "--json")).stdout)
    assert shown["id"] == second["id"], "the live one, not the terminated one"
    stopped = await cli("stop", "dup")
    assert f"dup ({second['id'][:8]})" in stopped.stdout

    assert (await cli("rm", second["id"], "--yes", "--wait")).exit_code == 0
    ambiguous = await cli("show", "dup")
    assert ambiguous.exit_code == 1
    assert "2 terminated deployments are named 'dup'; name one by its id:" in ambiguous.stderr
    assert first["id"] in ambiguous.stderr
    assert second["id"] in ambiguous.stderr
    assert re.search(r"for example: comfyhangar show [0-9a-f]{8}", ambiguous.stderr)

    typo = await cli("logs", "narow-80")
    assert typo.exit_code == 1
    assert "did you mean narrow-80" in typo.stderr


# the server's URL


async def test_the_api_address_works_as_the_server_url(shared_hangar: Hangar) -> None:
    for url in (f"{shared_hangar.base_url}/api/v1", f"{shared_hangar.base_url}/api/v1/docs"):
        result = await Cli(url)("presets", "--json")
        assert result.exit_code == 0, result.both
        assert json.loads(result.stdout)["presets"]


async def test_a_server_that_is_not_comfyhangar_gets_a_clear_message() -> None:
    async def not_found(_request: Request) -> JSONResponse:
        return JSONResponse({"detail": "Not Found"}, status_code=404)  # as any FastAPI app

    other = Starlette(routes=[Route("/{path:path}", not_found)])
    async with running_server(other, lifespan="off") as base:
        result = await Cli(base)("ls")
    assert result.exit_code == 1
    assert f"{base} does not look like a ComfyHangar server" in result.stderr
    assert "/api/v1/health answered HTTP 404 (application/json)" in result.stderr
    assert "such as http://127.0.0.1:8000" in result.stderr
