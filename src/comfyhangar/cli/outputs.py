"""`comfyhangar outputs ls|get`: outputs copied home from runs, listed and downloaded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import CliError, HangarClient
from comfyhangar.cli.options import JsonOpt, UrlOpt
from comfyhangar.cli.output import friendly, out, print_json, short_id, size
from comfyhangar.cli.render import Column, listing
from comfyhangar.cli.session import resolve_run, session

outputs = typer.Typer(
    name="outputs", help="Outputs copied home from runs: list, download.", no_args_is_help=True
)


# --- saving outputs --------------------------------------------------------------------------


def save_output(client: HangarClient, output: dict[str, Any], directory: Path) -> Path:
    """Download one output into `directory` under its ComfyUI name, kept unique: a file of that
    name with other bytes (sha256) is never overwritten, the output gets its id in its name."""
    directory.mkdir(parents=True, exist_ok=True)
    name = Path(output["filename"]).name or output["id"]
    destination = directory / name
    if destination.exists() and _sha256(destination) != output["sha256"]:
        destination = directory / f"{destination.stem}-{output['id'][:8]}{destination.suffix}"
    if not destination.exists():
        client.download(output["url"], destination)
    return destination


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- outputs ls|get ----------------------------------------------------------------------------


@outputs.command("ls")
@friendly
def outputs_ls(
    run_ref: Annotated[str | None, typer.Option("--run", help="Only this run's outputs")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List outputs, newest first."""
    with session(url, as_json) as client:
        run_id = resolve_run(client, run_ref)["id"] if run_ref else None
        body = client.get("/outputs", run_id=run_id, limit=limit)
    if as_json:
        print_json(body)
        return
    if not body["items"]:
        out().print("No outputs yet.")
        return
    rows = [
        [
            o["id"],
            o["filename"],
            f"{o['width']}x{o['height']}" if o["width"] else "",
            size(o["size"]),
            short_id(o["run_id"]),
        ]
        for o in body["items"]
    ]
    columns = [
        Column("ID", copy=True, style="dim"),
        Column("FILE", copy=True),
        Column("SIZE", drop=2),
        Column("BYTES", justify="right", drop=3),
        Column("RUN", drop=1),
    ]
    out().print(listing(out(), columns, rows))


@outputs.command("get")
@friendly
def outputs_get(
    ids: Annotated[list[str] | None, typer.Argument(help="Output ids")] = None,
    run_ref: Annotated[str | None, typer.Option("--run", help="Every output of this run")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Save here", file_okay=False)] = Path("."),
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Download outputs (by id, or every output of a run)."""
    if not ids and not run_ref:
        raise CliError("name output ids, or a run with --run")
    with session(url, as_json) as client:
        chosen = [client.get(f"/outputs/{i}") for i in ids or []]
        if run_ref:
            run_id = resolve_run(client, run_ref)["id"]
            chosen += client.get("/outputs", run_id=run_id, limit=1000)["items"]
        paths = [save_output(client, one, out_dir) for one in chosen]
    if as_json:
        print_json({"saved": [str(p) for p in paths]})
        return
    for path in paths:
        out().print(Text.assemble("saved ", (str(path), "bold")))
