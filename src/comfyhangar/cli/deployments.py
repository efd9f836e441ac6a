"""The deployment commands: ls, show, stop, start, restart, rm."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import CliError
from comfyhangar.cli.follow import Follower, Outcome
from comfyhangar.cli.options import JsonOpt, RefArg, UrlOpt, WaitOpt
from comfyhangar.cli.output import err, friendly, out, print_json, short_id, state_text
from comfyhangar.cli.render import absolute, deployments_listing, render_detail
from comfyhangar.cli.session import resolve, session

SETTLED = frozenset({"ready", "stopped", "terminated", "failed"})


def finish(outcome: Outcome, *, target: str, as_json: bool, base_url: str = "") -> None:
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
    console.print(deployments_listing(console, deployments))


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
        finish(outcome, target=target, as_json=as_json, base_url=client.base_url)


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
