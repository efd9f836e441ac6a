"""The options and arguments several commands share, and their choices."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class CloudChoice(StrEnum):
    SECURE = "SECURE"
    COMMUNITY = "COMMUNITY"


class TierChoice(StrEnum):
    BUDGET = "budget"
    MID = "mid"
    HIGH = "high"
    PREMIUM = "premium"


UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="HANGAR_URL",
        help="ComfyHangar server URL (default http://127.0.0.1:8000)",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts (nothing else on stdout)")
]
RefArg = Annotated[
    str, typer.Argument(help="Deployment id, a unique id prefix (4+ characters), or its name")
]
WaitOpt = Annotated[bool, typer.Option("--wait", "-w", help="Follow events until it is done")]
