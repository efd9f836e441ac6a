"""What the commands show people: listings (GPUs, deployments, presets), one deployment, a log line.

Functions from the API's JSON to Rich renderables; the commands decide where they go.

Nothing a user copies (an id, a URL, an image) is ever cut or broken across lines: in a listing
such columns never wrap, and other columns go (in a set order) when the terminal is too narrow;
when even those columns do not fit, each row becomes a line of its own. One deployment is shown
as `key  value` lines that the terminal wraps, never Rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from comfyhangar.agent.protocol import parse_progress_line
from comfyhangar.cli.idle import idle_text
from comfyhangar.cli.output import (
    duration,
    gpu_label,
    money,
    pod_status_text,
    rate,
    short_id,
    size,
    speed,
    state_text,
)

TIER_STYLES = {"budget": "green", "mid": "cyan", "high": "yellow", "premium": "magenta"}
STOCK_STYLES = {"HIGH": "green", "MEDIUM": "yellow", "LOW": "red", "NONE": "dim"}
Cell = str | Text


@dataclass(frozen=True)
class Column:
    """A column of a listing.

    `copy`: an id or URL a user copies; never wrapped, cut or dropped. `drop`: the order in which
    the column goes when the listing is too wide (1 first); None keeps it. `wrap`: prose that may
    wrap onto more lines.
    """

    header: str
    justify: JustifyMethod = "left"
    style: str = ""
    copy: bool = False
    drop: int | None = None
    wrap: bool = False


def listing(
    console: Console,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
) -> RenderableType:
    """A table of `rows` that fits `console.width` without cutting a `copy` column.

    Columns that may go are dropped, in their `drop` order, until the table fits; if it still
    does not, each row is printed as its copy cells on one line and the rest indented below.
    """
    kept = list(range(len(columns)))
    droppable = sorted(
        (i for i, c in enumerate(columns) if c.drop is not None and not c.copy),
        key=lambda i: columns[i].drop or 0,
    )
    while True:
        table = _table(columns, rows, kept, title)
        if _needed_width(console, table, [columns[i] for i in kept]) <= console.width:
            return table
        if not droppable:
            return _stacked(columns, rows, kept, title)
        kept.remove(droppable.pop(0))


def _needed_width(console: Console, table: Table, columns: Sequence[Column]) -> int:
    """The table's width with every cell on one line, less what its `wrap` columns can give
    up by wrapping at spaces."""
    options = console.options.update(max_width=1_000_000)
    width = console.measure(table, options=options).maximum
    for column, rich_column in zip(columns, table.columns, strict=True):
        if column.wrap:
            cells = [rich_column.header, *rich_column.cells]
            sizes = [Measurement.get(console, options, cell) for cell in cells]
            width -= max(m.maximum for m in sizes) - max(m.minimum for m in sizes)
    return width


def _table(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], kept: list[int], title: str | None
) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left"
    )
    for i in kept:
        c = columns[i]
        table.add_column(c.header, justify=c.justify, style=c.style, no_wrap=not c.wrap)
    for row in rows:
        table.add_row(*(row[i] for i in kept))
    return table


def _stacked(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], kept: list[int], title: str | None
) -> Group:
    lines: list[RenderableType] = [Text(title, style="bold")] if title else []
    for row in rows:
        head = Text("  ", style="bold").join(_text(row[i]) for i in kept if columns[i].copy)
        rest = Text("    ").join(
            Text.assemble((f"{columns[i].header} ", "dim"), _text(row[i]))
            for i in kept
            if not columns[i].copy and _text(row[i]).plain
        )
        lines += [head, Text.assemble("  ", rest)]
    return Group(*lines)


def _text(cell: Cell) -> Text:
    return cell.copy() if isinstance(cell, Text) else Text(cell)


def absolute(link: str, base_url: str) -> str:
    """A link of the API (`/api/v1/...`, such as the one-click ComfyUI link) on its server."""
    return base_url.rstrip("/") + link if link.startswith("/") and base_url else link


# gpus


def gpu_listing(console: Console, gpus: list[dict[str, Any]], cloud: str) -> RenderableType:
    """The GPU catalog for `cloud` (SECURE or COMMUNITY): the chosen cloud's price first."""
    key = cloud.lower()
    other = "community" if key == "secure" else "secure"
    columns = [
        Column("ID (for --gpu)", style="bold", copy=True),
        Column("Name", drop=1),
        Column("VRAM", justify="right"),
        Column(f"{cloud.capitalize()} $/h", justify="right"),
        Column(f"{other.capitalize()} $/h", justify="right", drop=2),
        Column("Tier", drop=3),
        Column("Max", justify="right", drop=4),
        Column("Stock"),
    ]
    rows = [
        [
            g["id"],
            g["name"],
            f"{g['vram_gb']} GB",
            money(g["price_per_hour"][key]),
            money(g["price_per_hour"][other]),
            Text(g["tier"], style=TIER_STYLES.get(g["tier"], "")),
            str(g["max_count"][key]),
            Text(g["availability"], style=STOCK_STYLES.get(g["availability"], "")),
        ]
        for g in gpus
    ]
    return listing(console, columns, rows, title=f"GPUs: {cloud} cloud, cheapest first")


# presets


def preset_listing(presets: list[dict[str, Any]]) -> Group:
    """Each preset as a block: its id (for `--preset`), title, size and the token it needs,
    then its description, models and custom nodes. Lines wrap in the terminal, whole."""
    parts: list[RenderableType] = []
    for p in presets:
        token = (
            Text("needs a Hugging Face token", style="yellow")
            if p["needs_hf_token"]
            else Text("no token needed", style="green")
        )
        parts.append(
            Text.assemble(
                (p["id"], "bold"), "  ", p["title"], "  ", size(p["total_bytes"]), "  ", token
            )
        )
        parts.append(Text(f"  {p['description']}", style="dim"))
        for m in p["models"]:
            gated = Text(" (gated)", style="yellow") if m["gated"] else ""
            parts.append(Text.assemble(f"  {m['folder']}/{m['name']}  ", size(m["size"]), gated))
        if p["nodes"]:
            parts.append(Text(f"  custom nodes: {', '.join(n['name'] for n in p['nodes'])}"))
        parts.append(Text(""))
    return Group(*parts)


# deployments


def deployments_listing(console: Console, deployments: list[dict[str, Any]]) -> RenderableType:
    """One row per deployment: name, short id, state, GPU, pod status, uptime, rate."""
    columns = [
        Column("Name", style="bold", copy=True),
        Column("ID", copy=True),
        Column("State"),
        Column("GPU", drop=3),
        Column("Pod", drop=1),
        Column("Uptime", justify="right", drop=2),
        Column("$/h", justify="right", drop=4),
    ]
    rows: list[list[Cell]] = []
    for d in deployments:
        pod = d.get("pod") or {}
        rows.append(
            [
                d["name"],
                short_id(d["id"]),
                state_text(d["state"]),
                gpu_label(d["gpu"]["id"], d["gpu"]["count"]),
                pod_status_text(pod.get("status")),
                duration(pod.get("uptime_s")),
                rate(d["cost"]["per_hour_usd"]),  # the server's rate for its state
            ]
        )
    return listing(console, columns, rows)


def render_detail(d: dict[str, Any], *, base_url: str = "") -> Group:
    """One deployment: `key  value` lines (long values wrap in the terminal, whole), then its
    setup steps and its state history."""
    state = state_text(d["state"])
    if d.get("reason"):
        state.append(f"  ({d['reason']})", style="red" if d["state"] == "failed" else "")
    fields: list[tuple[str, Cell]] = [
        ("id", d["id"]),
        ("state", state),
        ("wanted", d["desired_state"]),
        ("GPU", f"{gpu_label(d['gpu']['id'], d['gpu']['count'])}  ({d['gpu']['id']})"),
        ("cloud", d["cloud"] + ("  (simulated: nothing is billed)" if d.get("simulated") else "")),
        ("image", d["image"]),
        ("disk", _disks(d)),
        ("created", _when(d["created_at"])),
        ("updated", _when(d["updated_at"])),
        ("rate", rate(d["cost"]["per_hour_usd"])),
        ("cost so far", money(d["cost"]["so_far_usd"])),
    ]
    pod = d.get("pod")
    if pod:
        fields += [
            ("pod", Text.assemble(pod["id"], "  ", pod_status_text(pod["status"]))),
            ("data center", pod.get("data_center_id") or "-"),
            ("uptime", duration(pod.get("uptime_s"))),
        ]
        if pod.get("gpu_util"):
            fields.append(("GPU util", ", ".join(f"{u}%" for u in pod["gpu_util"])))
    else:
        fields.append(("pod", Text("none", style="dim")))
    idle = idle_text(d.get("idle"), d["state"])
    if idle is not None:
        fields.append(("idle", idle))
    links = d.get("links") or {}
    if links.get("comfyui"):
        fields.append(("ComfyUI", Text(absolute(links["comfyui"], base_url), style="bold")))
    width = max(len(key) for key, _ in fields) + 2
    parts: list[RenderableType] = [
        Text.assemble((d["name"], "bold"), "  ", state_text(d["state"])),
        *(Text.assemble((key.ljust(width), "dim"), value) for key, value in fields),
    ]
    if d.get("setup"):
        steps = _small_table("Setup", ("Step", "Status", "Progress", "Message"), wrap_last=True)
        for s in d["setup"]:
            steps.add_row(s["step"], s["status"], _step_progress(s), s.get("message") or "")
        parts.append(steps)
    if d.get("history"):
        history = _small_table("History", ("When", "State", "Reason"), wrap_last=True)
        for h in d["history"]:
            history.add_row(_when(h["at"]), state_text(h["state"]), h.get("reason") or "")
        parts.append(history)
    return Group(*parts)


def _small_table(title: str, headers: Sequence[str], *, wrap_last: bool) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title=title, title_justify="left"
    )
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=not (wrap_last and i == len(headers) - 1))
    return table


def _step_progress(step: dict[str, Any]) -> str:
    total, done = step.get("bytes_total"), step.get("bytes_done")
    if not total or done is None:
        return ""
    text = f"{size(done)} / {size(total)}"
    if step.get("status") == "running" and step.get("speed_bps"):
        text += f" at {speed(step['speed_bps'])}"
    return text


def _disks(d: dict[str, Any]) -> str:
    text = f"container {d['container_disk_gb']} GB"
    if d.get("volume_gb"):
        text += f", volume {d['volume_gb']} GB"
    if d.get("network_volume_id"):
        text += f", network volume {d['network_volume_id']}"
    return text


def _when(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# logs


def log_line(line: dict[str, Any]) -> Text:
    """One line of the pod log: its time, its source and the line; an agent progress line
    (docs/agent-progress-protocol.md) in words, as the dashboard's log viewer shows it."""
    stamp = str(line.get("ts", ""))[11:19]
    text = str(line["line"])
    progress = parse_progress_line(text)
    body = (
        Text.assemble(("setup ", "magenta"), (progress_words(progress), "dim"))
        if progress is not None
        else Text(text)
    )
    return Text.assemble((stamp, "dim"), " ", (str(line.get("source", "")), "cyan"), " ", body)


def progress_words(body: dict[str, Any]) -> str:
    """`step · status · item · bytes · speed · time left · message · error` of a progress line."""
    status = body["status"]
    details: list[str] = []
    if body.get("item"):
        details.append(body["item"])
    done, total = body.get("bytes_done"), body.get("bytes_total")
    if body["step"] == "preflight":  # there the bytes are what is still to download
        if total:
            details.append(f"{size(total)} to download")
    elif done is not None and total is not None and status == "running":
        details.append(f"{size(done)} of {size(total)}")
    elif total is not None:
        details.append(size(total))
    elif done is not None:
        details.append(size(done))
    if status == "running" and body.get("speed_bps"):
        details.append(speed(body["speed_bps"]))
    if status == "running" and body.get("eta_s") is not None:
        details.append(f"{duration(body['eta_s'])} left")
    items = body.get("items_total")
    if items is not None and not body.get("item"):
        details.append(f"{items} item{'' if items == 1 else 's'}")
    details += [str(body[key]) for key in ("message", "error") if body.get(key)]
    return " · ".join([body["step"], status, *details])
