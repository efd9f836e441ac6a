"""Benchmark: UI -> API conversion time per workflow over the whole template set.

Every template of the installed `comfyui-workflow-templates` package is converted against the
shared `/object_info` snapshot, `--rounds` times each after one warm-up, in this process (the
converter is pure: no server, no I/O). Two cases:

- a catalog reused across conversions (what a server does: one per target `/object_info`);
- a fresh catalog per conversion (the first conversion against a new `/object_info`: the
  layouts of the classes the workflow uses are built too).

    uv run python -m bench.convert              # about 15 s
    uv run python -m bench.convert --rounds 50

Target (issue 11): p99 < 5 ms per workflow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from tests.comfyui.references import RECORDED_AT, SHARED_OBJECT_INFO, template_files

from bench._common import Row, machine, record
from comfyhangar.comfyui.convert import ui_to_api
from comfyhangar.comfyui.errors import ConversionError
from comfyhangar.comfyui.node_layout import NodeCatalog

TARGET_P99_MS = 5.0


def _time(workflow: dict[str, Any], catalog_of: Any, rng: random.Random) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread) of one conversion."""
    started, cpu = time.perf_counter(), time.thread_time()
    # A template using custom nodes the server lacks is refused: timed all the same.
    with contextlib.suppress(ConversionError):
        ui_to_api(workflow, catalog_of(), random=rng.random, now=RECORDED_AT)
    return time.perf_counter() - started, time.thread_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="conversions per template")
    parser.add_argument("--object-info", type=Path, default=SHARED_OBJECT_INFO)
    args = parser.parse_args(argv)
    if not args.object_info.exists():
        sys.exit(f"no /object_info snapshot at {args.object_info}")
    machine_info = machine()
    object_info = json.loads(args.object_info.read_text())
    workflows = {p.stem: json.loads(p.read_text()) for p in template_files()}
    shared = NodeCatalog(object_info)
    rng = random.Random(11)
    refused = 0
    for workflow in workflows.values():  # warm-up, and count the refusals once
        try:
            ui_to_api(workflow, shared, random=rng.random, now=RECORDED_AT)
        except ConversionError:
            refused += 1
    wall: list[float] = []
    cpu: list[float] = []
    fresh: list[float] = []
    per_workflow: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, workflow in workflows.items():
            seconds, cpu_seconds = _time(workflow, lambda: shared, rng)
            wall.append(seconds)
            cpu.append(cpu_seconds)
            per_workflow.setdefault(name, []).append(cpu_seconds)
            fresh.append(_time(workflow, lambda: NodeCatalog(object_info), rng)[1])
    medians = sorted(sorted(v)[len(v) // 2] for v in per_workflow.values())
    slowest = max(per_workflow, key=lambda n: sorted(per_workflow[n])[len(per_workflow[n]) // 2])
    nodes = {n: len(w.get("nodes") or []) for n, w in workflows.items()}
    rows = [
        Row.of("convert, catalog reused: wall time", wall, f"{len(workflows)} templates"),
        Row.of("convert, catalog reused: CPU time", cpu, "thread_time"),
        Row.of("convert, CPU median per template", medians, f"slowest: {slowest}"),
        Row.of("convert, fresh catalog: CPU time", fresh, "layouts built on the way"),
    ]
    wall_p99, cpu_p99 = rows[0].p99_ms, rows[1].p99_ms
    verdict = (
        f"Target p99 < {TARGET_P99_MS:g} ms per workflow (catalog reused): wall time "
        f"{'met' if wall_p99 < TARGET_P99_MS else 'missed'} ({wall_p99:.2f} ms), CPU time "
        f"{'met' if cpu_p99 < TARGET_P99_MS else 'missed'} ({cpu_p99:.2f} ms). Wall time "
        "includes waiting for a core: read it with the load average above."
    )
    setup = (
        f"{len(workflows)} templates of comfyui-workflow-templates ({refused} refused: custom "
        f"nodes missing), {args.rounds} rounds after one warm-up, one process; largest "
        f"{max(nodes.values())} top-level nodes; /object_info {args.object_info.name} "
        f"({len(object_info)} classes)"
    )
    record("UI -> API conversion", setup, rows, verdict, machine_info)


if __name__ == "__main__":
    main()
