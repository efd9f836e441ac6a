"""Typer application and its commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from comfyhangar.cli.database import db
from comfyhangar.cli.deploy import deploy
from comfyhangar.cli.deployments import ls, restart, rm, show, start, stop
from comfyhangar.cli.gpus import gpus
from comfyhangar.cli.idle import idle, keep_awake
from comfyhangar.cli.logs import logs
from comfyhangar.cli.outputs import outputs
from comfyhangar.cli.presets import presets
from comfyhangar.cli.runs import run, runs
from comfyhangar.cli.workflows import workflows

if TYPE_CHECKING:
    from comfyhangar.server.settings import Settings

app = typer.Typer(
    name="comfyhangar",
    help="Deploy and manage ComfyUI on RunPod GPU pods.\n\n"
    "Client commands talk to the server at --url (env HANGAR_URL, default "
    "http://127.0.0.1:8000); start it with `comfyhangar serve`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on \\[default: 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on \\[default: 8000]")] = None,
) -> None:
    """Run the ComfyHangar server (API, live events, dashboard, background work)."""
    from comfyhangar.server.settings import load_settings

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = load_settings(**overrides)  # before heavy imports: a bad value fails fast
    _refuse_newer_database(settings.effective_database_url)
    if settings.simulated:
        _refuse_unreadable_simulated_cloud(settings)

    from comfyhangar.server.serving import serve as serve_forever

    serve_forever(settings)


def _refuse_newer_database(url: str) -> None:
    """Stop before listening when a newer ComfyHangar migrated the database (exit 2)."""
    import asyncio

    from comfyhangar.cli.output import err
    from comfyhangar.server.db.migrate import DatabaseTooNew, check_revision

    try:
        asyncio.run(check_revision(url))
    except DatabaseTooNew as exc:
        err().print(f"comfyhangar: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _refuse_unreadable_simulated_cloud(settings: Settings) -> None:
    """Stop before listening when the simulated cloud's state file cannot be used (exit 2)."""
    from comfyhangar.cli.output import err
    from comfyhangar.emulators.runpod import StateFileError
    from comfyhangar.server.cloud import check_simulated_cloud

    try:
        check_simulated_cloud(settings)
    except StateFileError as exc:
        err().print(f"comfyhangar: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None


@app.command()
def emulator(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 9100,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    api_key: Annotated[
        str | None,
        typer.Option(help="Accept only this bearer key [default: accept any non-empty key]"),
    ] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second")] = 1.0,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Keep the account in this file and continue from it on the next start "
            "[default: in memory]",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Serve the RunPod REST v2 emulator under /v2, for any RunPod client to talk to."""
    import uvicorn

    from comfyhangar.cli.output import err
    from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator, StateFileError

    try:
        emu = RunPodEmulator(EmulatorConfig(api_key=api_key, speed=speed, state_path=state))
    except StateFileError as exc:
        err().print(f"comfyhangar: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    kept = f"; account kept in {state}" if state is not None else ""
    typer.echo(
        f"RunPod v2 emulator on http://{host}:{port}/v2 (simulated: nothing is billed{kept})"
    )
    try:
        uvicorn.run(emu.app, host=host, port=port, log_level="warning")
    finally:
        emu.close()


for command in (gpus, presets, deploy, ls, show, logs, stop, start, restart, rm, run):
    app.command()(command)
app.command("keep-awake")(keep_awake)
app.command()(idle)
app.add_typer(db)
app.add_typer(workflows)
app.add_typer(runs)
app.add_typer(outputs)
