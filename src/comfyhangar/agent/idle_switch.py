"""The agent's own idle guard: a dead man's switch for when the server is gone.

The server's idle guard looks at this pod's ComfyUI through the token proxy every pass, and
each look carries `X-Hangar-Idle-Limit-S`: the idle policy as seconds (0: off). Each such look
is the server's heartbeat and tells the switch the current policy. The switch also reads the
local ComfyUI's queue (and its newest history entry) itself.

If neither has happened for the limit (the server is gone, a laptop lid closed, and nothing
runs here), the switch stops its own pod with the pod-scoped key RunPod puts in every pod's env
(`RUNPOD_API_KEY`, `RUNPOD_POD_ID`): `POST {api}/pods/{id}/action {"action": "stop"}`. While
the server is alive it never acts: the server's guard does, with its warning first.

Browser tabs and a user's own requests through the proxy are not heartbeats (the server's
guard does not count them either); a local ComfyUI that cannot be read counts as busy. The
limit the server last sent is kept in a file on the volume, so a restarted agent keeps it.
Standard library only.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .protocol import Reporter

LIMIT_HEADER = "x-hangar-idle-limit-s"
DEFAULT_API_URL = "https://api.runpod.io/v2"
MAX_LIMIT_S = 8 * 24 * 3600.0


@dataclass
class SwitchOptions:
    """`limit_s` at start (0: off until the server says otherwise), the pod's own id and key."""

    limit_s: float
    pod_id: str
    api_key: str
    api_url: str = DEFAULT_API_URL
    comfyui_port: int = 18188
    state_file: Path | None = None
    check_every_s: float = 30.0


def _http_json(method: str, url: str, headers: dict[str, str], body: object | None, timeout: float) -> object:  # fmt: skip
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) URLs only, built here
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


class IdleSwitch:
    """One pod's switch. `heard(headers)` from the proxy; `check()` once per interval."""

    def __init__(
        self,
        opts: SwitchOptions,
        rep: Reporter,
        *,
        clock: Callable[[], float] = time.monotonic,
        http: Callable[[str, str, dict[str, str], object | None, float], object] = _http_json,
    ) -> None:
        self.opts = opts
        self._rep = rep
        self._clock = clock
        self._http = http
        self._lock = threading.Lock()
        self.limit_s = self._stored_limit(opts.limit_s)
        self.last_alive = clock()  # the agent starting is activity (the pod just started)
        self._newest: str | None = None
        self.stopped = False

    # --- what the proxy tells it --------------------------------------------------------------

    def heard(self, headers: list[tuple[str, str]]) -> None:
        """An authorised request came through the proxy; the server's guard's carry the limit."""
        value = next((v for k, v in headers if k.lower() == LIMIT_HEADER), None)
        if value is None:
            return  # a browser, a user: not the server's heartbeat
        try:
            limit = float(value)
        except ValueError:
            return
        if not 0 <= limit <= MAX_LIMIT_S:
            return
        with self._lock:
            self.last_alive = self._clock()
            if limit != self.limit_s:
                self.limit_s = limit
                self._store_limit(limit)

    # --- one look ----------------------------------------------------------------------------

    def check(self) -> bool:
        """Read the local ComfyUI; stop the pod if the limit has passed. True once stopped."""
        if self.stopped:
            return True
        if self._comfyui_busy():
            with self._lock:
                self.last_alive = self._clock()
        with self._lock:
            limit, idle = self.limit_s, self._clock() - self.last_alive
        if limit <= 0 or idle < limit:
            return False
        self._rep.log(
            f"idle: no word from the server and nothing running for {idle / 60:.0f} min "
            f"(limit {limit / 60:.0f} min): stopping this pod"
        )
        try:
            self._http(
                "POST",
                f"{self.opts.api_url.rstrip('/')}/pods/{self.opts.pod_id}/action",
                {
                    "Authorization": f"Bearer {self.opts.api_key}",
                    "Content-Type": "application/json",
                },
                {"action": "stop"},
                30.0,
            )
        except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
            self._rep.log(f"idle: stopping this pod failed ({exc}); trying again later")
            return False
        self.stopped = True
        return True

    def _comfyui_busy(self) -> bool:
        base = f"http://127.0.0.1:{self.opts.comfyui_port}"
        try:
            prompt = self._http("GET", f"{base}/prompt", {}, None, 10.0)
            history = self._http("GET", f"{base}/history?max_items=1", {}, None, 10.0)
            remaining = int(prompt["exec_info"]["queue_remaining"])  # type: ignore[index]
        except (OSError, ValueError, KeyError, TypeError):
            return True  # cannot see it: never stop a pod we cannot see
        newest = next(reversed(history), None) if isinstance(history, dict) else None
        finished = newest is not None and newest != self._newest
        self._newest = newest
        return remaining > 0 or finished

    def run(self, stop: threading.Event) -> None:
        """Look every `check_every_s` until `stop` is set or the pod is stopped."""
        while not stop.wait(self.opts.check_every_s):
            if self.check():
                return

    # --- the limit on the volume -------------------------------------------------------------

    def _stored_limit(self, default: float) -> float:
        path = self.opts.state_file
        if path is None:
            return default
        try:
            value = float(json.loads(path.read_text())["limit_s"])
        except (OSError, ValueError, KeyError, TypeError):
            return default
        return value if 0 <= value <= MAX_LIMIT_S else default

    def _store_limit(self, limit: float) -> None:
        path = self.opts.state_file
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"limit_s": limit}))
            tmp.replace(path)
        except OSError as exc:
            self._rep.log(f"idle: cannot keep the idle limit on the volume: {exc}")
