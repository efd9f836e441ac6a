"""`comfyhangar run` and `comfyhangar runs ls|show|cancel` (`outputs ls|get`: outputs.py).

`run` opens the event stream before it queues, so no event of its runs falls in between; it
shows one progress bar per run and saves each image as soon as its `run_output` arrives, then
anything the stream did not bring (read from `GET /outputs`), so nothing is missed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.text import Text

from comfyhangar.cli.client import CliError, HangarClient
from comfyhangar.cli.options import JsonOpt, UrlOpt
from comfyhangar.cli.output import err, friendly, out, print_json, short_id, size, state_text
from comfyhangar.cli.outputs import save_output
from comfyhangar.cli.render import Column, listing
from comfyhangar.cli.session import resolve, resolve_run, session
from comfyhangar.cli.workflows import resolve_workflow
from comfyhangar.core.sse import ServerSentEvent

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
RAW_TYPES = frozenset({"STRING", "COMBO"})

runs = typer.Typer(name="runs", help="Runs: list, show, cancel.", no_args_is_help=True)
RunArg = Annotated[str, typer.Argument(help="Run id or a unique id prefix (4+ characters)")]


# --- targets, inputs -------------------------------------------------------------------------


def resolve_target(client: HangarClient, ref: str) -> dict[str, str]:
    """`{"server_id": ...}` or `{"deployment_id": ...}` for a server or deployment name/id."""
    servers: list[dict[str, Any]] = client.get("/comfyui-servers")["items"]
    for server in servers:
        if ref in (server["id"], server["name"]):
            return {"server_id": server["id"]}
    try:
        return {"deployment_id": resolve(client, ref)["id"]}
    except CliError as error:
        names = ", ".join(s["name"] for s in servers) or "none registered"
        raise CliError(f"{error.message}\n(ComfyUI servers: {names})") from None


def parse_sets(values: list[str], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """`KEY=VALUE` pairs; a value is JSON (number, true/false) unless the input is text."""
    types = {i["key"]: i["type"] for i in inputs}
    found: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CliError(f'--set takes KEY=VALUE, such as 6.text="a red fox" (got {item!r})')
        if types.get(key) in RAW_TYPES:
            found[key] = raw
            continue
        try:
            found[key] = json.loads(raw)
        except ValueError:
            found[key] = raw
    return found


def _source(
    client: HangarClient, workflow: str, version: int | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run body's source (workflow id or raw prompt) and the inputs known for it."""
    path = Path(workflow)
    if path.is_file():
        try:
            document = json.loads(path.read_bytes())
        except ValueError:
            raise CliError(
                f"{path} is not JSON; add images with `comfyhangar workflows add`"
            ) from None
        if not isinstance(document, dict) or "nodes" in document:
            raise CliError(
                f"{path} is a UI workflow: add it to the library first "
                f"(comfyhangar workflows add {path}), then run it by name"
            )
        return {"prompt": document}, []
    found = resolve_workflow(client, workflow)
    body: dict[str, Any] = {"workflow_id": found["id"]}
    if version is not None:
        body["workflow_version"] = version
    return body, found["inputs"]


def upload_inputs(
    client: HangarClient, target: dict[str, str], values: list[str]
) -> dict[str, str]:
    """Upload each `KEY=PATH` file to the target; the overrides that point at them."""
    found: dict[str, str] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        path = Path(raw)
        if not sep or not key or not path.is_file():
            raise CliError(f"--input takes KEY=PATH of an existing file (got {item!r})")
        uploaded = client.upload("/input-files", path.name, path.read_bytes(), target)
        found[key] = uploaded["reference"]
    return found


# --- run ---------------------------------------------------------------------------------------


@friendly
def run(
    workflow: Annotated[
        str, typer.Argument(help="Workflow name or id, or an API-format .json file")
    ],
    on: Annotated[str, typer.Option("--on", help="Deployment or ComfyUI server (name or id)")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help='An input, KEY=VALUE (6.text="a red fox"); repeat for more'),
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input", help="An input file, KEY=PATH (10.image=photo.png): uploaded, then set"
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="The first run's seed", min=0)] = None,
    count: Annotated[int, typer.Option(help="How many runs", min=1, max=100)] = 1,
    seed_mode: Annotated[
        str, typer.Option(help="increment, random or fixed: how seeds vary over --count")
    ] = "increment",
    version: Annotated[int | None, typer.Option(help="Workflow version [default: latest]")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Save the images here", file_okay=False)
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow the runs until they end")] = True,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Run a workflow on a deployment or server; follow it and save its images."""
    with session(url, as_json) as client:
        source, inputs = _source(client, workflow, version)
        target = resolve_target(client, on)
        overrides = parse_sets(set_ or [], inputs)
        overrides.update(upload_inputs(client, target, input_ or []))
        body: dict[str, Any] = {
            **source,
            **target,
            "overrides": overrides,
            "count": count,
            "seed_mode": seed_mode,
        }
        if seed is not None:
            body["seed"] = seed
        if not wait:
            batch = client.post("/runs", body)
            if as_json:
                print_json(batch)
            else:
                for r in batch["runs"]:
                    out().print(Text.assemble("queued ", (r["id"], "bold")))
            return
        events = client.stream("/events")
        next(events)  # opened: every event from now on reaches us
        batch = client.post("/runs", body)
        views = _follow(client, events, batch, out_dir, quiet=as_json)
    if as_json:
        print_json({"batch_id": batch["batch_id"], "runs": views})
    failed = [v for v in views if v["state"] != "succeeded"]
    if failed:
        raise CliError("; ".join(f"run {short_id(v['id'])} {v['state']}{_why(v)}" for v in failed))


def _why(view: dict[str, Any]) -> str:
    error = view.get("error")
    return f": {error['message']}" if error else ""


def _follow(
    client: HangarClient,
    events: Any,
    batch: dict[str, Any],
    out_dir: Path | None,
    *,
    quiet: bool,
) -> list[dict[str, Any]]:
    ids = [r["id"] for r in batch["runs"]]
    states = {r["id"]: r["state"] for r in batch["runs"]}
    saved: set[str] = set()
    console = err()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[state]}"),
        console=console,
        disable=quiet,
    )
    tasks: dict[str, TaskID] = {
        run_id: progress.add_task(
            f"run {i + 1}/{len(ids)} {short_id(run_id)}", total=100, state="queued"
        )
        for i, run_id in enumerate(ids)
    }
    with progress:
        for item in events:
            if not isinstance(item, ServerSentEvent) or not item.event.startswith("run_"):
                continue
            data = item.json().get("data", {})
            run_id = data.get("run_id")
            if run_id not in tasks:
                continue
            states[run_id] = data.get("state", states[run_id])
            percent = (data.get("progress") or {}).get("percent")
            if item.event == "run_finished" and states[run_id] == "succeeded":
                percent = 100.0
            fields: dict[str, Any] = {"state": _state_words(states[run_id], data)}
            progress.update(
                tasks[run_id], completed=percent, **fields
            ) if percent is not None else progress.update(tasks[run_id], **fields)
            if item.event == "run_output" and out_dir is not None:
                one = client.get(f"/outputs/{data['output_id']}")
                path = save_output(client, one, out_dir)
                saved.add(one["id"])
                if not quiet:
                    progress.console.print(Text.assemble("saved ", (str(path), "bold")))
            if all(s in TERMINAL for s in states.values()):
                break
    views = [client.get(f"/runs/{run_id}") for run_id in ids]
    if out_dir is not None:  # whatever the stream did not bring
        listed = client.get("/outputs", batch_id=batch["batch_id"], limit=1000)["items"]
        for one in listed:
            if one["id"] not in saved:
                path = save_output(client, one, out_dir)
                if not quiet:
                    console.print(Text.assemble("saved ", (str(path), "bold")))
    return views


def _state_words(state: str, data: dict[str, Any]) -> str:
    node = (data.get("progress") or {}).get("node")
    if state == "running" and node:
        step, steps = data["progress"].get("step"), data["progress"].get("steps")
        return f"running node {node}" + (f" step {step}/{steps}" if step and steps else "")
    return state


# --- runs ls|show|cancel -----------------------------------------------------------------------


@runs.command("ls")
@friendly
def runs_ls(
    state: Annotated[str | None, typer.Option(help="Only runs in this state")] = None,
    workflow: Annotated[str | None, typer.Option(help="Only runs of this workflow")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List runs, newest first."""
    with session(url, as_json) as client:
        workflow_id = resolve_workflow(client, workflow)["id"] if workflow else None
        body = client.get("/runs", state=state, workflow_id=workflow_id, limit=limit)
    if as_json:
        print_json(body)
        return
    if not body["items"]:
        out().print("No runs. Start one: comfyhangar run WORKFLOW --on TARGET")
        return
    rows = [
        [
            short_id(r["id"]),
            state_text(r["state"]),
            f"{r['progress'].get('percent', 0):.0f}%",
            str(r["output_count"]),
            short_id(r["workflow_id"] or "") or "prompt",
            r["created_at"][:16].replace("T", " "),
        ]
        for r in body["items"]
    ]
    columns = [
        Column("ID", copy=True, style="dim"),
        Column("STATE"),
        Column("DONE", justify="right", drop=2),
        Column("OUTPUTS", justify="right", drop=3),
        Column("WORKFLOW", drop=1),
        Column("CREATED", drop=4),
    ]
    out().print(listing(out(), columns, rows))


@runs.command("show")
@friendly
def runs_show(ref: RunArg, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """One run: state, progress, error node by node, outputs."""
    with session(url, as_json) as client:
        view = resolve_run(client, ref)
        listed = client.get("/outputs", run_id=view["id"], limit=1000)["items"]
    if as_json:
        print_json({**view, "outputs": listed})
        return
    console = out()
    target = view["deployment_id"] or view["server_id"] or "-"
    pairs = [
        ("run", view["id"]),
        ("state", state_text(view["state"])),
        ("progress", f"{view['progress'].get('percent', 0):.0f}%"),
        ("prompt id", view["prompt_id"]),
        ("target", target),
        (
            "workflow",
            f"{view['workflow_id']} v{view['workflow_version']}"
            if view["workflow_id"]
            else "raw prompt",
        ),
        ("created", view["created_at"][:19].replace("T", " ")),
    ]
    if view["finished_at"]:
        pairs.append(("finished", view["finished_at"][:19].replace("T", " ")))
    for key, value in pairs:
        console.print(Text.assemble((f"{key:<10}", "dim"), value))
    if view["error"]:
        console.print(Text.assemble(("error     ", "dim"), (view["error"]["message"], "red")))
        for node in view["error"]["nodes"]:
            console.print(
                f"  node {node.get('node_id')} ({node.get('class_type')}): {node['message']}"
            )
    for one in listed:
        console.print(
            Text.assemble(
                ("output    ", "dim"),
                (one["id"], "bold"),
                f"  {one['filename']}  {size(one['size'])}",
            )
        )


@runs.command("cancel")
@friendly
def runs_cancel(ref: RunArg, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Cancel a run (only its own prompt is deleted or interrupted on ComfyUI)."""
    with session(url, as_json) as client:
        view = client.post(f"/runs/{resolve_run(client, ref)['id']}/cancel")
    if as_json:
        print_json(view)
        return
    out().print(
        Text.assemble(
            "run ",
            (short_id(view["id"]), "bold"),
            " is ",
            state_text(view["state"]),
            "" if view["state"] == "cancelled" else " (cancel asked)",
        )
    )
