"""Follow one deployment's events until it settles, showing its states and setup steps.

The stream is opened first, then the deployment is read, so nothing falls in between: the read
gives the starting picture, the stream everything after. A dropped stream is resumed with
`Last-Event-ID`; if it drops before any event arrived, the picture is read again.

On a terminal, a Rich live display shows the state trail and one progress bar per setup step
(model downloads with bytes, speed and ETA). Elsewhere (pipes, CI logs) it prints plain lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from comfyhangar.cli.client import HangarClient, StreamOpened
from comfyhangar.cli.output import (
    duration,
    err,
    gpu_label,
    money,
    out,
    size,
    speed,
    state_text,
)
from comfyhangar.core.setup_progress import SETUP_ORDER
from comfyhangar.core.sse import ServerSentEvent

RESET_SETUP_ON = {"creating", "starting", "restarting", "pending"}
STEP_ICONS = {
    "started": ("●", "yellow"),
    "running": ("●", "yellow"),
    "done": ("✓", "green"),
    "skipped": ("–", "dim"),
    "failed": ("✗", "red"),
}


@dataclass
class Step:
    name: str
    status: str = ""
    message: str | None = None
    item: str | None = None
    bytes_done: int | None = None
    bytes_total: int | None = None
    speed_bps: float | None = None
    eta_s: float | None = None
    items_done: list[str] = field(default_factory=list)
    line_bucket: int = -1  # the last quarter of a download printed as a line


@dataclass
class Tracker:
    """What is known about the deployment being followed."""

    deployment: dict[str, Any]
    state: str = "pending"
    reason: str | None = None
    trail: list[str] = field(default_factory=list)
    steps: dict[str, Step] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    pod: dict[str, Any] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)

    def snapshot(self, view: dict[str, Any]) -> None:
        """Take the starting picture from a deployment view."""
        self.deployment = {**self.deployment, **view}
        self.set_state(view["state"], view.get("reason"))
        if view.get("pod"):
            self.pod.update(id=view["pod"]["id"], cost=view["pod"].get("cost_per_hour"))
            self.pod["dc"] = view["pod"].get("data_center_id")
        for item in view.get("setup") or []:
            step = self.steps.setdefault(item["step"], Step(item["step"]))
            for key in ("status", "message", "bytes_done", "bytes_total", "speed_bps", "eta_s"):
                if item.get(key) is not None:
                    setattr(step, key, item[key])

    def set_state(self, state: str, reason: str | None = None) -> bool:
        if state == self.state and self.trail:
            return False
        if state in RESET_SETUP_ON and self.trail:
            self.steps.clear()
        self.state = state
        self.reason = reason
        if not self.trail or self.trail[-1] != state:
            self.trail.append(state)
        return True

    def apply(self, event: dict[str, Any]) -> str | None:
        """Fold one event in; return a line describing it (None when there is nothing new)."""
        kind, data = event.get("type"), event.get("data") or {}
        if kind == "deployment_state":
            state = str(data.get("state"))
            if self.set_state(state, data.get("reason")):
                reason = f" ({data['reason']})" if data.get("reason") else ""
                return f"state: {state}{reason}"
            return None
        if kind == "pod_created":
            self.pod.update(id=event.get("pod_id"), cost=data.get("cost_per_hour"))
            self.pod["dc"] = data.get("data_center_id")
            gpu = gpu_label(str(data.get("gpu", "?")), int(data.get("gpu_count") or 1))
            where = data.get("data_center_id") or "?"
            return f"pod {event.get('pod_id')} created: {gpu} in {where}, {money(data.get('cost_per_hour'), per_hour=True)}"
        if kind == "setup_progress":
            return self._setup(data)
        if kind == "error":
            message = str(data.get("message", "error"))
            self.errors.append(message)
            return f"error: {message}"
        if kind == "pod_terminated":
            return f"pod {event.get('pod_id')} terminated"
        return None

    def _setup(self, data: dict[str, Any]) -> str | None:
        name = str(data.get("step", "?"))
        status = str(data.get("status", "running"))
        step = self.steps.setdefault(name, Step(name))
        item = data.get("item")
        if item and status in ("done", "skipped", "failed"):  # one file of the step ended
            step.items_done.append(str(item))
            return f"  {name}: {item} {status}"
        before = (step.status, step.message)
        step.status = status
        step.item = item or step.item
        # Each step line says it all (as the server keeps its latest line): an older message,
        # "downloading 4 file(s)", does not stay on a later "done".
        words = data.get("error") if status == "failed" else data.get("message")
        step.message = str(words) if words else None
        for key in ("bytes_done", "bytes_total", "speed_bps", "eta_s"):
            if data.get(key) is not None:
                setattr(step, key, data[key])
        if status == "done" and step.bytes_done is not None and step.bytes_total:
            step.bytes_done = step.bytes_total
        if status == "running" and step.bytes_done is not None and step.bytes_total:
            return _running_line(step)
        if (step.status, step.message) == before:
            return None
        message = f" - {step.message}" if step.message else ""
        return f"  {name}: {status}{message}"

    # rendering

    def render(self) -> RenderableType:
        trail = Text(" → ").join(state_text(s) for s in self.trail[-8:])
        elapsed = time.monotonic() - self.started_at
        head = Text.assemble(
            (f"{self.deployment.get('name', '?')} ", "bold"),
            trail,
            (f"   {int(elapsed)}s", "dim"),
        )
        parts: list[RenderableType] = [head]
        if self.pod.get("id"):
            cost = money(self.pod.get("cost"), per_hour=True)
            parts.append(
                Text(f"pod {self.pod['id']}  {self.pod.get('dc') or ''}  {cost}", style="dim")
            )
        if self.steps:
            parts.append(_StepsView(self.steps))
        for message in self.errors[-3:]:
            parts.append(Text(f"error: {message}", style="red"))
        return Group(*parts)


def _running_line(step: Step) -> str | None:
    done, total = step.bytes_done or 0, step.bytes_total or 0
    pct = int(100 * done / total) if total else 0
    bucket = pct // 25
    if step.line_bucket == bucket:
        return None
    step.line_bucket = bucket
    eta = f", ETA {duration(step.eta_s)}" if step.eta_s is not None else ""
    return f"  {step.name}: {pct}% {size(done)} / {size(total)} at {speed(step.speed_bps)}{eta}"


class _StepsView:
    """The setup steps, one row each, laid out for the width at hand: a step that downloads
    gets a progress bar with bytes, speed and ETA (on the next line when the bar would be too
    short), then the file in flight; other steps their message."""

    NAME_WIDTH = 13
    BAR_WIDTH = (10, 40)

    def __init__(self, steps: dict[str, Step]) -> None:
        order = {name: i for i, name in enumerate(SETUP_ORDER)}
        self.steps = sorted(steps.values(), key=lambda s: order.get(s.name, len(order)))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, min_width=self.NAME_WIDTH)
        table.add_column(overflow="fold")
        detail_width = max(options.max_width - self.NAME_WIDTH - 3, 1)  # icon and two gaps
        for step in self.steps:
            icon, style = STEP_ICONS.get(step.status, ("●", "yellow"))
            table.add_row(
                Text(icon, style=style),
                Text(step.name.replace("_", " "), style="bold" if step.status != "done" else ""),
                self._detail(step, detail_width),
            )
        yield table

    def _detail(self, step: Step, width: int) -> RenderableType:
        active = step.status in ("started", "running")
        note = Text((step.item if active and step.item else step.message) or "", style="dim")
        if not (step.bytes_total and step.bytes_done is not None):
            if not active:
                return note
            pulse = Table.grid()
            pulse.add_row(ProgressBar(total=None, width=min(self.BAR_WIDTH[1], width), pulse=True))
            return Group(pulse, note) if note.plain else pulse
        amounts = f"{size(step.bytes_done)} / {size(step.bytes_total)}"
        if active:
            amounts += f"  {speed(step.speed_bps)}"
            if step.eta_s is not None:
                amounts += f"  ETA {duration(step.eta_s)}"
        low, high = self.BAR_WIDTH
        beside = width - len(amounts) - 1
        bar = ProgressBar(
            total=float(step.bytes_total),
            completed=float(step.bytes_done),
            width=min(high, beside) if beside >= low else min(high, width),
        )
        lines = Table.grid(padding=(0, 1))
        if beside >= low:
            lines.add_column(width=bar.width, no_wrap=True)
            lines.add_column(no_wrap=True)
            lines.add_row(bar, Text(amounts))
        else:
            lines.add_row(bar)
            lines.add_row(Text(amounts))
        return Group(lines, note) if note.plain else lines


@dataclass
class Outcome:
    state: str
    reason: str | None
    deployment: dict[str, Any]


class Follower:
    """Follows one deployment until its state is in `until`."""

    def __init__(
        self,
        client: HangarClient,
        deployment: dict[str, Any],
        *,
        until: Collection[str],
        quiet: bool = False,
        console: Console | None = None,
    ) -> None:
        self.client = client
        self.dep_id = str(deployment["id"])
        self.tracker = Tracker(deployment)
        self.until = set(until)
        self.quiet = quiet
        self.console = console or out()

    def run(self) -> Outcome:
        if self.quiet:
            return self._loop(lambda _line: None)
        if self.console.is_terminal:
            with Live(
                get_renderable=self.tracker.render,
                console=self.console,
                refresh_per_second=8,
                transient=False,
            ):
                return self._loop(lambda _line: None)
        return self._loop(self._print_line)

    def _print_line(self, line: str) -> None:
        self.console.print(Text(line), soft_wrap=True)
        self.console.file.flush()  # a pipe (tee, CI log) sees each step as it happens

    def _loop(self, emit: Callable[[str], None]) -> Outcome:
        def reconnecting(reason: str) -> None:
            if not self.quiet:
                err().print(Text(f"{reason}; reconnecting…", style="yellow"))

        stream = self.client.stream(
            "/events", {"deployment_id": self.dep_id}, on_reconnect=reconnecting
        )
        try:
            for item in stream:
                if isinstance(item, StreamOpened):
                    if not item.resumed:  # starting picture, after the stream is open
                        view = self.client.get(f"/deployments/{self.dep_id}")
                        before = list(self.tracker.trail)
                        self.tracker.snapshot(view)
                        if self.tracker.trail != before:
                            emit(f"state: {self.tracker.state}")
                    if self.tracker.state in self.until:
                        break
                    continue
                if not isinstance(item, ServerSentEvent) or not item.data:
                    continue
                line = self.tracker.apply(item.json())
                if line is not None:
                    emit(line)
                if self.tracker.state in self.until:
                    break
        finally:
            stream.close()
        final = self.client.get(f"/deployments/{self.dep_id}")
        state = self.tracker.state
        return Outcome(state, self.tracker.reason or final.get("reason"), final)
