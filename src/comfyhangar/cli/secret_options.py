"""Hugging Face and Civitai tokens for `deploy`, kept out of shell history and `ps`.

A token comes from its file option (`--hf-token-file FILE`, `-` for stdin), else its
environment variable (`HF_TOKEN`, `CIVITAI_TOKEN`), else, for a preset with gated models and a
terminal on stdin, a hidden prompt. There is no option that takes the token itself. A token is
never printed: messages name where it came from, never what it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from comfyhangar.cli.client import CliError


@dataclass(frozen=True)
class TokenKind:
    """One kind of token: its request field, environment variable, file option and service."""

    field: str
    env: str
    option: str
    service: str

    def how_to_give(self) -> str:
        return f"set {self.env} in the environment, or pass {self.option} FILE"


HF = TokenKind("hf_token", "HF_TOKEN", "--hf-token-file", "Hugging Face")
CIVITAI = TokenKind("civitai_token", "CIVITAI_TOKEN", "--civitai-token-file", "Civitai")
KINDS = {kind.field: kind for kind in (HF, CIVITAI)}


@dataclass(frozen=True)
class Token:
    """A token and where it came from (`HF_TOKEN`, `the file ~/hf.txt`, `the prompt`)."""

    kind: TokenKind
    source: str
    value: str = field(repr=False)


def find_token(kind: TokenKind, path: Path | None) -> Token | None:
    """The token from its file option, else from its environment variable, else None."""
    if path is not None:
        return Token(kind, f"{kind.option} {path}", _read(kind, path))
    value = os.environ.get(kind.env, "").strip()
    return Token(kind, kind.env, value) if value else None


def _read(kind: TokenKind, path: Path) -> str:
    where = "stdin" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CliError(f"cannot read the {kind.service} token from {where}: {reason}") from None
    value = text.strip()
    if not value:
        raise CliError(f"{kind.option}: {where} is empty; it should hold the {kind.service} token")
    if len(value.split()) != 1:
        raise CliError(
            f"{kind.option}: {where} should hold only the {kind.service} token (one word)"
        )
    return value


def ask_token(kind: TokenKind, why: str) -> Token | None:
    """Ask for the token without echoing it, when stdin is a terminal; None otherwise or when
    the answer is empty."""
    if not sys.stdin.isatty():
        return None
    typer.echo(f"{why}. ({kind.how_to_give()} to skip this question.)", err=True)
    value = typer.prompt(
        f"{kind.service} token (hidden; empty to go on without)",
        default="",
        show_default=False,
        hide_input=True,
        err=True,
    ).strip()
    return Token(kind, "the prompt", value) if value else None


def token_hints(problem: Mapping[str, Any], tokens: Iterable[Token]) -> list[str]:
    """What to do about each token a preflight refusal names (`code` token_required or
    token_refused on its errors), one line per token."""
    given = {t.kind.field: t for t in tokens}
    hints: dict[str, str] = {}
    for error in problem.get("errors") or []:
        kind = KINDS.get(str(error.get("token"))) if isinstance(error, Mapping) else None
        if kind is None or kind.field in hints:
            continue
        token = given.get(kind.field)
        if error.get("code") == "token_refused" and token is not None:
            hints[kind.field] = (
                f"The {kind.service} token from {token.source} has no access: accept the "
                f"model's license with that account, or give another token ({kind.how_to_give()})."
            )
        else:
            hints[kind.field] = f"A {kind.service} token is missing: {kind.how_to_give()}."
    return list(hints.values())
