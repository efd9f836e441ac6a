"""The client commands: gpus, deploy, ls, show, logs, stop, start, restart, rm.

Each one talks to the server's HTTP API (`--url`, else `HANGAR_URL`, else the local server).
With `--json` stdout carries JSON only; without it, Rich tables and progress for people, and a
yellow line on stderr when the cloud is simulated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from comfyhangar.cli.client import (
    CliError,
    HangarClient,
    SseEvent,
    StreamOpened,
    resolve_base_url,
)
from comfyhangar.cli.follow import Follower, Outcome
from comfyhangar.cli.output import (
    duration,
    err,
    friendly,
    gpu_label,
    money,
    notice_simulated,
    out,
    pod_status_text,
    print_json,
    rate,
    short_id,
    size,
    speed,
    state_text,
)

MIN_PREFIX = 4
SETTLED = frozenset({"ready", "stopped", "terminated", "failed"})


class CloudChoice(StrEnum):
    SECURE = "SECURE"
    COMMUNITY = "COMMUNITY"


class TierChoice(StrEnum):
    BUDGET = "budget"
    MID = "mid"
    HIGH = "high"
    PREMIUM = "premium"


UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="HANGAR_URL",
        help="ComfyHangar server URL (default http://127.0.0.1:8000)",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (nothing else on stdout)")
]
RefArg = Annotated[
    str, typer.Argument(help="Deployment id, a unique id prefix (4+ characters), or its name")
]
WaitOpt = Annotated[bool, typer.Option("--wait", "-w", help="Follow events until it is done")]


@contextmanager
def session(url: str | None, as_json: bool) -> Iterator[HangarClient]:
    """A client of the server; for people, first say whether the cloud is simulated."""
    with HangarClient(resolve_base_url(url)) as client:
        if not as_json:
            health = client.get("/health")
            if isinstance(health, dict) and health.get("simulated"):
                notice_simulated()
        yield client


def resolve(client: HangarClient, ref: str) -> dict[str, Any]:
    """A deployment by full id, unique name, or unique id prefix (in that order).

    Names need not be unique: when several deployments share one, the only one not terminated
    is meant; otherwise the id is needed.
    """
    deployments: list[dict[str, Any]] = client.get("/deployments")["deployments"]
    for dep in deployments:
        if dep["id"] == ref:
            return dep
    named = [d for d in deployments if d["name"] == ref]
    if len(named) > 1:
        live = [d for d in named if d["state"] != "terminated"]
        named = live if len(live) == 1 else named
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise CliError(_ambiguous(f"{len(named)} deployments are named {ref!r}", named))
    if len(ref) >= MIN_PREFIX:
        prefixed = [d for d in deployments if d["id"].startswith(ref.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise CliError(_ambiguous(f"{ref!r} starts {len(prefixed)} ids", prefixed))
    hint = f" (an id prefix needs {MIN_PREFIX}+ characters)" if len(ref) < MIN_PREFIX else ""
    raise CliError(
        f"no deployment matches {ref!r} by id, id prefix or name{hint}; "
        "`comfyhangar ls --all` lists them"
    )


def _ambiguous(what: str, deps: list[dict[str, Any]]) -> str:
    lines = [f"{what}; use the id:"]
    lines += [f"  {d['id']}  {d['name']}  {d['state']}  {d['created_at']}" for d in deps[:10]]
    return "\n".join(lines)


# gpus


@friendly
def gpus(
    cloud: Annotated[
        CloudChoice,
        typer.Option(case_sensitive=False, help="Stock and sort order for this cloud"),
    ] = CloudChoice.SECURE,
    tier: Annotated[
        list[TierChoice] | None,
        typer.Option(case_sensitive=False, help="Only these price tiers (repeatable)"),
    ] = None,
    min_vram: Annotated[
        int | None, typer.Option("--min-vram", help="Only GPUs with at least this many GB")
    ] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List GPU types with price per hour, VRAM, largest machine and stock, cheapest first."""
    with session(url, as_json) as client:
        catalog = client.get("/gpus", cloud=cloud.value)
    key = cloud.value.lower()
    rows = [
        g
        for g in catalog["gpus"]
        if (not tier or g["tier"] in {t.value for t in tier})
        and (min_vram is None or g["vram_gb"] >= min_vram)
    ]
    rows.sort(key=lambda g: (_price(g, key), g["vram_gb"], g["id"]))
    if as_json:
        print_json({"cloud": cloud.value, "gpus": rows})
        return
    table = Table(title=f"GPUs: {cloud.value} cloud, cheapest first", title_justify="left")
    table.add_column("Tier")
    table.add_column("GPU", style="bold")
    table.add_column("ID (for --gpu)", style="dim")
    table.add_column("VRAM", justify="right")
    table.add_column("Secure $/h", justify="right")
    table.add_column("Community $/h", justify="right")
    table.add_column("Max", justify="right")
    table.add_column("Stock")
    for g in rows:
        prices, most = g["price_per_hour"], g["max_count"]
        table.add_row(
            Text(g["tier"], style=TIER_STYLES.get(g["tier"], "")),
            g["name"],
            g["id"],
            f"{g['vram_gb']} GB",
            money(prices["secure"]),
            money(prices["community"]),
            str(most[key]),
            Text(g["availability"], style=STOCK_STYLES.get(g["availability"], "")),
        )
    console = out()
    console.print(table)
    console.print(Text(f"{len(rows)} GPU types", style="dim"))


TIER_STYLES = {"budget": "green", "mid": "cyan", "high": "yellow", "premium": "magenta"}
STOCK_STYLES = {"HIGH": "green", "MEDIUM": "yellow", "LOW": "red", "NONE": "dim"}


def _price(gpu: dict[str, Any], key: str) -> float:
    value = gpu["price_per_hour"].get(key)
    return float(value) if value is not None else float("inf")


# deploy


@friendly
def deploy(
    name: Annotated[str, typer.Argument(help="Deployment name: letters, digits, . _ -")],
    gpu: Annotated[str, typer.Option("--gpu", help="GPU type id (or its name), see `gpus`")],
    count: Annotated[int, typer.Option("--count", "-n", help="GPUs on the machine")] = 1,
    fallback_gpu: Annotated[
        list[str] | None,
        typer.Option("--fallback-gpu", help="Try this GPU type if the first has no stock"),
    ] = None,
    cloud: Annotated[
        CloudChoice, typer.Option(case_sensitive=False, help="SECURE or COMMUNITY")
    ] = CloudChoice.SECURE,
    dc: Annotated[
        list[str] | None, typer.Option("--dc", help="Allowed data center (repeatable)")
    ] = None,
    disk: Annotated[
        int | None, typer.Option("--disk", help="Container disk in GB (server default 50)")
    ] = None,
    volume: Annotated[
        int | None, typer.Option("--volume", help="Volume disk in GB (server default 100)")
    ] = None,
    network_volume: Annotated[
        str | None, typer.Option("--network-volume", help="Attach this network volume instead")
    ] = None,
    image: Annotated[str | None, typer.Option(help="Container image")] = None,
    preset: Annotated[
        str | None, typer.Option(help="Start from this preset (models and nodes), see the API")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="JSON file: what to install (ComfyUI, custom nodes, models)"),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="K=V for the pod (repeatable)")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once accepted; do not follow")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Deploy ComfyUI on a new pod and follow it until ComfyUI is ready (Ctrl-C: keep it running)."""
    body: dict[str, Any] = {"name": name, "gpu": {"id": gpu, "count": count}}
    body["cloud"] = cloud.value
    optional = {
        "fallback_gpu_ids": fallback_gpu or None,
        "data_center_ids": dc or None,
        "container_disk_gb": disk,
        "volume_gb": volume,
        "network_volume_id": network_volume,
        "image": image,
        "preset": preset,
        "manifest": _read_manifest(manifest) if manifest is not None else None,
        "env": _parse_env(env) if env else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    with session(url, as_json) as client:
        _gpu_names_to_ids(client, body)
        created = client.post("/deployments", body)
        ref = short_id(created["id"])
        if detach:
            if as_json:
                print_json(created)
                return
            out().print(
                Text.assemble(
                    "Deploying ",
                    (created["name"], "bold"),
                    f" ({ref}) on {gpu_label(created['gpu']['id'], created['gpu']['count'])}. ",
                    ("Follow it: ", "dim"),
                    f"comfyhangar show {ref} -f",
                )
            )
            return
        if not as_json:
            out().print(
                Text.assemble(
                    "Deploying ",
                    (created["name"], "bold"),
                    f" ({ref}) on {gpu_label(created['gpu']['id'], created['gpu']['count'])}"
                    f" in the {created['cloud']} cloud",
                )
            )
        try:
            outcome = Follower(client, created, until=SETTLED, quiet=as_json).run()
        except KeyboardInterrupt:
            billing = "" if created.get("simulated") else " (and billing while its pod runs)"
            err().print(
                f"Stopped following. {created['name']} ({ref}) keeps going{billing}.\n"
                f"  follow it again: comfyhangar show {ref} -f\n"
                f"  stop it:         comfyhangar stop {ref}"
            )
            raise typer.Exit(130) from None
        _finish(outcome, target="ready", as_json=as_json, base_url=client.base_url)


def absolute(link: str, base_url: str) -> str:
    """A link of the API (`/api/v1/...`, such as the one-click ComfyUI link) on its server."""
    return base_url.rstrip("/") + link if link.startswith("/") and base_url else link


def _finish(outcome: Outcome, *, target: str, as_json: bool, base_url: str = "") -> None:
    """Print the result of a follow; exit non-zero unless the target state was reached."""
    dep = outcome.deployment
    if as_json:
        print_json(dep)
    elif outcome.state == target:
        line = Text.assemble((dep["name"], "bold"), " is ", state_text(outcome.state))
        if target == "ready" and dep["links"].get("comfyui"):
            link = absolute(dep["links"]["comfyui"], base_url)
            line.append_text(Text.assemble(": ComfyUI at ", (link, "bold")))
        out().print(line)
        if target == "ready" and not dep.get("simulated"):
            out().print(
                Text(
                    f"The GPU bills by the minute: `comfyhangar stop {short_id(dep['id'])}` "
                    "when you are done.",
                    style="dim",
                )
            )
    if outcome.state != target:
        why = f": {outcome.reason}" if outcome.reason else ""
        if as_json:
            raise typer.Exit(1)
        raise CliError(f"{dep['name']} ({short_id(dep['id'])}) is {outcome.state}{why}")


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read the manifest {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"the manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"the manifest {path} must be a JSON object")
    return value


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not K=V", param_hint="--env")
        env[key] = value
    return env


def _gpu_names_to_ids(client: HangarClient, body: dict[str, Any]) -> None:
    """Accept a GPU's display name ("RTX 4090") where its id is expected."""
    catalog = client.get("/gpus", cloud=body["cloud"])["gpus"]
    ids = {g["id"] for g in catalog}
    by_name: dict[str, list[str]] = {}
    for g in catalog:
        for label in {g["id"].lower(), g["name"].lower()}:
            by_name.setdefault(label, []).append(g["id"])

    def canonical(value: str) -> str:
        if value in ids:
            return value
        found = by_name.get(value.lower(), [])
        return found[0] if len(found) == 1 else value

    body["gpu"]["id"] = canonical(body["gpu"]["id"])
    if "fallback_gpu_ids" in body:
        body["fallback_gpu_ids"] = [canonical(v) for v in body["fallback_gpu_ids"]]


# ls


@friendly
def ls(
    state: Annotated[str | None, typer.Option(help="Only deployments in this state")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", "-a", help="Include terminated deployments")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List deployments, newest first (terminated ones only with --all)."""
    with session(url, as_json) as client:
        deployments: list[dict[str, Any]] = client.get("/deployments", state=state)["deployments"]
    if not show_all and state is None:
        deployments = [d for d in deployments if d["state"] != "terminated"]
    if as_json:
        print_json({"deployments": deployments})
        return
    console = out()
    if not deployments:
        console.print("No deployments. Create one: comfyhangar deploy NAME --gpu GPU_ID")
        return
    table = Table()
    for column, justify in [
        ("Name", "left"),
        ("ID", "left"),
        ("State", "left"),
        ("GPU", "left"),
        ("Pod", "left"),
        ("Uptime", "right"),
        ("$/h", "right"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for d in deployments:
        pod = d.get("pod") or {}
        table.add_row(
            Text(d["name"], style="bold"),
            short_id(d["id"]),
            state_text(d["state"]),
            gpu_label(d["gpu"]["id"], d["gpu"]["count"]),
            pod_status_text(pod.get("status")),
            duration(pod.get("uptime_s")),
            rate(d["cost"]["per_hour_usd"]),  # the server's rate for its state, as the dashboard's
        )
    console.print(table)


# show


@friendly
def show(
    ref: RefArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Follow its progress until it settles")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Everything about one deployment: pod, links, setup steps, state history."""
    with session(url, as_json) as client:
        dep_id = resolve(client, ref)["id"]
        if follow:
            try:
                outcome = Follower(
                    client, client.get(f"/deployments/{dep_id}"), until=SETTLED, quiet=as_json
                ).run()
            except KeyboardInterrupt:
                raise typer.Exit(130) from None
            if as_json:
                print_json(outcome.deployment)
                return
            if outcome.state == "failed" and outcome.reason:
                err().print(Text(f"failed: {outcome.reason}", style="red"))
        detail = client.get(f"/deployments/{dep_id}")
    if as_json:
        print_json(detail)
        return
    out().print(render_detail(detail, base_url=client.base_url))


def render_detail(d: dict[str, Any], *, base_url: str = "") -> Panel:
    info = Table.grid(padding=(0, 2))
    info.add_column(style="dim")
    info.add_column()
    state = state_text(d["state"])
    if d.get("reason"):
        state.append(f"  ({d['reason']})", style="red" if d["state"] == "failed" else "")
    rows: list[tuple[str, Text | str]] = [
        ("id", d["id"]),
        ("state", state),
        ("wanted", d["desired_state"]),
        ("GPU", f"{gpu_label(d['gpu']['id'], d['gpu']['count'])}  ({d['gpu']['id']})"),
        ("cloud", d["cloud"] + ("  (simulated: nothing is billed)" if d.get("simulated") else "")),
        ("image", d["image"]),
        ("disk", _disks(d)),
        ("created", _when(d["created_at"])),
        ("updated", _when(d["updated_at"])),
        ("rate", rate(d["cost"]["per_hour_usd"])),
        ("cost so far", money(d["cost"]["so_far_usd"])),
    ]
    pod = d.get("pod")
    if pod:
        rows += [
            ("pod", Text.assemble(pod["id"], "  ", pod_status_text(pod["status"]))),
            ("data center", pod.get("data_center_id") or "-"),
            ("uptime", duration(pod.get("uptime_s"))),
        ]
        if pod.get("gpu_util"):
            util = ", ".join(f"{u}%" for u in pod["gpu_util"])
            rows.append(("GPU util", util))
    else:
        rows.append(("pod", Text("none", style="dim")))
    links = d.get("links") or {}
    if links.get("comfyui"):
        rows.append(("ComfyUI", Text(absolute(links["comfyui"], base_url), style="bold")))
    for key, value in rows:
        info.add_row(key, value)
    parts: list[Any] = [info]
    if d.get("setup"):
        steps = Table(title="Setup", title_justify="left", expand=False)
        for column in ("Step", "Status", "Progress", "Message"):
            steps.add_column(column)
        for s in d["setup"]:
            progress = ""
            if s.get("bytes_total") and s.get("bytes_done") is not None:
                progress = f"{size(s.get('bytes_done'))} / {size(s['bytes_total'])}"
                if s.get("status") == "running" and s.get("speed_bps"):
                    progress += f" at {speed(s['speed_bps'])}"
            steps.add_row(s["step"], s["status"], progress, s.get("message") or "")
        parts.append(steps)
    if d.get("history"):
        history = Table(title="History", title_justify="left", expand=False)
        for column in ("When", "State", "Reason"):
            history.add_column(column)
        for h in d["history"]:
            history.add_row(_when(h["at"]), state_text(h["state"]), h.get("reason") or "")
        parts.append(history)
    title = Text.assemble((d["name"], "bold"), " ", state_text(d["state"]))
    return Panel(Group(*parts), title=title, title_align="left")


def _disks(d: dict[str, Any]) -> str:
    text = f"container {d['container_disk_gb']} GB"
    if d.get("volume_gb"):
        text += f", volume {d['volume_gb']} GB"
    if d.get("network_volume_id"):
        text += f", network volume {d['network_volume_id']}"
    return text


def _when(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# logs


@friendly
def logs(
    ref: RefArg,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, max=2000)] = 200,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """The pod log (agent and ComfyUI); -f follows it. With --json -f: one JSON object per line."""
    with session(url, as_json) as client:
        dep_id = resolve(client, ref)["id"]
        if not follow:
            tail = client.get(f"/deployments/{dep_id}/logs", lines=lines)
            if as_json:
                print_json(tail)
                return
            for line in tail["lines"]:
                _print_log(line)
            return
        stream = client.stream(
            f"/deployments/{dep_id}/logs",
            {"lines": lines, "follow": 1},
            resume_params={"lines": 2000},
            on_reconnect=lambda why: err().print(Text(f"{why}; reconnecting…", style="yellow")),
        )
        try:
            for item in stream:
                if isinstance(item, StreamOpened) or not isinstance(item, SseEvent):
                    continue
                if item.event != "log":
                    continue
                payload = item.json()
                if as_json:
                    record = {"id": int(item.id) if item.id else None, **payload}
                    print(json.dumps(record, ensure_ascii=False), flush=True)
                else:
                    _print_log(payload)
        except KeyboardInterrupt:
            return
        finally:
            stream.close()


def _print_log(line: dict[str, Any]) -> None:
    stamp = str(line.get("ts", ""))[11:19]
    console = out()
    console.print(
        Text.assemble(
            (stamp, "dim"), " ", (str(line.get("source", "")), "cyan"), " ", line["line"]
        ),
        soft_wrap=True,
    )
    console.file.flush()


# stop / start / restart / rm


def _act(
    ref: str, action: str, target: str, *, wait: bool, as_json: bool, url: str | None, yes: bool
) -> None:
    with session(url, as_json) as client:
        dep = resolve(client, ref)
        ref_short = short_id(dep["id"])
        if action == "terminate":
            if not yes and dep["state"] != "terminated":
                question = (
                    f"Terminate {dep['name']} ({ref_short})? Its pod and volume disk are "
                    "destroyed for good"
                )
                if not typer.confirm(question, err=True):
                    raise CliError("nothing was terminated")
            view = client.delete(f"/deployments/{dep['id']}")
        else:
            view = client.post(f"/deployments/{dep['id']}/{action}")
        if not wait:
            if as_json:
                print_json(view)
                return
            out().print(
                Text.assemble(
                    f"{action.capitalize()} requested: ",
                    (view["name"], "bold"),
                    f" ({ref_short}) is ",
                    state_text(view["state"]),
                    (f". Follow it: comfyhangar show {ref_short} -f", "dim"),
                )
            )
            return
        until = {target, "failed", "terminated"}
        if target == "ready":
            until.add("stopped")
        try:
            outcome = Follower(client, view, until=until, quiet=as_json).run()
        except KeyboardInterrupt:
            err().print(
                f"Stopped waiting; the {action} request stands. Check: comfyhangar show {ref_short}"
            )
            raise typer.Exit(130) from None
        _finish(outcome, target=target, as_json=as_json, base_url=client.base_url)


@friendly
def stop(ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Stop the pod: the GPU stops billing; the volume disk is kept (and billed while stopped)."""
    _act(ref, "stop", "stopped", wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def start(ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Start a stopped deployment again (or retry a failed one)."""
    _act(ref, "start", "ready", wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def restart(
    ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None
) -> None:
    """Restart the pod's container; setup runs again, skipping what is already done."""
    _act(ref, "restart", "ready", wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def rm(
    ref: RefArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Terminate the deployment: its pod and volume disk are destroyed (asks first unless --yes)."""
    _act(ref, "terminate", "terminated", wait=wait, as_json=as_json, url=url, yes=yes)


__all__ = [
    "deploy",
    "gpus",
    "logs",
    "ls",
    "render_detail",
    "resolve",
    "restart",
    "rm",
    "show",
    "start",
    "stop",
]
