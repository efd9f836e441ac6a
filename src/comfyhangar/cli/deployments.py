"""The deployment commands: ls, show, stop, start, restart, rm."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Action:
    """What one command asks of a deployment, and how its result reads."""

    name: str  # the API's action
    wants: str | None  # the desired_state it asks for (None: restart, which always acts)
    target: str  # the state it ends in
    doing: str  # "stopping": what the deployment is doing while it gets there
    done: str  # "stopped": how the target reads (start's target `ready` reads "running")

    def doing_or_done(self, view: dict[str, Any]) -> str:
        """ "running" once the deployment is at the target, "starting" on its way there."""
        return self.done if view["state"] == self.target else self.doing


STOP = Action("stop", "stopped", "stopped", "stopping", "stopped")
START = Action("start", "running", "ready", "starting", "running")
RESTART = Action("restart", None, "ready", "restarting", "running")
TERMINATE = Action("terminate", "terminated", "terminated", "being terminated", "terminated")


def already(action: Action, dep: dict[str, Any]) -> bool:
    """Whether `action` is already asked for, so asking again changes nothing (a failed
    deployment's start is a retry, not a no-op)."""
    if action.wants is None or dep["desired_state"] != action.wants:
        return False
    return not (action is START and dep["state"] == "failed")


def _act(
    action: Action, ref: str, *, wait: bool, as_json: bool, url: str | None, yes: bool
) -> None:
    """Ask for `action`; say what it did, or that it was already so (exit 0 either way)."""
    with session(url, as_json) as client:
        dep = resolve(client, ref)
        ref_short = short_id(dep["id"])
        was_already = already(action, dep)
        if action is TERMINATE:
            if not yes and not was_already:
                question = (
                    f"Terminate {dep['name']} ({ref_short})? Its pod and volume disk are "
                    "destroyed for good"
                )
                if not typer.confirm(question, err=True):
                    raise CliError("nothing was terminated")
            view = client.delete(f"/deployments/{dep['id']}")
        else:
            view = client.post(f"/deployments/{dep['id']}/{action.name}")
        settled = view["state"] == action.target
        if not wait or (was_already and settled):
            if as_json:
                print_json(view)
                return
            out().print(_requested(action, view, was_already=was_already))
            return
        until = {action.target, "failed", "terminated"}
        if action.target == "ready":
            until.add("stopped")
        try:
            outcome = Follower(client, view, until=until, quiet=as_json).run()
        except KeyboardInterrupt:
            err().print(
                f"Stopped waiting; the {action.name} request stands. "
                f"Check: comfyhangar show {ref_short}"
            )
            raise typer.Exit(130) from None
        finish(outcome, target=action.target, as_json=as_json, base_url=client.base_url)


def _requested(action: Action, view: dict[str, Any], *, was_already: bool) -> Text:
    """`flux (1a2b3c4d) is already stopped.`, `Stop requested: flux (1a2b3c4d) is stopping.`"""
    ref = short_id(view["id"])
    who = Text.assemble((view["name"], "bold"), f" ({ref})")
    state = state_text(view["state"])
    if was_already and view["state"] in (action.done, action.doing):
        line = Text.assemble(who, " is already ", state, ".")
    elif was_already:
        now = "" if view["state"] == action.target else "now "
        line = Text.assemble(who, f" is already {action.doing_or_done(view)} ({now}", state, ").")
    else:
        line = Text.assemble(f"{action.name.capitalize()} requested: ", who, " is ", state, ".")
    if view["state"] not in SETTLED:
        line.append(f" Follow it: comfyhangar show {ref} -f", style="dim")
    return line


@friendly
def stop(ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Stop the pod: the GPU stops billing; the volume disk is kept (and billed while stopped)."""
    _act(STOP, ref, wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def start(ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """Start a stopped deployment again (or retry a failed one)."""
    _act(START, ref, wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def restart(
    ref: RefArg, wait: WaitOpt = False, as_json: JsonOpt = False, url: UrlOpt = None
) -> None:
    """Restart the pod's container; setup runs again, skipping what is already done."""
    _act(RESTART, ref, wait=wait, as_json=as_json, url=url, yes=True)


@friendly
def rm(
    ref: RefArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    wait: WaitOpt = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Terminate the deployment: its pod and volume disk are destroyed (asks first unless --yes)."""
    _act(TERMINATE, ref, wait=wait, as_json=as_json, url=url, yes=yes)
