"""`comfyhangar` commands against a real server on the embedded emulator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from typing import Any

from tests.cli.conftest import Cli
from tests.server.conftest import FLUX_DEPLOY, Hangar, in_order, read_events
from tests.support.servers import free_port

RTX_4090 = "NVIDIA GeForce RTX 4090"


async def test_full_lifecycle_through_the_cli(hangar: Hangar, cli: Cli) -> None:
    deployed = await cli(
        "deploy",
        "flux-dev",
        "--gpu",
        RTX_4090,
        "--disk",
        "40",
        "--volume",
        "60",
        "--preset",
        "flux-schnell",
    )
    assert deployed.exit_code == 0, deployed.both
    assert "Simulated cloud: nothing is billed" in deployed.stderr
    out = deployed.stdout
    assert "state: provisioning" in out
    assert "state: installing" in out
    assert "  models: " in out
    assert " GB at " in out, "model download bytes and speed"
    assert "flux-dev is ready: ComfyUI at http://" in out
    assert "/open" in out
    dep = (await hangar.http.get("/api/v1/deployments")).json()["deployments"][0]
    dep_id = dep["id"]
    assert dep["state"] == "ready"

    stopped = await cli("stop", "flux-dev", "--wait")
    assert stopped.exit_code == 0, stopped.both
    assert "flux-dev is stopped" in stopped.stdout

    started = await cli("start", dep_id[:6], "--wait")
    assert started.exit_code == 0, started.both
    assert "flux-dev is ready" in started.stdout

    removed = await cli("rm", dep_id, "--yes", "--wait")
    assert removed.exit_code == 0, removed.both
    assert "flux-dev is terminated" in removed.stdout
    assert hangar.emulator.pods == [], "no pod left running"
    assert len(hangar.emulator.all_pods) == 1, "exactly one pod was ever made"

    events = await read_events(hangar.base_url, hangar.runtime.events.last_id)
    states = [
        e["data"]["state"]
        for e in events
        if e["deployment_id"] == dep_id and e["type"] == "deployment_state"
    ]
    expected = [  # a cycle may see STARTING come and go between two listings: not required
        "creating",
        "provisioning",
        "installing",
        "ready",
        "stopping",
        "stopped",
        "starting",
        "ready",
        "terminating",
        "terminated",
    ]
    assert in_order(expected, states), f"states out of order: {states}"

    listed = await cli("ls")
    assert "flux-dev" not in listed.stdout, "terminated ones only with --all"
    listed = await cli("ls", "--all")
    assert "flux-dev" in listed.stdout
    assert "terminated" in listed.stdout


async def test_json_outputs_parse_and_carry_no_notice(hangar: Hangar, cli: Cli) -> None:
    created = await cli("deploy", "sdxl", "--gpu", "RTX 4090", "--env", "A=1", "--detach", "--json")
    assert created.exit_code == 0, created.both
    dep = json.loads(created.stdout)
    assert dep["name"] == "sdxl"
    assert dep["gpu"]["id"] == RTX_4090, "GPU name resolved to its id"
    assert created.stderr == ""
    await hangar.wait_for(dep["id"], "ready")

    catalog = json.loads((await cli("gpus", "--json")).stdout)
    assert len(catalog["gpus"]) >= 30
    listed = json.loads((await cli("ls", "--json")).stdout)
    assert [d["id"] for d in listed["deployments"]] == [dep["id"]]
    shown = json.loads((await cli("show", "sdxl", "--json")).stdout)
    assert shown["state"] == "ready"
    assert [h["state"] for h in shown["history"]][-1] == "ready"
    logs = json.loads((await cli("logs", "sdxl", "--json", "-n", "5")).stdout)
    assert 0 < len(logs["lines"]) <= 5
    restarted = await cli("restart", "sdxl", "--json", "--wait")
    assert restarted.exit_code == 0, restarted.both
    assert json.loads(restarted.stdout)["state"] == "ready"
    removed = await cli("rm", "sdxl", "--yes", "--json")
    assert json.loads(removed.stdout)["state"] in {"terminating", "terminated"}
    for result in (restarted, removed):
        assert "Simulated" not in result.stdout + result.stderr


async def test_a_422_names_each_field(hangar: Hangar, cli: Cli) -> None:
    result = await cli("deploy", "no spaces", "--gpu", RTX_4090, "--disk", "5")
    assert result.exit_code == 1
    assert "invalid input" in result.stderr
    assert "  name: " in result.stderr
    assert "  container_disk_gb: " in result.stderr
    assert "Traceback" not in result.both
    unknown = await cli("deploy", "ok", "--gpu", "NVIDIA GeForce GTX 9999", "--json")
    assert unknown.exit_code == 1
    assert unknown.stdout == ""
    assert "gpu.id: unknown GPU type" in unknown.stderr
    bad_env = await cli("deploy", "ok", "--gpu", RTX_4090, "--env", "NOEQUALS")
    assert bad_env.exit_code == 2
    assert hangar.emulator.all_pods == []


async def test_unreachable_server_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (["ls"], ["gpus", "--json"], ["show", "x"], ["rm", "x", "--yes"]):
        result = await Cli(url)(*args)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert f"cannot reach the ComfyHangar server at {url}" in result.stderr
        assert "comfyhangar serve" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


async def test_deployments_resolve_by_id_prefix_or_name(hangar: Hangar, cli: Cli) -> None:
    first = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    taken = await cli("deploy", "flux-dev", "--gpu", RTX_4090, "--detach")
    assert taken.exit_code == 1
    assert f"a deployment named 'flux-dev' already exists ({first['id']}" in taken.stderr
    other = (
        await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "name": "other"})
    ).json()

    # once the first is terminated, its name is free, and it then means the live one
    assert (await cli("rm", "flux-dev", "--yes", "--wait")).exit_code == 0
    second = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()
    ids = [first["id"], second["id"]]
    assert json.loads((await cli("show", "flux-dev", "--json")).stdout)["id"] == ids[1]

    by_name = json.loads((await cli("show", "other", "--json")).stdout)
    assert by_name["id"] == other["id"]
    by_prefix = json.loads((await cli("show", ids[0][:8], "--json")).stdout)
    assert by_prefix["id"] == ids[0]
    by_id = json.loads((await cli("show", ids[1], "--json")).stdout)
    assert by_id["id"] == ids[1]
    too_short = await cli("show", ids[0][:2])
    assert too_short.exit_code == 1
    assert "4+ characters" in too_short.stderr

    refused = await cli("rm", "flux-dev", input="n\n")
    assert refused.exit_code == 1
    assert f"Terminate flux-dev ({ids[1][:8]})" in refused.stderr
    assert (await hangar.http.get(f"/api/v1/deployments/{ids[1]}")).json()["desired_state"] != (
        "terminated"
    )
    conflict = await cli("start", ids[0])
    assert conflict.exit_code == 1
    assert "is terminated; deploy a new one" in conflict.stderr

    # two terminated deployments share the name: only an id says which
    assert (await cli("rm", ids[1], "--yes", "--wait")).exit_code == 0
    ambiguous = await cli("show", "flux-dev")
    assert ambiguous.exit_code == 1
    assert "2 terminated deployments are named 'flux-dev'" in ambiguous.stderr
    assert all(i in ambiguous.stderr for i in ids)


async def test_gpus_table_lists_the_catalog_with_filters(hangar: Hangar, cli: Cli) -> None:
    catalog: list[dict[str, Any]] = (await hangar.http.get("/api/v1/gpus")).json()["gpus"]
    table = await cli("gpus")
    assert table.exit_code == 0, table.both
    rows = [
        g
        for g in catalog
        if any(line.startswith(f"{g['id']}  ") for line in table.stdout.splitlines())
    ]
    assert len(rows) == len(catalog) >= 30
    assert "Simulated cloud" in table.stderr

    premium = json.loads((await cli("gpus", "--tier", "premium", "--json")).stdout)["gpus"]
    assert premium
    assert {g["tier"] for g in premium} == {"premium"}
    big = json.loads((await cli("gpus", "--min-vram", "80", "--json")).stdout)["gpus"]
    assert big
    assert all(g["vram_gb"] >= 80 for g in big)
    community = json.loads((await cli("gpus", "--cloud", "community", "--json")).stdout)
    prices = [
        float(g["price_per_hour"]["community"])
        for g in community["gpus"]
        if g["price_per_hour"]["community"] is not None
    ]
    assert prices == sorted(prices), "cheapest first in the chosen cloud"


async def test_show_and_logs_for_people(hangar: Hangar, cli: Cli) -> None:
    dep_id = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    await hangar.wait_for(dep_id, "ready")
    shown = await cli("show", "flux-dev")
    assert shown.exit_code == 0, shown.both
    for text in ("flux-dev", dep_id, "RUNNING", "ComfyUI", "History", "Setup", "installing"):
        assert text in shown.stdout, text
    logs = await cli("logs", "flux-dev", "-n", "3")
    assert logs.exit_code == 0
    assert len(logs.stdout.strip().splitlines()) == 3
    stopped = await cli("stop", "flux-dev")
    assert "Stop requested: flux-dev" in stopped.stdout


async def test_a_failed_deploy_exits_non_zero_with_the_reason(hangar: Hangar, cli: Cli) -> None:
    hangar.emulator.clear_stock()
    result = await cli("deploy", "flux-dev", "--gpu", RTX_4090)
    assert result.exit_code == 1
    assert "state: failed" in result.stdout
    assert "flux-dev" in result.stderr
    assert "is failed: " in result.stderr
    assert "no GPU" in result.stderr


async def run_cli(url: str, *args: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "HANGAR_URL": url, "COLUMNS": "200"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "comfyhangar",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(stream: asyncio.StreamReader, text: str) -> str:
    seen = ""
    async with asyncio.timeout(30):
        while text not in seen:
            line = await stream.readline()
            assert line, f"ended before {text!r}: {seen}"
            seen += line.decode()
    return seen


async def test_ctrl_c_leaves_the_deployment_running_and_says_how_to_follow(
    hangar: Hangar,
) -> None:
    proc = await run_cli(hangar.base_url, "deploy", "flux-dev", "--gpu", RTX_4090)
    assert proc.stdout is not None
    assert proc.stderr is not None
    await read_until(proc.stdout, "state: creating")
    proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(15):
        code = await proc.wait()
    stderr = (await proc.stderr.read()).decode()
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "Stopped following. flux-dev" in stderr
    assert "comfyhangar show " in stderr
    dep = (await hangar.http.get("/api/v1/deployments")).json()["deployments"][0]
    assert dep["desired_state"] == "running"

    # `logs -f` prints the pod log as it comes, then ends quietly on Ctrl-C
    await hangar.wait_for(dep["id"], "ready")
    logs = await run_cli(hangar.base_url, "logs", "flux-dev", "-f", "--json", "-n", "2")
    assert logs.stdout is not None
    first = json.loads(await asyncio.wait_for(logs.stdout.readline(), 15))
    assert {"id", "ts", "source", "line"} <= set(first)
    logs.send_signal(signal.SIGINT)
    async with asyncio.timeout(15):
        assert await logs.wait() == 0
