"""What the commands show people: the GPU and deployment tables, one deployment, a log line.

Pure functions from the API's JSON to Rich renderables; the commands decide where they go.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from comfyhangar.cli.output import (
    duration,
    gpu_label,
    money,
    pod_status_text,
    short_id,
    size,
    speed,
    state_text,
)

TIER_STYLES = {"budget": "green", "mid": "cyan", "high": "yellow", "premium": "magenta"}
STOCK_STYLES = {"HIGH": "green", "MEDIUM": "yellow", "LOW": "red", "NONE": "dim"}


def absolute(link: str, base_url: str) -> str:
    """A link of the API (`/api/v1/...`, such as the one-click ComfyUI link) on its server."""
    return base_url.rstrip("/") + link if link.startswith("/") and base_url else link


def gpu_table(rows: list[dict[str, Any]], cloud: str) -> Table:
    """The GPU catalog rows for `cloud` (SECURE or COMMUNITY)."""
    key = cloud.lower()
    table = Table(title=f"GPUs: {cloud} cloud, cheapest first", title_justify="left")
    table.add_column("Tier")
    table.add_column("GPU", style="bold")
    table.add_column("ID (for --gpu)", style="dim")
    table.add_column("VRAM", justify="right")
    table.add_column("Secure $/h", justify="right")
    table.add_column("Community $/h", justify="right")
    table.add_column("Max", justify="right")
    table.add_column("Stock")
    for g in rows:
        prices, most = g["price_per_hour"], g["max_count"]
        table.add_row(
            Text(g["tier"], style=TIER_STYLES.get(g["tier"], "")),
            g["name"],
            g["id"],
            f"{g['vram_gb']} GB",
            money(prices["secure"]),
            money(prices["community"]),
            str(most[key]),
            Text(g["availability"], style=STOCK_STYLES.get(g["availability"], "")),
        )
    return table


def deployments_table(deployments: list[dict[str, Any]]) -> Table:
    """One row per deployment: name, short id, state, GPU, pod status, uptime, rate."""
    table = Table()
    for column, justify in [
        ("Name", "left"),
        ("ID", "left"),
        ("State", "left"),
        ("GPU", "left"),
        ("Pod", "left"),
        ("Uptime", "right"),
        ("$/h", "right"),
    ]:
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for d in deployments:
        pod = d.get("pod") or {}
        table.add_row(
            Text(d["name"], style="bold"),
            short_id(d["id"]),
            state_text(d["state"]),
            gpu_label(d["gpu"]["id"], d["gpu"]["count"]),
            pod_status_text(pod.get("status")),
            duration(pod.get("uptime_s")),
            money(pod["cost_per_hour"]) if pod else "-",
        )
    return table


def render_detail(d: dict[str, Any], *, base_url: str = "") -> Panel:
    info = Table.grid(padding=(0, 2))
    info.add_column(style="dim")
    info.add_column()
    state = state_text(d["state"])
    if d.get("reason"):
        state.append(f"  ({d['reason']})", style="red" if d["state"] == "failed" else "")
    rows: list[tuple[str, Text | str]] = [
        ("id", d["id"]),
        ("state", state),
        ("wanted", d["desired_state"]),
        ("GPU", f"{gpu_label(d['gpu']['id'], d['gpu']['count'])}  ({d['gpu']['id']})"),
        ("cloud", d["cloud"] + ("  (simulated: nothing is billed)" if d.get("simulated") else "")),
        ("image", d["image"]),
        ("disk", _disks(d)),
        ("created", _when(d["created_at"])),
        ("updated", _when(d["updated_at"])),
    ]
    pod = d.get("pod")
    if pod:
        rows += [
            ("pod", Text.assemble(pod["id"], "  ", pod_status_text(pod["status"]))),
            ("data center", pod.get("data_center_id") or "-"),
            ("cost", money(pod["cost_per_hour"], per_hour=True)),
            ("uptime", duration(pod.get("uptime_s"))),
        ]
        if pod.get("gpu_util"):
            util = ", ".join(f"{u}%" for u in pod["gpu_util"])
            rows.append(("GPU util", util))
    else:
        rows.append(("pod", Text("none", style="dim")))
    links = d.get("links") or {}
    if links.get("comfyui"):
        rows.append(("ComfyUI", Text(absolute(links["comfyui"], base_url), style="bold")))
    for key, value in rows:
        info.add_row(key, value)
    parts: list[Any] = [info]
    if d.get("setup"):
        steps = Table(title="Setup", title_justify="left", expand=False)
        for column in ("Step", "Status", "Progress", "Message"):
            steps.add_column(column)
        for s in d["setup"]:
            progress = ""
            if s.get("bytes_total") and s.get("bytes_done") is not None:
                progress = f"{size(s.get('bytes_done'))} / {size(s['bytes_total'])}"
                if s.get("status") == "running" and s.get("speed_bps"):
                    progress += f" at {speed(s['speed_bps'])}"
            steps.add_row(s["step"], s["status"], progress, s.get("message") or "")
        parts.append(steps)
    if d.get("history"):
        history = Table(title="History", title_justify="left", expand=False)
        for column in ("When", "State", "Reason"):
            history.add_column(column)
        for h in d["history"]:
            history.add_row(_when(h["at"]), state_text(h["state"]), h.get("reason") or "")
        parts.append(history)
    title = Text.assemble((d["name"], "bold"), " ", state_text(d["state"]))
    return Panel(Group(*parts), title=title, title_align="left")


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


def log_line(line: dict[str, Any]) -> Text:
    """One line of the pod log: its time, its source and the line."""
    stamp = str(line.get("ts", ""))[11:19]
    return Text.assemble(
        (stamp, "dim"), " ", (str(line.get("source", "")), "cyan"), " ", line["line"]
    )
