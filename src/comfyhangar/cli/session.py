"""A session with the server, and finding a deployment (or a run) by what a user types."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from comfyhangar.cli.client import CliError, HangarClient, resolve_base_url
from comfyhangar.cli.credentials import find_token
from comfyhangar.cli.output import did_you_mean, notice_simulated, short_id

MIN_PREFIX = 4


@contextmanager
def session(url: str | None, as_json: bool) -> Iterator[HangarClient]:
    """A client of the server; for people, first say whether the cloud is simulated."""
    base = resolve_base_url(url)
    with HangarClient(base, token=find_token(base)) as client:
        if not as_json:
            health = client.get("/health")
            if isinstance(health, dict) and health.get("simulated"):
                notice_simulated()
        yield client


def resolve(client: HangarClient, ref: str) -> dict[str, Any]:
    """A deployment by full id, name, or unique id prefix (in that order).

    A name that several deployments share means the one that is not terminated (live names
    are unique); when several are live, or all are terminated, the message lists their ids.
    """
    deployments: list[dict[str, Any]] = client.get("/deployments")["deployments"]
    for dep in deployments:
        if dep["id"] == ref:
            return dep
    named = [d for d in deployments if d["name"] == ref]
    if len(named) == 1:
        return named[0]
    if named:
        live = [d for d in named if d["state"] != "terminated"]
        if len(live) == 1:
            return live[0]
        which = f"{len(live)} live deployments" if live else f"{len(named)} terminated deployments"
        raise CliError(_ambiguous(f"{which} are named {ref!r}", live or named))
    if len(ref) >= MIN_PREFIX:
        prefixed = [d for d in deployments if d["id"].startswith(ref.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise CliError(_ambiguous(f"{ref!r} starts {len(prefixed)} ids", prefixed))
    hint = f" (an id prefix needs {MIN_PREFIX}+ characters)" if len(ref) < MIN_PREFIX else ""
    names = {d["name"] for d in deployments if d["state"] != "terminated"}
    raise CliError(
        f"no deployment matches {ref!r} by id, id prefix or name{hint}"
        f"{did_you_mean(ref, sorted(names)) or ';'} `comfyhangar ls --all` lists them"
    )


def _ambiguous(what: str, deps: list[dict[str, Any]]) -> str:
    """The deployments `what` could mean, newest first, with the command that names one."""
    context = click.get_current_context(silent=True)
    command = context.command_path if context is not None else "comfyhangar show"
    lines = [f"{what}; name one by its id:"]
    lines += [
        f"  {d['id']}  {d['state']:<12}  created {d['created_at'][:19].replace('T', ' ')}"
        for d in deps[:10]
    ]
    if len(deps) > 10:
        lines.append(f"  ... and {len(deps) - 10} more (comfyhangar ls --all)")
    lines.append(f"for example: {command} {short_id(deps[0]['id'])}")
    return "\n".join(lines)


def resolve_run(client: HangarClient, ref: str) -> dict[str, Any]:
    """A run by id or unique id prefix (among the latest 1000)."""
    if len(ref) == 32:
        found: dict[str, Any] = client.get(f"/runs/{ref}")
        return found
    if len(ref) < MIN_PREFIX:
        raise CliError(f"an id prefix needs {MIN_PREFIX}+ characters (got {ref!r})")
    listed: list[dict[str, Any]] = client.get("/runs", limit=1000)["items"]
    items = [r for r in listed if r["id"].startswith(ref.lower())]
    if len(items) == 1:
        return items[0]
    if items:
        raise CliError(f"{ref!r} starts {len(items)} run ids; give more of it")
    raise CliError(f"no run matches {ref!r}; `comfyhangar runs ls` lists them")
