"""The cost of a persisted emulator: each commit, as the account grows, and a restart.

    uv run python -m bench.emulator_state [--pods 200] [--lines 2000] [--samples 300]

Runs in this process (no server): a `RunPodEmulator` in memory and one with a state file
(`EmulatorConfig.state_path`, as the embedded simulated cloud has), side by side. Each
operation is timed per call, as a handler would see it, commit included: a log line appended,
a stop + start, a create, a simulated setup's due lines numbered. First on an empty account,
then after `--pods` pods with `--lines` log lines each (stored through the same commits)
in both, to show that a commit costs what changed, not what the account holds. Finally the file is
opened again (a server restart) and the load timed. Prints a table and appends it to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import Row, data_directory, machine, record
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator

FROZEN = 1e-9  # simulated time moves only with clock.advance()
GPU = "NVIDIA GeForce RTX 4090"
LINE = "[comfyui] " + "x" * 110  # a typical container line


def body(name: str, ours: bool = False) -> dict[str, Any]:
    env = {"HANGAR_DEPLOYMENT_ID": name} if ours else {}
    return {"name": name, "image": "runpod/comfyui:latest", "gpu": {"id": GPU}, "env": env}


def timed(samples: int, action: Callable[[int], None]) -> list[float]:
    spent = []
    for i in range(samples):
        t0 = time.perf_counter()
        action(i)
        spent.append(time.perf_counter() - t0)
    return spent


def fill(emu: RunPodEmulator, pods: int, lines: int) -> None:
    """`pods` pods with `lines` lines each, numbered and stored one commit per pod."""
    now = emu.now()
    for n in range(pods):
        pod = emu.create_pod(body(f"filler-{n}"))
        pod.logs.pending.extend((now, "container", f"{LINE} {i}") for i in range(lines))
        emu.materialize_logs(pod)


def measure(emu: RunPodEmulator, label: str, samples: int) -> list[Row]:
    pod = emu.create_pod(body(f"probe-{label}"))
    emu.clock.advance(10)
    rows = [
        Row.of(
            f"append a log line, {label}",
            timed(samples, lambda i: emu.append_log(pod.id, f"{LINE} {i}")),
        )
    ]

    def stop_start(_: int) -> None:
        emu.act(pod.id, "stop")
        emu.act(pod.id, "start")

    rows.append(Row.of(f"stop + start, {label}", timed(samples // 3, stop_start)))
    rows.append(
        Row.of(
            f"create a pod, {label}", timed(samples // 3, lambda i: emu.create_pod(body(f"c{i}")))
        )
    )
    ours = [emu.create_pod(body(f"ours-{label}-{i}", ours=True)) for i in range(samples // 3)]
    emu.clock.advance(60)  # each one's whole simulated setup is due

    def setup_lines(i: int) -> None:
        emu.materialize_logs(ours[i])

    done = timed(len(ours), setup_lines)
    count = len(ours[0].logs.lines)
    rows.append(Row.of(f"number a setup's due lines, {label}", done, f"{count} lines each"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    machine_info = machine()
    rows: list[Row] = []
    with data_directory(keep=args.keep) as data_dir:
        path = data_dir / "runpod.sqlite3"
        memory = RunPodEmulator(EmulatorConfig(speed=FROZEN, balance=1e9))
        stored = RunPodEmulator(EmulatorConfig(speed=FROZEN, balance=1e9, state_path=path))
        size = f"{args.pods} pods x {args.lines} lines"
        results: dict[tuple[str, str], list[Row]] = {}
        for where, emu in (("in memory", memory), ("file", stored)):
            emu.set_stock(GPU, "US-KS-2", 100_000)
            results[where, "new"] = measure(emu, f"{where}, new account", args.samples)
            t0 = time.perf_counter()
            fill(emu, args.pods, args.lines)
            if where == "file":
                filled_s = time.perf_counter() - t0
            results[where, "filled"] = measure(emu, f"{where}, {size}", args.samples)
        for key in (
            ("in memory", "new"),
            ("file", "new"),
            ("in memory", "filled"),
            ("file", "filled"),
        ):
            rows += results[key]
        stored.close()
        size_mb = sum(p.stat().st_size for p in Path(data_dir).iterdir()) / 1e6
        loads = []
        for _ in range(3):
            t0 = time.perf_counter()
            again = RunPodEmulator(EmulatorConfig(speed=FROZEN, state_path=path))
            loads.append(time.perf_counter() - t0)
            total_lines = sum(len(p.logs.lines) for p in again.billed_pods())
            again.close()
        rows.append(
            Row.of(
                "restart: open and load the file",
                loads,
                f"{len(again.billed_pods())} pods, {total_lines} lines, {size_mb:.0f} MB",
            )
        )
    setup = (
        f"one process, no server; per-call times include the commit (SQLite WAL, "
        f"synchronous=NORMAL); filling {args.pods} pods x {args.lines} lines "
        f"took {filled_s:.1f} s ({filled_s / max(args.pods, 1) * 1000:.0f} ms per pod)"
    )

    def ratios(slow: list[Row], fast: list[Row]) -> str:
        return ", ".join(
            f"{a.name.split(',')[0]} {a.p50_ms - b.p50_ms:+.2f} ms"
            for a, b in zip(slow, fast, strict=True)
        )

    verdict = (
        f"p50 cost of the file over memory, new account: "
        f"{ratios(results['file', 'new'], results['in memory', 'new'])}; "
        f"with {size}: {ratios(results['file', 'filled'], results['in memory', 'filled'])}."
    )
    record("Emulator state file", setup, rows, verdict, machine_info)


if __name__ == "__main__":
    main()
