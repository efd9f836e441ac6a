"""`comfyhangar logs`: the pod log, or its live stream with -f."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import StreamOpened
from comfyhangar.cli.options import JsonOpt, RefArg, UrlOpt
from comfyhangar.cli.output import err, friendly, out, print_json
from comfyhangar.cli.render import log_line
from comfyhangar.cli.session import resolve, session
from comfyhangar.core.sse import ServerSentEvent


@friendly
def logs(
    ref: RefArg,
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, max=2000)] = 200,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """The pod log (agent and ComfyUI); -f follows it. With --json -f: one JSON object per line."""
    with session(url, as_json) as client:
        dep_id = resolve(client, ref)["id"]
        if not follow:
            tail = client.get(f"/deployments/{dep_id}/logs", lines=lines)
            if as_json:
                print_json(tail)
                return
            for line in tail["lines"]:
                _print_log(line)
            return
        stream = client.stream(
            f"/deployments/{dep_id}/logs",
            {"lines": lines, "follow": 1},
            resume_params={"lines": 2000},
            on_reconnect=lambda why: err().print(Text(f"{why}; reconnecting…", style="yellow")),
        )
        try:
            for item in stream:
                if isinstance(item, StreamOpened) or not isinstance(item, ServerSentEvent):
                    continue
                if item.event != "log":
                    continue
                payload = item.json()
                if as_json:
                    record = {"id": int(item.id) if item.id else None, **payload}
                    print(json.dumps(record, ensure_ascii=False), flush=True)
                else:
                    _print_log(payload)
        except KeyboardInterrupt:
            return
        finally:
            stream.close()


def _print_log(line: dict[str, Any]) -> None:
    console = out()
    console.print(log_line(line), soft_wrap=True)
    console.file.flush()
