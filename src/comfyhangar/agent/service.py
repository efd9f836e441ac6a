"""Steps 5 and 6: start ComfyUI on 127.0.0.1, put the token proxy in front, probe, then serve.

ComfyUI runs as a child process (`python main.py --listen 127.0.0.1 --port P`); its output goes
to `ComfyUI/user/hangar-comfyui.log` and, prefixed `[comfyui]`, to the agent's stdout. Lines in
which ComfyUI reports a custom node as `(IMPORT FAILED)` become `custom_nodes` failures named
after the node. Readiness is `GET /system_stats` through the proxy. The agent then stays in the
foreground until SIGTERM/SIGINT (exit 0) or until ComfyUI exits (exit 3).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .idle_switch import IdleSwitch, SwitchOptions
from .protocol import Reporter
from .proxy import TokenProxy

EXIT_COMFYUI_DIED = 3
_IMPORT_FAILED = re.compile(r"\(IMPORT FAILED\):\s*(.+?)\s*$")


@dataclass
class ServiceOptions:
    """Ports, token, readiness timeout and extra ComfyUI arguments."""

    token: str = ""
    proxy_host: str = "0.0.0.0"  # noqa: S104 - the proxy is the exposed, token-checked door
    proxy_port: int = 8188
    comfyui_port: int = 18188
    ready_timeout_s: float = 900.0
    comfyui_args: list[str] = field(default_factory=list)
    exit_when_ready: bool = False
    # The dead man's switch (idle_switch.py); None without a pod-scoped key.
    idle_switch: SwitchOptions | None = None


def serve(comfyui_dir: Path, python: str, opts: ServiceOptions, rep: Reporter) -> int:
    """Run steps 5 and 6 and keep serving; returns the exit code."""
    return asyncio.run(_serve(comfyui_dir, python, opts, rep))


async def _serve(comfyui_dir: Path, python: str, opts: ServiceOptions, rep: Reporter) -> int:
    rep.progress("start", "started", message=f"starting ComfyUI on 127.0.0.1:{opts.comfyui_port}")
    switch = IdleSwitch(opts.idle_switch, rep) if opts.idle_switch is not None else None
    try:
        proxy = TokenProxy(
            opts.token, opts.comfyui_port, on_request=switch.heard if switch is not None else None
        )
        server = await proxy.start(opts.proxy_host, opts.proxy_port)
    except (OSError, ValueError) as exc:
        rep.progress("start", "failed", error=f"token proxy: {exc}")
        return 1
    pid_file = comfyui_dir / "user" / "hangar-comfyui.pid"
    _stop_leftover(pid_file, rep)
    proc = _start_comfyui(comfyui_dir, python, opts, rep)
    if proc is None:
        server.close()
        return 1
    pid_file.write_text(str(proc.pid))
    stop = asyncio.Event()
    switch_stop = threading.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        code = await _wait_ready(proc, opts, rep, stop)
        if code is None and not opts.exit_when_ready:
            if switch is not None:
                threading.Thread(target=switch.run, args=(switch_stop,), daemon=True).start()
            code = await _supervise(proc, rep, stop)
        return code or 0
    finally:
        switch_stop.set()
        server.close()
        _stop_process(proc)
        pid_file.unlink(missing_ok=True)
        rep.log("agent stopped")


def _start_comfyui(
    comfyui_dir: Path, python: str, opts: ServiceOptions, rep: Reporter
) -> subprocess.Popen[str] | None:
    cmd = [python, "main.py", "--listen", "127.0.0.1", "--port", str(opts.comfyui_port)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for secret_var in ("HANGAR_POD_TOKEN", "HF_TOKEN", "CIVITAI_TOKEN"):
        env.pop(secret_var, None)  # ComfyUI needs none of them; its nodes must not read them
    try:
        proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
            [*cmd, *opts.comfyui_args], cwd=comfyui_dir, env=env, text=True, bufsize=1,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            errors="replace",
        )  # fmt: skip
    except OSError as exc:
        rep.progress("start", "failed", error=f"cannot start ComfyUI: {exc}")
        return None
    log_path = comfyui_dir / "user" / "hangar-comfyui.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    assert proc.stdout is not None  # noqa: S101 - stdout=PIPE above
    threading.Thread(target=_pump_output, args=(proc.stdout, log_path, rep), daemon=True).start()
    return proc


def _pump_output(stream: IO[str], log_path: Path, rep: Reporter) -> None:
    with log_path.open("a", encoding="utf-8") as log:
        for line in stream:
            log.write(line)
            log.flush()
            rep.log(line.rstrip("\n"), source="comfyui")
            failed = _IMPORT_FAILED.search(line)
            if failed:
                name = Path(failed.group(1)).name
                rep.progress(
                    "custom_nodes", "failed", item=name, message="ComfyUI failed to import it"
                )


async def _wait_ready(
    proc: subprocess.Popen[str], opts: ServiceOptions, rep: Reporter, stop: asyncio.Event
) -> int | None:
    """None once ready; otherwise the exit code to end with."""
    loop = asyncio.get_running_loop()
    host = "127.0.0.1" if opts.proxy_host in ("0.0.0.0", "", "::") else opts.proxy_host  # noqa: S104
    url = f"http://{host}:{opts.proxy_port}/system_stats"
    started = time.monotonic()
    while not stop.is_set():
        if proc.poll() is not None:
            rep.progress("start", "failed", error=f"ComfyUI exited with code {proc.returncode}")
            return EXIT_COMFYUI_DIED
        if await loop.run_in_executor(None, _probe, url, opts.token):
            elapsed = time.monotonic() - started
            rep.progress("start", "done", message=f"ComfyUI answered after {elapsed:.1f}s")
            rep.progress(
                "ready", "done",
                message=f"ComfyUI is ready behind the token proxy on port {opts.proxy_port}",
            )  # fmt: skip
            return None
        if time.monotonic() - started > opts.ready_timeout_s:
            rep.progress("start", "failed", error="ComfyUI did not answer /system_stats in time")
            return 1
        rep.progress("start", "running", message="waiting for ComfyUI")
        await asyncio.sleep(0.5)
    return 0


async def _supervise(proc: subprocess.Popen[str], rep: Reporter, stop: asyncio.Event) -> int:
    while not stop.is_set():
        if proc.poll() is not None:
            rep.progress("start", "failed", error=f"ComfyUI exited with code {proc.returncode}")
            return EXIT_COMFYUI_DIED
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:  # noqa: UP041 - not an alias of TimeoutError on 3.10
            continue
    return 0


def _probe(url: str, token: str) -> bool:
    request = urllib.request.Request(url, headers={"X-Hangar-Token": token})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:  # noqa: S310 - fixed local URL
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _stop_leftover(pid_file: Path, rep: Reporter) -> None:
    """Stop a ComfyUI that a killed agent left running (it would hold the port)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"main.py" not in cmdline:
        return  # the pid was reused by something else
    rep.log(f"stopping a ComfyUI left over from an earlier run (pid {pid})")
    for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie waiting for a reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
