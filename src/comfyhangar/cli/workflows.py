"""`comfyhangar workflows add|ls|show|rm`: the server's workflow library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import CliError, HangarClient
from comfyhangar.cli.options import JsonOpt, UrlOpt
from comfyhangar.cli.output import did_you_mean, friendly, out, print_json, short_id
from comfyhangar.cli.render import Column, listing
from comfyhangar.cli.session import MIN_PREFIX, session

workflows = typer.Typer(
    name="workflows",
    help="The workflow library: add a workflow (JSON in either format, or a PNG/WebP that "
    "ComfyUI saved), list, show its inputs, remove.",
    no_args_is_help=True,
)
WorkflowArg = Annotated[
    str, typer.Argument(help="Workflow name, id, or a unique id prefix (4+ characters)")
]


def resolve_workflow(client: HangarClient, ref: str) -> dict[str, Any]:
    """A workflow by full id, name or unique id prefix."""
    items: list[dict[str, Any]] = client.get("/workflows", limit=1000)["items"]
    for item in items:
        if ref in (item["id"], item["name"]):
            return item
    if len(ref) >= MIN_PREFIX:
        prefixed = [w for w in items if w["id"].startswith(ref.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        if prefixed:
            raise CliError(f"{ref!r} starts {len(prefixed)} workflow ids; give more of it")
    hint = did_you_mean(ref, [w["name"] for w in items]) or ";"
    raise CliError(f"no workflow matches {ref!r}{hint} `comfyhangar workflows ls` lists them")


def inputs_listing(inputs: list[dict[str, Any]]) -> Any:
    rows = [[i["key"], i["class_type"], i["type"], _value(i.get("default"))] for i in inputs]
    columns = [
        Column("INPUT", copy=True),
        Column("NODE", style="dim", drop=1),
        Column("TYPE", drop=2),
        Column("VALUE", wrap=True),
    ]
    return listing(out(), columns, rows)


def _value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


@workflows.command("add")
@friendly
def add(
    file: Annotated[
        Path,
        typer.Argument(
            help="Workflow file: .json (UI or API), .png or .webp", exists=True, dir_okay=False
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Its name [default: the file's name]")] = None,
    description: Annotated[str, typer.Option(help="What it makes")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat for more)")] = None,
    version_of: Annotated[
        str | None, typer.Option("--version-of", help="Add it as a new version of this workflow")
    ] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Add a workflow to the library (or a new version of one, with --version-of)."""
    content = file.read_bytes()
    with session(url, as_json) as client:
        if version_of is not None:
            target = resolve_workflow(client, version_of)
            body = client.upload(
                f"/workflows/{target['id']}/versions", file.name, content, {"note": description}
            )
        else:
            fields = {
                "name": name or file.stem,
                "description": description,
                "tags": ",".join(tag or []),
            }
            body = client.upload("/workflows", file.name, content, fields)
    if as_json:
        print_json(body)
        return
    console = out()
    console.print(
        Text.assemble(
            "Added ",
            (body["name"], "bold"),
            f" version {body['latest_version']} ",
            (f"({short_id(body['id'])})", "dim"),
            f": {len(body['inputs'])} inputs",
        )
    )
    if body["inputs"]:
        console.print(inputs_listing(body["inputs"]))
        console.print(
            Text(
                f"Run it: comfyhangar run {body['name']!r} --on TARGET --set "
                f"{body['inputs'][0]['key']}=VALUE",
                style="dim",
            )
        )


@workflows.command("ls")
@friendly
def ls(
    tag: Annotated[str | None, typer.Option(help="Only workflows with this tag")] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List the library, most recently changed first."""
    with session(url, as_json) as client:
        body = client.get("/workflows", tag=tag, limit=1000)
    if as_json:
        print_json(body)
        return
    items = body["items"]
    if not items:
        out().print("No workflows. Add one: comfyhangar workflows add FILE.json")
        return
    rows = [
        [
            short_id(w["id"]),
            w["name"],
            str(w["latest_version"]),
            str(len(w["inputs"])),
            ", ".join(w["tags"]),
            w["updated_at"][:16].replace("T", " "),
        ]
        for w in items
    ]
    columns = [
        Column("ID", copy=True, style="dim"),
        Column("NAME", copy=True, style="bold"),
        Column("VER", justify="right", drop=3),
        Column("INPUTS", justify="right", drop=2),
        Column("TAGS", drop=1, wrap=True),
        Column("CHANGED", drop=4),
    ]
    out().print(listing(out(), columns, rows))


@workflows.command("show")
@friendly
def show(ref: WorkflowArg, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """A workflow: its versions and the inputs a run may set (`--set KEY=VALUE`)."""
    with session(url, as_json) as client:
        body = client.get(f"/workflows/{resolve_workflow(client, ref)['id']}")
    if as_json:
        print_json(body)
        return
    console = out()
    console.print(Text.assemble((body["name"], "bold"), "  ", (body["id"], "dim")))
    if body["description"]:
        console.print(body["description"])
    if body["tags"]:
        console.print(Text.assemble(("tags  ", "dim"), ", ".join(body["tags"])))
    for version in body["versions"]:
        note = f"  {version['note']}" if version["note"] else ""
        made = version["created_at"][:16].replace("T", " ")
        console.print(
            Text.assemble(("version ", "dim"), str(version["version"]), f"  {made}{note}")
        )
    if body["inputs"]:
        console.print(inputs_listing(body["inputs"]))
    elif not body["versions"][0]["has_api_prompt"]:
        console.print("Its inputs are known once it is converted against a target's nodes.")


@workflows.command("rm")
@friendly
def rm(ref: WorkflowArg, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Remove a workflow and its versions (its runs and their outputs stay)."""
    with session(url, as_json) as client:
        found = resolve_workflow(client, ref)
        client.delete(f"/workflows/{found['id']}")
    if as_json:
        print_json({"id": found["id"], "removed": True})
        return
    out().print(Text.assemble("Removed ", (found["name"], "bold")))
