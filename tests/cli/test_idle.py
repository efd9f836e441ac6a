"""`comfyhangar keep-awake` and the idle clock in `comfyhangar show`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from comfyhangar.cli.client import CliError
from comfyhangar.cli.idle import idle_text, parse_span
from tests.cli.conftest import Cli
from tests.server.conftest import FLUX_DEPLOY, Hangar

NOW = datetime(2026, 11, 26, 10, 12, tzinfo=UTC)


def clock(**overrides: Any) -> dict[str, Any]:
    return {
        "policy": {"mode": "stop", "idle_minutes": 30, "warn_minutes": 5},
        "watching": True,
        "last_activity_at": "2026-11-26T10:00:00Z",
        "keep_awake_until": None,
        "warned_at": None,
        "acts_at": "2026-11-26T10:30:00Z",
        "action": "stop",
        "stopped_since": None,
        "activity": [],
        **overrides,
    }


def test_spans() -> None:
    assert [parse_span(s) for s in ("2h", "90m", "1h30m", "45", "24h")] == [120, 90, 90, 45, 1440]
    for bad in ("", "0", "3d", "25h", "2 hours", "-5", "h"):
        with pytest.raises(CliError):
            parse_span(bad)


def test_the_idle_line_reads_like_the_dashboards() -> None:
    assert str(idle_text(clock(), "ready", NOW)) == "idle for 12 min, stops in 18 min"
    busy = clock(activity=[{"source": "comfyui", "active": True, "reason": "1 prompt(s) running or queued"}])  # fmt: skip
    assert str(idle_text(busy, "ready", NOW)) == "in use: 1 prompt(s) running or queued"
    awake = clock(keep_awake_until="2026-11-26T12:12:00Z")
    assert str(idle_text(awake, "ready", NOW)) == "kept awake until 12:12 UTC (2 h 00 min left)"
    late = datetime(2026, 11, 26, 10, 31, tzinfo=UTC)
    assert str(idle_text(clock(), "ready", late)) == "idle for 31 min, stopping now"
    assert idle_text(clock(watching=False), "installing", NOW) is None


async def test_keep_awake_from_the_cli_and_show_says_so(cli: Cli, hangar: Hangar) -> None:
    created = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "name": "cli-idle"})  # fmt: skip
    assert created.status_code == 201, created.text
    await hangar.wait_for(created.json()["id"], "ready")
    await hangar.runtime.idle_guard.check()

    shown = await cli("show", "cli-idle")
    assert shown.exit_code == 0, shown.both
    # The simulated pod's ComfyUI answers with nothing queued: the idle clock runs.
    assert "idle for <1 min, stops in 30 min" in shown.stdout

    kept = await cli("keep-awake", "cli-idle", "--for", "2h")
    assert kept.exit_code == 0, kept.both
    assert "cli-idle" in kept.stdout
    assert "kept awake until" in kept.stdout
    view = (await hangar.http.get(f"/api/v1/deployments/{created.json()['id']}")).json()
    until = datetime.fromisoformat(view["idle"]["keep_awake_until"])
    assert 119 * 60 <= (until - hangar.runtime.cloud.now()).total_seconds() <= 120 * 60

    shown = await cli("show", "cli-idle")
    assert "kept awake until" in shown.stdout

    refused = await cli("keep-awake", "cli-idle", "--for", "25h")
    assert refused.exit_code != 0
    assert "between 1 minute and 24 hours" in refused.both


async def test_deploy_takes_an_idle_policy_and_a_bad_one_names_the_field(
    cli: Cli, hangar: Hangar
) -> None:
    made = await cli(
        "deploy", "cli-policy", "--gpu", FLUX_DEPLOY["gpu"]["id"], "--idle-minutes", "45",
        "--idle-action", "terminate", "--detach", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.both
    policy = json.loads(made.stdout)["idle"]["policy"]
    assert (policy["mode"], policy["idle_minutes"], policy["source"]) == ("terminate", 45, "deployment")  # fmt: skip
    bad = await cli("deploy", "cli-bad", "--gpu", FLUX_DEPLOY["gpu"]["id"], "--idle-minutes", "0", "--detach")  # fmt: skip
    assert bad.exit_code != 0
    assert "idle.idle_minutes" in bad.both


async def test_idle_shows_and_changes_the_policy(cli: Cli, hangar: Hangar) -> None:
    created = await hangar.http.post("/api/v1/deployments", json={**FLUX_DEPLOY, "name": "cli-pol"})  # fmt: skip
    assert created.status_code == 201, created.text
    shown = await cli("idle", "cli-pol")
    assert shown.exit_code == 0, shown.both
    assert "stops after 30 idle min (5 min warning) (the server default)" in shown.stdout
    changed = await cli("idle", "cli-pol", "--minutes", "90", "--terminate-after-days", "3")
    assert changed.exit_code == 0, changed.both
    assert "stops after 90 idle min (5 min warning), terminated after 3 days stopped (set for it)" in changed.stdout  # fmt: skip
    off = await cli("idle", "cli-pol", "--action", "off", "--json")
    assert json.loads(off.stdout)["policy"]["mode"] == "off"
    bad = await cli("idle", "cli-pol", "--minutes", "10", "--warn", "10")
    assert bad.exit_code != 0
    assert "warn_minutes" in bad.both
