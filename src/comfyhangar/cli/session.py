"""A session with the server, and finding a deployment by what a user types."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from comfyhangar.cli.client import CliError, HangarClient, resolve_base_url
from comfyhangar.cli.output import notice_simulated

MIN_PREFIX = 4


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
