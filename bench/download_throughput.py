"""Model download throughput: the agent's downloader vs one stream (curl) vs aria2c -x16 -s16.

A local HTTP server (stdlib, one thread per connection) serves one generated file of `--size-mb`
MiB (bytes computed from the offset, nothing on disk) with Range support, capping each connection
at `--per-conn-mbps` MB/s and all connections together at `--total-mbps` MB/s (1 MB = 10^6
bytes). In one run, each client downloads the file into a scratch directory:

- the agent: `python -m comfyhangar.agent run` with a one-model manifest (a `url` source), only
  the models step (`--skip comfyui --skip custom_nodes --skip-start`), default `--connections 16`
  and `--segment-mb 32`; its time is the `models` step, from its `started` to its `done`
  progress line (the file is fsynced and renamed; no sha256 is given, as for the others), and
  the whole process (Python start-up, manifest, preflight, probe) is reported too;
- a single stream: `curl`, for at most `--single-seconds` seconds (the cap makes its rate
  steady, so a partial transfer measures it);
- `aria2c -x16 -s16 -k1M --file-allocation=none`.

The agent and aria2c run `--repeat` times each (median reported). The script prints MB/s and
the ratios against the targets (agent >= 90 % of aria2c, >= 8x one stream) and appends a section
to `bench/RESULTS.md` with the machine and the date.

    uv run python -m bench.download_throughput            # about 1.5 min
    uv run python -m bench.download_throughput --size-mb 2048 --repeat 5

aria2c is the Debian package `aria2`: `sudo apt-get update && sudo apt-get install -y aria2`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
MB = 1_000_000
BLOCK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Pacer:
    """A no-burst rate limit: each `take(n)` waits until `n` more bytes fit in `rate` B/s."""

    def __init__(self, rate_bps: float) -> None:
        self.rate = rate_bps
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def take(self, n: int) -> None:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + n / self.rate
        if at > now:
            time.sleep(at - now)


@dataclass
class Served:
    size: int
    block: bytes
    per_conn_bps: float
    total: Pacer
    chunk: int = 256 << 10
    max_conns: int = 0
    conns: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_server(served: Served) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, *, body: bool) -> None:
            size = served.size
            start, end = 0, size - 1
            rng = self.headers.get("Range")
            match = _RANGE.match(rng or "")
            if rng and match and (match.group(1) or match.group(2)):
                if match.group(1):
                    start = int(match.group(1))
                    end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
                else:
                    start = max(0, size - int(match.group(2)))
                if start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("ETag", '"bench-1"')
            self.end_headers()
            if body:
                self._body(start, end + 1)

        def _body(self, start: int, stop: int) -> None:
            with served.lock:
                served.conns += 1
                served.max_conns = max(served.max_conns, served.conns)
            began, sent, pos = time.monotonic(), 0, start
            try:
                while pos < stop:
                    n = min(served.chunk, stop - pos)
                    served.total.take(n)
                    due = began + (sent + n) / served.per_conn_bps  # this connection's cap
                    if (wait := due - time.monotonic()) > 0:
                        time.sleep(wait)
                    off = pos % BLOCK
                    data = (served.block[off:] + served.block)[:n] if off + n > BLOCK else None
                    self.wfile.write(data or served.block[off : off + n])
                    pos += n
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with served.lock:
                    served.conns -= 1

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # clients drop connections at will (curl's time limit, aria2c's last pieces)

    return Server(("127.0.0.1", 0), Handler)


def check_file(path: Path, block: bytes, size: int) -> None:
    """The downloaded file must be the served file (size, and every 1 MiB block)."""
    if path.stat().st_size != size:
        raise SystemExit(f"{path}: {path.stat().st_size} bytes, expected {size}")
    with path.open("rb") as f:
        pos = 0
        while data := f.read(BLOCK):
            if data != block[: len(data)]:
                raise SystemExit(f"{path}: wrong bytes at offset {pos}")
            pos += len(data)


def run_agent(url: str, size: int, work: Path) -> tuple[float, float, Path]:
    """Seconds of the `models` step, seconds of the whole process, and the file."""
    manifest = {
        "version": 1,
        "models": [
            {"folder": "checkpoints", "name": "bench.safetensors", "size": size,
             "source": {"type": "url", "url": url}},
        ],
    }  # fmt: skip
    (work / "manifest.json").write_text(json.dumps(manifest))
    cmd = [
        sys.executable, "-m", "comfyhangar.agent", "run", "--manifest", str(work / "manifest.json"),
        "--root", str(work / "root"), "--insecure-allow-http", "--allow-host", "127.0.0.1",
        "--skip", "comfyui", "--skip", "custom_nodes", "--skip-start", "--no-gpu-ok",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANGAR_", "HF_", "CIVITAI"))}
    began = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    wall = time.monotonic() - began
    if out.returncode != 0:
        raise SystemExit(f"agent failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    times: dict[str, datetime] = {}
    for line in out.stdout.splitlines():
        if line.startswith("##hangar-progress## "):
            body = json.loads(line.split(" ", 1)[1])
            if body["step"] == "models" and "item" not in body:
                times[body["status"]] = datetime.fromisoformat(body["time"].replace("Z", "+00:00"))
    seconds = (times["done"] - times["started"]).total_seconds()
    return seconds, wall, work / "root/ComfyUI/models/checkpoints/bench.safetensors"


def run_aria2(url: str, work: Path) -> tuple[float, Path]:
    cmd = [
        "aria2c", "-x16", "-s16", "-k1M", "--file-allocation=none", "--allow-overwrite=true",
        "--console-log-level=warn", "--summary-interval=0", "--download-result=hide",
        "-d", str(work), "-o", "aria.bin", url,
    ]  # fmt: skip
    began = time.monotonic()
    subprocess.run(cmd, check=True, timeout=600, stdout=subprocess.DEVNULL)
    return time.monotonic() - began, work / "aria.bin"


def run_curl(url: str, work: Path, max_s: float) -> tuple[int, float]:
    """Bytes and seconds of one curl stream (stopped after `max_s` seconds)."""
    cmd = ["curl", "-s", "-o", str(work / "curl.bin"), "--max-time", str(max_s),
           "-w", "%{size_download} %{time_total}", url]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=max_s + 30, check=False)
    if out.returncode not in (0, 28):  # 28: stopped by --max-time, as intended
        raise SystemExit(f"curl failed ({out.returncode}): {out.stderr}")
    size, seconds = out.stdout.split()
    return int(float(size)), float(seconds)


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
         if ln.startswith("model name")), platform.processor() or "?",
    )  # fmt: skip
    return (
        f"nproc {os.cpu_count()}, {mem_gb:.0f} GiB RAM, {cpu}, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB")
    parser.add_argument("--per-conn-mbps", type=float, default=25.0)
    parser.add_argument("--total-mbps", type=float, default=400.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the agent and of aria2c")
    parser.add_argument("--single-seconds", type=float, default=20.0, help="curl's time limit")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    if shutil.which("aria2c") is None:
        print("aria2c is missing: sudo apt-get update && sudo apt-get install -y aria2")
        return 2
    if shutil.which("curl") is None:
        print("curl is missing: sudo apt-get install -y curl")
        return 2
    size = args.size_mb << 20
    block = os.urandom(BLOCK)  # served again and again: incompressible, checkable
    served = Served(size, block, args.per_conn_mbps * MB, Pacer(args.total_mbps * MB))
    server = make_server(served)
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/model.bin"
    load_before = os.getloadavg()
    agent_s: list[float] = []
    agent_wall: list[float] = []
    aria_s: list[float] = []
    conns: dict[str, int] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="hangar-dl-bench-") as tmp:
            for i in range(args.repeat):
                for name in ("agent", "aria2c"):
                    work = Path(tmp) / f"{name}-{i}"
                    work.mkdir()
                    served.max_conns = 0
                    if name == "agent":
                        seconds, wall, path = run_agent(url, size, work)
                        agent_s.append(seconds)
                        agent_wall.append(wall)
                    else:
                        seconds, path = run_aria2(url, work)
                        aria_s.append(seconds)
                    conns[name] = max(conns.get(name, 0), served.max_conns)
                    check_file(path, block, size)
                    shutil.rmtree(work)
                    print(f"{name} run {i + 1}: {size / seconds / MB:.1f} MB/s")
            work = Path(tmp) / "curl"
            work.mkdir()
            got, curl_seconds = run_curl(url, work, args.single_seconds)
    finally:
        server.shutdown()
    agent_mbps = size / statistics.median(agent_s) / MB
    agent_wall_mbps = size / statistics.median(agent_wall) / MB
    aria_mbps = size / statistics.median(aria_s) / MB
    single_mbps = got / curl_seconds / MB
    vs_aria = agent_mbps / aria_mbps
    vs_single = agent_mbps / single_mbps
    wall_vs_aria = agent_wall_mbps / aria_mbps
    rows = [
        ("agent (16 connections, 32 MiB segments)", agent_mbps,
         f"median of {len(agent_s)}: " + ", ".join(f"{size / s / MB:.0f}" for s in agent_s)),
        ("agent, whole process (start, probe, fsync, exit)", agent_wall_mbps,
         f"median of {len(agent_wall)}: "
         + ", ".join(f"{size / s / MB:.0f}" for s in agent_wall)),
        ("aria2c -x16 -s16 -k1M", aria_mbps,
         f"median of {len(aria_s)}: " + ", ".join(f"{size / s / MB:.0f}" for s in aria_s)),
        ("curl, one stream", single_mbps, f"{got / MB:.0f} MB in {curl_seconds:.1f} s"),
    ]  # fmt: skip
    verdict_aria = "met" if vs_aria >= 0.9 else "MISSED"
    verdict_single = "met" if vs_single >= 8 else "MISSED"
    table = [
        "| client | MB/s | runs (MB/s) |",
        "| --- | ---: | --- |",
        *(f"| {name} | {mbps:.1f} | {note} |" for name, mbps, note in rows),
        "",
        f"- agent / aria2c = **{vs_aria:.3f}** (target >= 0.90: {verdict_aria}); whole agent "
        f"process / aria2c = {wall_vs_aria:.3f} (aria2c is timed as a whole process)",
        f"- agent / one stream = **{vs_single:.1f}x** (target >= 8x: {verdict_single})",
        f"- most concurrent connections seen by the server: agent {conns.get('agent', 0)}, "
        f"aria2c {conns.get('aria2c', 0)}",
    ]
    print("\n".join(table))
    if not args.no_record:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = [
            "",
            f"## Download throughput — {now}",
            "",
            f"`bench/download_throughput.py`: {args.size_mb} MiB file from a local server "
            f"capped at {args.per_conn_mbps:g} MB/s per connection and {args.total_mbps:g} "
            f"MB/s in all (1 MB = 10^6 B); agent and aria2c {args.repeat} runs each, curl "
            f"for at most {args.single_seconds:g} s.",
            "",
            f"Machine: {machine()}. Load average before: "
            + ", ".join(f"{x:.2f}" for x in load_before)
            + f"; aria2c {_version(['aria2c', '--version'], 2)}, curl "
            f"{_version(['curl', '--version'], 1)}.",
            "",
            *table,
            "",
        ]
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n".join(section))
        print(f"appended to {RESULTS}")
    return 0


def _version(cmd: list[str], word: int) -> str:
    """Word `word` of the tool's `--version` output ("aria2 version X", "curl X ...")."""
    words = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.split()
    return words[word] if len(words) > word else "?"


if __name__ == "__main__":
    sys.exit(main())
