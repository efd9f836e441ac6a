"""The CLI end to end: add a workflow, run it with --set/--seed/--count/--out, list, get."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.runs.conftest import World, txt2img


async def test_add_run_and_save_the_images_at_80_columns(world: World, tmp_path: Path) -> None:
    cli = Cli(world.hangar.base_url, columns=80)
    source = tmp_path / "fox.json"
    source.write_text(json.dumps(txt2img(steps=3)))
    added = await cli("workflows", "add", str(source), "--tag", "animals")
    assert added.exit_code == 0, added.both
    assert "6.text" in added.stdout
    assert all(len(line) <= 80 for line in added.stdout.splitlines())

    listed = await cli("workflows", "ls")
    assert "fox" in listed.stdout

    out_dir = tmp_path / "images"
    ran = await cli(
        "run", "fox", "--on", "local-emu", "--set", "6.text=a red fox", "--set", "3.steps=2",
        "--seed", "42", "--count", "2", "--out", str(out_dir),
    )  # fmt: skip
    assert ran.exit_code == 0, ran.both
    saved = sorted(out_dir.iterdir())
    assert len(saved) == 4  # two images per run
    outputs = (await world.http.get("/api/v1/outputs")).json()["items"]
    assert {o["sha256"] for o in outputs} == {
        hashlib.sha256(p.read_bytes()).hexdigest() for p in saved
    }
    history = world.comfy.emu.queue.history
    posted = [entry["prompt"][2] for entry in history.values()]
    assert sorted(p["3"]["inputs"]["seed"] for p in posted) == [42, 43]
    assert {p["6"]["inputs"]["text"] for p in posted} == {"a red fox"}
    assert {p["3"]["inputs"]["steps"] for p in posted} == {2}

    runs = await cli("runs", "ls")
    assert runs.exit_code == 0, runs.both
    assert runs.stdout.count("succeeded") == 2
    assert all(len(line) <= 80 for line in runs.stdout.splitlines())
    run_id = outputs[0]["run_id"]
    shown = await cli("runs", "show", run_id[:8])
    assert "succeeded" in shown.stdout
    assert outputs[0]["id"] in shown.stdout or outputs[1]["id"] in shown.stdout

    again = tmp_path / "again"
    got = await cli("outputs", "get", "--run", run_id[:8], "--out", str(again))
    assert got.exit_code == 0, got.both
    assert len(list(again.iterdir())) == 2

    removed = await cli("workflows", "rm", "fox")
    assert removed.exit_code == 0, removed.both
    assert (await world.http.get("/api/v1/workflows")).json()["total"] == 0


async def test_a_refused_run_says_why_and_exits_non_zero(world: World, tmp_path: Path) -> None:
    cli = Cli(world.hangar.base_url, columns=80)
    source = tmp_path / "fox.json"
    source.write_text(json.dumps(txt2img()))
    assert (await cli("workflows", "add", str(source))).exit_code == 0
    ran = await cli("run", "fox", "--on", "local-emu", "--set", "42.text=x")
    assert ran.exit_code == 1
    assert "42.text" in ran.stderr
    missing = await cli("run", "fox", "--on", "nowhere")
    assert missing.exit_code == 1
    assert "local-emu" in missing.stderr  # the servers there are
