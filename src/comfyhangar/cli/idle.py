"""`keep-awake`, `idle` (the policy), and how the idle clock reads in the terminal (`show`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import CliError
from comfyhangar.cli.options import JsonOpt, RefArg, UrlOpt
from comfyhangar.cli.output import friendly, out, print_json, short_id
from comfyhangar.cli.session import resolve, session

_SPAN = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?:in)?)?")
MAX_MINUTES = 24 * 60  # the API's bound


def parse_span(text: str) -> int:
    """`2h`, `90m`, `1h30m` or plain minutes (`45`) as minutes; `CliError` otherwise."""
    value = text.strip().lower()
    if value.isdigit():
        minutes = int(value)
    else:
        match = _SPAN.fullmatch(value)
        if not value or match is None or not any(match.groups()):
            raise CliError(f"--for {text!r}: give a time such as 2h, 90m or 1h30m")
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if not 1 <= minutes <= MAX_MINUTES:
        raise CliError(f"--for {text!r}: between 1 minute and 24 hours")
    return minutes


@friendly
def keep_awake(
    ref: RefArg,
    span: Annotated[
        str, typer.Option("--for", help="How long: 2h, 90m, 1h30m (at most 24h)")
    ] = "2h",
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Keep a pod from being stopped as idle for a while (the idle clock counts again after)."""
    minutes = parse_span(span)
    with session(url, as_json) as client:
        dep = resolve(client, ref)
        view = client.post(f"/deployments/{dep['id']}/keep-awake", {"minutes": minutes})
    if as_json:
        print_json(view)
        return
    until = _moment(view["idle"]["keep_awake_until"])
    out().print(
        Text.assemble(
            (view["name"], "bold"),
            f" ({short_id(view['id'])}) is kept awake until ",
            (until.strftime("%H:%M UTC") if until else "?", "bold"),
        )
    )


@friendly
def idle(
    ref: RefArg,
    minutes: Annotated[
        int | None, typer.Option("--minutes", help="Idle minutes before the action")
    ] = None,
    action: Annotated[str | None, typer.Option("--action", help="stop, terminate or off")] = None,
    warn: Annotated[int | None, typer.Option("--warn", help="Minutes of warning before")] = None,
    terminate_after_days: Annotated[
        int | None,
        typer.Option("--terminate-after-days", help="Terminate once stopped this many days"),
    ] = None,
    never_terminate: Annotated[
        bool, typer.Option("--never-terminate", help="Never terminate a stopped deployment")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Show or change a deployment's idle policy (what is left out stays as it is)."""
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("idle_minutes", minutes),
            ("mode", action),
            ("warn_minutes", warn),
            ("terminate_after_stopped_days", terminate_after_days),
        )
        if v is not None
    }
    if never_terminate:
        changes["never_terminate_when_stopped"] = True
    with session(url, as_json) as client:
        dep = resolve(client, ref)
        view = client.request("PATCH", f"/deployments/{dep['id']}/idle", body=changes) if changes else client.get(f"/deployments/{dep['id']}")  # fmt: skip
    if as_json:
        print_json(view["idle"])
        return
    policy = view["idle"]["policy"]
    if policy["mode"] == "off":
        said = "idle auto-stop is off"
    else:
        said = (
            f"{policy['mode']}s after {policy['idle_minutes']:g} idle min "
            f"({policy['warn_minutes']:g} min warning)"
        )
        days = policy.get("terminate_after_stopped_days")
        if days:
            said += f", terminated after {days:g} days stopped"
    whose = "the server default" if policy["source"] == "default" else "set for it"
    out().print(Text.assemble((view["name"], "bold"), f": {said} ({whose})"))
    line = idle_text(view["idle"], view["state"])
    if line is not None:
        out().print(line)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _minutes(seconds: float) -> str:
    total = int(seconds // 60)
    if total < 1:
        return "<1 min"
    if total < 120:
        return f"{total} min"
    hours = total // 60
    if hours < 48:
        return f"{hours} h {total % 60:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def idle_text(idle: dict[str, Any] | None, state: str, now: datetime | None = None) -> Text | None:
    """`idle for 12 min, stops in 18 min` (or what keeps it awake), as the dashboard says it."""
    if not idle:
        return None
    now = now or datetime.now(UTC)
    policy = idle.get("policy") or {}
    acts_at = _moment(idle.get("acts_at"))
    verb = "terminates" if idle.get("action") == "terminate" else "stops"
    if policy.get("mode") == "off":
        return Text("idle auto-stop is off", style="dim") if state == "ready" else None
    if state == "stopped":
        since = _moment(idle.get("stopped_since"))
        if since is None or acts_at is None:
            return None
        left = (acts_at - now).total_seconds()
        when = f"terminates in {_minutes(left)}" if left > 0 else "terminating now"
        return Text(f"stopped for {_minutes((now - since).total_seconds())}, {when}")
    if not idle.get("watching"):
        return None
    awake = _moment(idle.get("keep_awake_until"))
    if awake is not None and awake > now:
        remaining = _minutes((awake - now).total_seconds())
        return Text(f"kept awake until {awake:%H:%M} UTC ({remaining} left)", style="green")
    active = [a for a in idle.get("activity") or [] if a.get("active")]
    if active:
        return Text("in use: " + "; ".join(a["reason"] for a in active), style="green")
    last = _moment(idle.get("last_activity_at"))
    if last is None or acts_at is None:
        return Text("idle clock starts at the guard's next look", style="dim")
    left = (acts_at - now).total_seconds()
    now_word = "terminating now" if verb == "terminates" else "stopping now"
    when = f"{verb} in {_minutes(left)}" if left > 0 else now_word
    warned = idle.get("warned_at") is not None
    return Text(
        f"idle for {_minutes((now - last).total_seconds())}, {when}",
        style="yellow" if warned else "",
    )
