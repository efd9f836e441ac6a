"""How the CLI prints: Rich for people, plain JSON for scripts, short messages for errors.

Data and tables go to stdout; notices (the simulated cloud, reconnects, hints) and errors go to
stderr, so `--json` output stays pure JSON.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from comfyhangar.cli.client import CliError

P = ParamSpec("P")
R = TypeVar("R")

STATE_STYLES = {
    "pending": "dim",
    "creating": "cyan",
    "provisioning": "cyan",
    "starting": "cyan",
    "installing": "blue",
    "ready": "bold green",
    "stopping": "yellow",
    "stopped": "yellow",
    "restarting": "cyan",
    "terminating": "magenta",
    "terminated": "dim",
    "failed": "bold red",
}
POD_STYLES = {
    "RUNNING": "green",
    "PROVISIONING": "cyan",
    "STARTING": "cyan",
    "EXITED": "yellow",
    "ERROR": "red",
    "TERMINATED": "dim",
}
SIMULATED_NOTICE = "Simulated cloud: nothing is billed (the server plays RunPod with its emulator)."


def out() -> Console:
    """stdout, resolved at call time (so test runners that swap sys.stdout see the output)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True)


def err() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def notice_simulated() -> None:
    err().print(Text(SIMULATED_NOTICE, style="yellow"))


def fail(message: str, exit_code: int = 1) -> typer.Exit:
    """Print `message` as an error on stderr; return the Exit to raise."""
    err().print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    return typer.Exit(exit_code)


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn errors into a message and an exit code: users never see a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CliError as exc:
            raise fail(exc.message, exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.exceptions.TyperException):
            raise
        except Exception as exc:  # one line instead of a traceback; DEBUG shows it
            if os.environ.get("COMFYHANGAR_DEBUG"):
                raise
            raise fail(
                f"unexpected {type(exc).__name__}: {exc} (set COMFYHANGAR_DEBUG=1 for details)"
            ) from None

    return wrapper


def state_text(state: str | None) -> Text:
    if not state:
        return Text("-", style="dim")
    return Text(state, style=STATE_STYLES.get(state, ""))


def pod_status_text(status: str | None) -> Text:
    if not status:
        return Text("-", style="dim")
    return Text(status, style=POD_STYLES.get(status, ""))


def short_id(value: str) -> str:
    return value[:8]


def gpu_label(gpu_id: str, count: int = 1) -> str:
    name = gpu_id.removeprefix("NVIDIA ").removeprefix("GeForce ").removeprefix("AMD ")
    return f"{count}x {name}" if count > 1 else name


def money(value: Any, *, per_hour: bool = False) -> str:
    if value is None:
        return "-"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    digits = 2 if amount == 0 or abs(amount) >= Decimal("0.01") else 4
    text = f"${amount:.{digits}f}"
    return f"{text}/h" if per_hour else text


def rate(value: Any) -> str:
    """A deployment's rate as the dashboard shows it: `$0.027/h`, to the tenth of a cent."""
    if value is None:
        return "-"
    try:
        return f"${Decimal(str(value)):.3f}/h"
    except InvalidOperation:
        return str(value)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = int(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def size(num: float | None) -> str:
    if num is None:
        return "-"
    value = float(num)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def speed(bps: float | None) -> str:
    return "-" if bps is None else f"{size(bps)}/s"


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`"; did you mean sdxl-base?"` for the choices that start with or look like `value`, or
    nothing when none does."""
    options = list(choices)
    lowered = value.lower()
    close = [c for c in options if c.lower().startswith(lowered) and lowered]
    close += [c for c in difflib.get_close_matches(value, options, n=3) if c not in close]
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean {close[0]}?"
    return f"; did you mean {', '.join(close[:-1])} or {close[-1]}?"
