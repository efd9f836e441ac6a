"""How a deployment's setup steps follow the agent's progress lines: forward only, per run.

The agent reports each step as `started` -> (`running`)* -> `done` | `failed` | `skipped`
(docs/agent-progress-protocol.md). Within one run of the agent a step only moves forward: a
`running` or `started` line that arrives after the step ended (or a `started` after `running`)
changes nothing. A step that ended may still turn `failed` (ComfyUI exiting after `ready` fails
the `start` step), never the other way round.

Every line of one agent process carries the same `run` id; a line with another id than the
steps recorded is the first of a new run (a pod restart, a start after a stop, a container that
restarted): the recorded steps are dropped and the new run starts afresh. Lines of agents that
predate `run` carry none; for them, a step-level `preflight` `started` or `skipped` line (the
first line of every run) starts a new run.

Pure functions, no I/O: the log follower folds each batch of parsed lines into the stored steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SetupStepName(StrEnum):
    """The agent's setup steps, in the order it runs them (the agent, which imports nothing of
    the package, keeps the same list in `agent/protocol.py`; a test holds them equal)."""

    PREFLIGHT = "preflight"
    COMFYUI = "comfyui"
    CUSTOM_NODES = "custom_nodes"
    MODELS = "models"
    START = "start"
    READY = "ready"


#: The step names in order.
SETUP_ORDER: tuple[str, ...] = tuple(SetupStepName)
ENDED = frozenset({"done", "failed", "skipped"})
_RANK = {"started": 0, "running": 1, "done": 2, "failed": 2, "skipped": 2}
#: What the stored entry of a step keeps of its latest line.
STEP_FIELDS = ("status", "item", "message", "bytes_done", "bytes_total", "speed_bps", "eta_s")


def is_step_level(progress: dict[str, Any]) -> bool:
    """Whether a progress line describes its whole step: lines without an `item`, and `running`
    lines, which the agent aggregates over the step (bytes of the whole model set) while naming
    the file in flight as `item`. Other item lines are about one file or node only."""
    return progress.get("item") is None or progress.get("status") == "running"


def moves_forward(current: str | None, status: str) -> bool:
    """Whether a step at `current` (None: not seen in this run) may take `status`."""
    if current is None:
        return True
    if current in ENDED:
        return status == "failed" and current != "failed"
    return _RANK[status] > _RANK[current] or status == current == "running"


@dataclass
class Fold:
    """The steps after a batch of lines, and what the batch did.

    `accepted` holds the lines that count (item lines, and step lines that moved their step);
    `new_run` says the batch began a new run of the agent (so an earlier `ready` is void);
    `ready` says the current run has reached `ready` / `done`.
    """

    setup: dict[str, Any]
    accepted: list[dict[str, Any]] = field(default_factory=list)
    new_run: bool = False

    @property
    def ready(self) -> bool:
        entry = self.setup.get("ready")
        return isinstance(entry, dict) and entry.get("status") == "done"


def fold_progress(setup: dict[str, Any] | None, lines: Iterable[dict[str, Any]]) -> Fold:
    """Apply parsed progress lines, in order, to the stored steps (`Deployment.setup`)."""
    fold = Fold(dict(setup or {}))
    for line in lines:
        if _begins_run(fold.setup, line):
            fold.setup, fold.new_run = {}, True
        if not is_step_level(line):
            fold.accepted.append(line)
            continue
        step, status = line["step"], line["status"]
        entry = fold.setup.get(step)
        if not moves_forward(entry.get("status") if isinstance(entry, dict) else None, status):
            continue
        fold.setup[step] = {
            **{key: line.get(key) for key in STEP_FIELDS},
            # A failed step's words are its `error`: kept as the step's message.
            **({"message": line["error"]} if status == "failed" and line.get("error") else {}),
            "updated_at": line.get("time"),
            "run": line.get("run"),
        }
        fold.accepted.append(line)
    return fold


def _begins_run(setup: dict[str, Any], line: dict[str, Any]) -> bool:
    if not setup:
        return False
    run = line.get("run")
    if run is not None:
        return any(isinstance(e, dict) and e.get("run") != run for e in setup.values())
    legacy_start = line.get("item") is None and line.get("status") in ("started", "skipped")
    return line["step"] == "preflight" and legacy_start


def setup_failure(setup: dict[str, Any] | None) -> str | None:
    """Why the agent's current run stopped, or None while it goes on (or when it ended well).

    The run stopped when its `ready` step `failed`; the reason names the steps that failed and
    what they said (`models: failed: flux1-dev.safetensors`), else the `ready` line's message.
    """
    steps = setup or {}
    ready = steps.get("ready")
    if not isinstance(ready, dict) or ready.get("status") != "failed":
        return None
    failed = [
        f"{name}: {entry.get('message') or 'failed'}"
        for name, entry in steps.items()
        if name != "ready" and isinstance(entry, dict) and entry.get("status") == "failed"
    ]
    return "; ".join(failed) or str(ready.get("message") or "the agent stopped")
