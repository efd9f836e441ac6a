"""Agent mode: run the real pod agent of a simulated pod as a sandboxed subprocess.

With `EmulatorConfig(setup="agent", agent_sandbox=AgentSandbox(...))`, a pod whose env carries
`HANGAR_AGENT_BUNDLE` runs the agent shipped in that bundle each time it enters RUNNING (create,
start, restart), as the pod's container would: the bundle is unpacked into the pod's sandbox
(`<base_dir>/<pod id>/agent`, fresh per start like the pod's `/tmp/hangar-agent`), and the agent
runs with `python -I -S -u` (no shell), cwd the sandbox, env = a few harmless host variables
(`PATH`, locale) + `HOME` in the sandbox + the pod's env + `AgentSandbox.env`; nothing else of
the test's own environment. The agent command line is the one in the pod's `args` (as
`comfyhangar.agent.pack.launch_args` writes it), with its unpack directory and `--root` mapped
into the sandbox, then `AgentSandbox.args`, then (by default) `--proxy-host 127.0.0.1` and a
fresh `--proxy-port` / `--comfyui-port` so that pods never collide. Every stdout/stderr line
becomes a `container` log line of the pod.

Stop, restart, terminate, an ERROR and the balance running out send SIGTERM to the agent's
process group (ComfyUI included), then SIGKILL after `stop_grace_s`. The sandbox's `workspace`
survives a stop (volume semantics), so a restart finds ComfyUI and the models in place; it is
deleted on terminate. A new run waits for the previous one to be gone. `aclose()` ends every run.

This module imports nothing of `comfyhangar.agent`: the emulator runs what the pod carries.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BUNDLE_ENV = "HANGAR_AGENT_BUNDLE"
BUNDLE_MAX_BYTES = 64 << 20  # unpacked
POD_ROOT = "/workspace"
LINE_LIMIT = 1 << 20
#: Host variables an agent run inherits (tools need PATH; nothing secret).
PASS_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
_LAUNCHER = (
    "import runpy,sys;d=sys.argv[1];sys.path.insert(0,d);"
    "sys.argv=['comfyhangar.agent']+sys.argv[2:];"
    "runpy.run_module('comfyhangar.agent',run_name='__main__',alter_sys=True)"
)
_ARGV = re.compile(r'sys\.argv=\["comfyhangar\.agent"\]\+')
_UNPACK = re.compile(r'(?:^|;)d=("(?:[^"\\]|\\.)*")')


@dataclass(frozen=True)
class AgentSandbox:
    """Where and how agent-mode pods run their agent.

    - `base_dir`: per-pod sandboxes go in `base_dir/<pod id>/` (`agent/`, `workspace/`, `home/`).
    - `args`: agent CLI arguments appended after the pod's own (e.g. `--insecure-allow-http`,
      `--allow-host 127.0.0.1`, `--hf-endpoint URL`, `--pip-arg=...`, `--no-gpu-ok`,
      `--python /path/to/pod/python`).
    - `env`: variables set over the pod's env (they win).
    - `python`: the interpreter that runs the agent (the pod image's `python3`).
    - `auto_ports`: add `--proxy-host 127.0.0.1` and free `--proxy-port` / `--comfyui-port`.
    - `stop_grace_s`: real seconds between SIGTERM and SIGKILL on stop.
    """

    base_dir: Path
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    auto_ports: bool = True
    stop_grace_s: float = 10.0

    def __post_init__(self) -> None:
        if self.stop_grace_s < 0:
            raise ValueError("stop_grace_s must be >= 0")


@dataclass
class AgentRun:
    """One agent run of one pod (read it with `RunPodEmulator.agent_run(pod_id)`)."""

    pod_id: str
    sandbox: Path
    proxy_port: int | None = None
    comfyui_port: int | None = None
    pid: int | None = None
    returncode: int | None = None
    stopping: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    proc: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Path:
        return self.sandbox / "workspace"


LineSink = Callable[[str, str, str], None]  # (pod id, source, line)


class AgentRuns:
    """The agent processes of one emulator, one run at a time per pod."""

    def __init__(self, sandbox: AgentSandbox, sink: LineSink) -> None:
        self.sandbox = sandbox
        self._sink = sink
        self._runs: dict[str, AgentRun] = {}
        self._cleanups: set[asyncio.Task[None]] = set()

    def run_of(self, pod_id: str) -> AgentRun | None:
        return self._runs.get(pod_id)

    def start(
        self,
        pod_id: str,
        env: Mapping[str, str],
        pod_args: str,
        delay_s: Callable[[], float],
        still_wanted: Callable[[], bool],
    ) -> AgentRun:
        """Run the agent once `delay_s()` reaches 0 (RUNNING), if `still_wanted()` then.

        Must be called from the event loop that serves the emulator.
        """
        loop = asyncio.get_running_loop()
        previous = self._runs.get(pod_id)
        run = AgentRun(pod_id, Path(self.sandbox.base_dir) / pod_id)
        self._runs[pod_id] = run
        run.task = loop.create_task(
            self._run(run, dict(env), pod_args, delay_s, still_wanted, previous)
        )
        return run

    def stop(self, pod_id: str, *, discard: bool = False) -> None:
        """End the pod's run: SIGTERM its process group now, SIGKILL after the grace period.

        `discard` (terminate) also deletes the sandbox once the process is gone.
        """
        run = self._runs.get(pod_id)
        if run is None:
            return
        run.stopping = True
        if discard:
            self._runs.pop(pod_id, None)
            self._discard_later(run)
        self._terminate(run)

    def _terminate(self, run: AgentRun) -> None:
        """SIGTERM the run's process group now and SIGKILL it after the grace period (a run
        not spawned yet sees `stopping` and never spawns)."""
        if run.proc is None or run.proc.returncode is not None:
            return
        _signal_group(run.proc.pid, signal.SIGTERM)
        asyncio.get_running_loop().call_later(self.sandbox.stop_grace_s, self._kill_if_alive, run)

    def _discard_later(self, run: AgentRun) -> None:
        async def discard() -> None:
            if run.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(run.task)
            await asyncio.to_thread(shutil.rmtree, run.sandbox, True)

        task = asyncio.get_running_loop().create_task(discard())
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    @staticmethod
    def _kill_if_alive(run: AgentRun) -> None:
        if run.proc is not None and run.proc.returncode is None:
            _signal_group(run.proc.pid, signal.SIGKILL)

    async def aclose(self) -> None:
        """Stop every run and wait until their processes are gone (SIGKILL after the grace)."""
        runs = list(self._runs.values())
        for run in runs:
            run.stopping = True
            self._terminate(run)
        tasks = [r.task for r in runs if r.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.sandbox.stop_grace_s)
            if pending:
                self.kill_all()
                await asyncio.wait(pending, timeout=5)
        if self._cleanups:
            await asyncio.wait(list(self._cleanups), timeout=10)

    def kill_all(self) -> None:
        """SIGKILL every live agent process group at once (sync; last resort)."""
        for run in self._runs.values():
            if run.proc is not None and run.proc.returncode is None:
                _signal_group(run.proc.pid, signal.SIGKILL)

    # ---- one run ------------------------------------------------------------------------

    async def _run(
        self,
        run: AgentRun,
        env: dict[str, str],
        pod_args: str,
        delay_s: Callable[[], float],
        still_wanted: Callable[[], bool],
        previous: AgentRun | None,
    ) -> None:
        if previous is not None and previous.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(previous.task)
        while (remaining := delay_s()) > 0 and not run.stopping:  # noqa: ASYNC110 - clock jumps
            await asyncio.sleep(min(remaining, 0.25))
        if run.stopping or not still_wanted():
            return
        try:
            cmd = await asyncio.to_thread(self._prepare, run, env, pod_args)
        except (OSError, ValueError, zipfile.BadZipFile, binascii.Error) as exc:
            self._sink(run.pod_id, "container", f"cannot unpack {BUNDLE_ENV}: {exc}")
            return
        if run.stopping:
            return
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=run.sandbox,
                env=self._env(run, env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                limit=LINE_LIMIT,
            )
        except OSError as exc:  # no such interpreter, say
            self._sink(run.pod_id, "system", f"Container failed to start: {exc}")
            return
        run.proc, run.pid = proc, proc.pid
        if run.stopping:  # stopped while it was being spawned
            self._terminate(run)
        try:
            out, err = proc.stdout, proc.stderr
            if out is None or err is None:  # pragma: no cover - both are PIPE
                raise RuntimeError("no pipes")
            await asyncio.gather(self._pump(run, out), self._pump(run, err))
            run.returncode = await proc.wait()
        except asyncio.CancelledError:
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                await asyncio.shield(proc.wait())
            run.returncode = proc.returncode
            raise
        _signal_group(proc.pid, signal.SIGKILL)  # anything the agent left in its group
        if not run.stopping:
            self._sink(run.pod_id, "system", f"Container exited with code {run.returncode}")

    async def _pump(self, run: AgentRun, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than LINE_LIMIT: pass it on in pieces
                raw = await stream.read(LINE_LIMIT)
            if not raw:
                return
            self._sink(run.pod_id, "container", raw.decode("utf-8", "replace").rstrip("\r\n"))

    def _prepare(self, run: AgentRun, env: Mapping[str, str], pod_args: str) -> list[str]:
        """Unpack the bundle into the sandbox; the argument list of the agent process."""
        agent_dir = run.sandbox / "agent"
        shutil.rmtree(agent_dir, ignore_errors=True)
        for sub in ("agent", "workspace", "home"):
            (run.sandbox / sub).mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(env[BUNDLE_ENV], validate=True))) as zf:
            if sum(info.file_size for info in zf.infolist()) > BUNDLE_MAX_BYTES:
                raise ValueError("bundle too large")
            zf.extractall(agent_dir)  # extractall drops absolute paths and '..' parts
        args = agent_args(pod_args, agent_dir, run.workspace)
        args += list(self.sandbox.args)
        if self.sandbox.auto_ports:
            run.proxy_port, run.comfyui_port = _free_port(), _free_port()
            args += ["--proxy-host", "127.0.0.1", "--proxy-port", str(run.proxy_port)]
            args += ["--comfyui-port", str(run.comfyui_port)]
        return [self.sandbox.python, "-I", "-S", "-u", "-c", _LAUNCHER, str(agent_dir), *args]

    def _env(self, run: AgentRun, pod_env: Mapping[str, str]) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
        env["HOME"] = str(run.sandbox / "home")
        env.update(pod_env)
        env.update(self.sandbox.env)
        return env


def agent_args(pod_args: str, agent_dir: Path, workspace: Path) -> list[str]:
    """The agent arguments in a pod's `args` (from `pack.launch_args`), mapped into the sandbox.

    Paths under the bundle's unpack directory move to `agent_dir`, paths under the pod's
    `--root` to `workspace`. Unreadable `args` give the default `run` of the bundle's manifest.
    """
    default = ["run", "--manifest", str(agent_dir / "manifest.json"), "--root", str(workspace)]
    try:
        words = shlex.split(pod_args)
    except ValueError:
        return default
    code = words[words.index("-c") + 1] if "-c" in words[:-1] else ""
    found = _ARGV.search(code)
    unpack = _UNPACK.search(code)
    if found is None or unpack is None:
        return default
    try:
        listed, _ = json.JSONDecoder().raw_decode(code, found.end())
        unpack_dir = str(json.loads(unpack.group(1)))
    except ValueError:
        return default
    if not isinstance(listed, list) or not all(isinstance(a, str) for a in listed):
        return default
    root = POD_ROOT
    for i, arg in enumerate(listed[:-1]):
        if arg == "--root":
            root = listed[i + 1]
    moves = [(unpack_dir, str(agent_dir)), (root.rstrip("/") or "/", str(workspace))]
    return [_map_arg(arg, moves) for arg in listed]


def _map_arg(arg: str, moves: Sequence[tuple[str, str]]) -> str:
    prefix, eq, value = arg.partition("=")
    if eq and prefix.startswith("--"):
        return f"{prefix}={_map_path(value, moves)}"
    return _map_path(arg, moves)


def _map_path(value: str, moves: Sequence[tuple[str, str]]) -> str:
    for old, new in moves:
        if value == old or value.startswith(old.rstrip("/") + "/"):
            return new + value[len(old) :]
    return value


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
