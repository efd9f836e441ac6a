"""Signing the CLI in, and API tokens: `login`, `logout`, `login-link`, `tokens create|ls|revoke`.

`login` checks a token against the server and keeps it for that server URL in the user's
config directory (mode 0600; see credentials.py). The token is read from `--token-file`
(`-` for stdin) or a hidden prompt, never from an option: it stays out of shell history.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from comfyhangar.cli.client import CliError, HangarClient, resolve_base_url
from comfyhangar.cli.credentials import find_token, save_token
from comfyhangar.cli.options import JsonOpt, UrlOpt
from comfyhangar.cli.output import friendly, out, print_json

SCOPES = ("read", "deploy", "run", "admin")

tokens = typer.Typer(
    name="tokens",
    help="Make, list and revoke API tokens (for scripts, CI, other machines).",
    no_args_is_help=True,
)


def _read_token(token_file: Path | None) -> str:
    if token_file is not None:
        text = sys.stdin.read() if str(token_file) == "-" else token_file.read_text()
        token = text.strip()
    elif sys.stdin.isatty():
        token = typer.prompt("API token", hide_input=True).strip()
    else:
        raise CliError("give the token with --token-file FILE (or - for stdin)")
    if not token:
        raise CliError("the token is empty")
    return token


@friendly
def login(
    token_file: Annotated[
        Path | None,
        typer.Option(help="Read the API token from this file (- for stdin) [default: prompt]"),
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Sign the CLI in to a server with an API token (made in the dashboard's Tokens page or
    with `comfyhangar tokens create`) and keep it for that server."""
    base = resolve_base_url(url)
    token = _read_token(token_file)
    with HangarClient(base, token=token) as client:
        me = client.get("/auth/me")
    path = save_token(base, token)
    out().print(f"signed in to {base} as {me['name']} ({me['role']}); token kept in {path}")


@friendly
def logout(url: UrlOpt = None) -> None:
    """Forget the token kept for a server (the token itself stays valid: revoke it with
    `comfyhangar tokens revoke`)."""
    base = resolve_base_url(url)
    path = save_token(base, None)
    out().print(f"forgot the token for {base} ({path})")


@friendly
def login_link(url: UrlOpt = None) -> None:
    """Print a one-time link that signs a browser in to the dashboard as you."""
    base = resolve_base_url(url)
    with HangarClient(base, token=find_token(base)) as client:
        link = client.post("/auth/login-links")
    out().print(link["url"], markup=False, highlight=False, soft_wrap=True)


@tokens.command("create")
@friendly
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'CI'")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", "-s", help=f"One of {', '.join(SCOPES)}; repeat for more [default: read]"
        ),
    ] = None,
    expires_days: Annotated[
        float | None, typer.Option(help="Days until it expires (0: never)")
    ] = 90,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Make an API token. It is printed this once: keep it somewhere safe."""
    scopes = scope or ["read"]
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise CliError(f"unknown scope {bad[0]!r}: pick from {', '.join(SCOPES)}")
    base = resolve_base_url(url)
    body = {"name": name, "scopes": scopes, "expires_in_days": expires_days or None}
    with HangarClient(base, token=find_token(base)) as client:
        made = client.post("/tokens", body)
    if as_json:
        print_json(made)
        return
    out().print(made["token"], markup=False, highlight=False)
    expiry = made["expires_at"][:10] if made["expires_at"] else "never"
    print(
        f"token {made['id']} ({', '.join(made['scopes'])}; expires {expiry}): shown this once",
        file=sys.stderr,
    )


@tokens.command("ls")
@friendly
def list_tokens(
    everyone: Annotated[bool, typer.Option("--all", help="Admins: everyone's tokens")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List your API tokens (never the tokens themselves: their first characters)."""
    base = resolve_base_url(url)
    with HangarClient(base, token=find_token(base)) as client:
        listed = client.get("/tokens", all=everyone or None)["tokens"]
    if as_json:
        print_json(listed)
        return
    table = Table("id", "name", "token", "scopes", "expires", "last used", "state")
    for t in listed:
        state = "revoked" if t["revoked_at"] else "active"
        table.add_row(
            t["id"],
            t["name"],
            t["hint"],
            ",".join(t["scopes"]),
            (t["expires_at"] or "never")[:10],
            (t["last_used_at"] or "-")[:19].replace("T", " "),
            state,
        )
    out().print(table)


@tokens.command("revoke")
@friendly
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `comfyhangar tokens ls`)")],
    url: UrlOpt = None,
) -> None:
    """Revoke an API token: it stops working at once."""
    base = resolve_base_url(url)
    with HangarClient(base, token=find_token(base)) as client:
        revoked = client.delete(f"/tokens/{token_id}")
    out().print(f"revoked token {revoked['id']} ({revoked['name']})")
