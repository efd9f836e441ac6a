"""Browser tests of the dashboard: Debian's Chromium driven by Playwright (sync API), against a
real ComfyHangar server on the embedded RunPod emulator, with the built dashboard.

- One Chromium for this package, one server per test module (uvicorn in a thread of its own,
  with its own event loop and a temporary data directory), one browser context per test.
- The cloud runs fast: the emulator's clock at `EMULATOR_SPEED` times real time, a reconcile
  cycle every 0.2 s, and a `cost_update` event per deployment every second instead of every
  minute (the module constant the meter reads), so costs visibly move within a test.
- Every test fails on an uncaught page error or a console error, except the ones it declares
  expected with `allow_console_errors` (a 422 answer logs "Failed to load resource ... 422").
- Screenshots go to `test-artifacts/screenshots/` at the repo root (gitignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_INDEX = ROOT / "src" / "comfyhangar" / "server" / "static" / "web" / "index.html"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("HANGAR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EMULATOR_SPEED = 10.0
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
GPU = "NVIDIA GeForce RTX 4090"

# Console errors that are expected everywhere, with why:
# - none so far. (A test that provokes errors on purpose, such as a 422 or a dropped event
#   stream, declares them with `allow_console_errors`.)
HARMLESS_CONSOLE_ERRORS: list[re.Pattern[str]] = []


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium; or set HANGAR_CHROMIUM)"
    try:
        import playwright  # noqa: F401
    except ImportError:  # pragma: no cover - it is a dev dependency
        return "the playwright package is not installed (uv sync --dev)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _chromium_missing()
    here = Path(__file__).parent
    for item in items:
        if reason and here in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- the server ------------------------------------------------------------------------------


@dataclass
class Hangar:
    """A running server: `api` (a sync httpx client) talks to it; helpers wait on its state."""

    base_url: str
    api: httpx.Client

    def deploy(self, name: str, **body: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": name,
            "gpu": {"id": GPU, "count": 1},
            "container_disk_gb": 20,
            "volume_gb": 20,
            **body,
        }
        response = self.api.post("/api/v1/deployments", json=payload)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, deployment_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/deployments/{deployment_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def action(self, deployment_id: str, action: str) -> None:
        if action == "terminate":
            response = self.api.delete(f"/api/v1/deployments/{deployment_id}")
        else:
            response = self.api.post(f"/api/v1/deployments/{deployment_id}/{action}")
        assert response.status_code == 202, response.text

    def wait_for(self, deployment_id: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            body = self.get(deployment_id)
            if body["state"] == state:
                return body
            time.sleep(0.1)
        raise AssertionError(f"{deployment_id} never reached {state}: {body}")

    def deployments(self) -> list[dict[str, Any]]:
        response = self.api.get("/api/v1/deployments")
        assert response.status_code == 200, response.text
        return list(response.json()["deployments"])


class _ServerThread(threading.Thread):
    """The app on uvicorn, in its own thread and event loop, until `stop()`."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(name="hangar-browser-server", daemon=True)
        self.data_dir = data_dir
        self.base_url: str | None = None
        self.error: BaseException | None = None
        self.started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread, which fails with it
            self.error = exc
        finally:
            self.started.set()

    async def _main(self) -> None:
        from comfyhangar.server.app import create_app
        from comfyhangar.server.settings import Settings
        from tests.support.servers import running_server

        settings = Settings(
            data_dir=self.data_dir,
            emulator_speed=EMULATOR_SPEED,
            reconcile_interval_s=0.2,
            create_settle_s=1.0,
            lease_s=5.0,
            preflight=False,  # no Hugging Face / Civitai from tests
            idle_check_interval_s=0.5,  # the idle clock shows soon after ready
        )
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        async with running_server(create_app(settings)) as base_url:
            self.base_url = base_url
            self.started.set()
            await self._stop_event.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop_event is not None and self.is_alive():
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self.join(timeout=15)


@pytest.fixture(scope="module")
def hangar() -> Iterator[Hangar]:
    """A fresh server (empty database) for each test module."""
    if not WEB_INDEX.is_file():
        pytest.fail(
            f"the dashboard is not built ({WEB_INDEX} is missing): run the tests with `uv run "
            "pytest` (its build hook builds web/), or `cd web && npx vite build`",
            pytrace=False,
        )
    from comfyhangar.server.background import meter

    saved = meter.COST_UPDATE_EVERY_S
    meter.COST_UPDATE_EVERY_S = 1.0  # a cost_update per deployment per second, not per minute
    data_dir = Path(tempfile.mkdtemp(prefix="hangar-browser-"))
    server = _ServerThread(data_dir)
    server.start()
    try:
        server.started.wait(timeout=60)
        if server.error is not None or server.base_url is None:
            raise RuntimeError(f"the server did not start: {server.error!r}")
        with httpx.Client(base_url=server.base_url, timeout=10) as api:
            yield Hangar(server.base_url, api)
    finally:
        server.stop()
        meter.COST_UPDATE_EVERY_S = saved
        shutil.rmtree(data_dir, ignore_errors=True)
    if server.error is not None:
        raise server.error


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests. Package scope, not session: Playwright's sync API
    keeps an event loop running in this thread while it is open, and the async tests that run
    after this package need the thread to themselves."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageErrors:
    """Uncaught errors and console errors seen by a test's pages."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=lambda: list(HARMLESS_CONSOLE_ERRORS))

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            text = message.text
            if any(p.search(text) for p in self.allowed):
                return
            self.errors.append(f"console.error: {text} ({message.location.get('url', '')})")

        page.on("console", on_console)


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def allow_console_errors(page_errors: PageErrors) -> Callable[[str], None]:
    """`allow_console_errors(regex)`: a console error this test provokes on purpose."""
    return lambda pattern: page_errors.allowed.append(re.compile(pattern))


@pytest.fixture
def context(browser: Any, hangar: Hangar, page_errors: PageErrors) -> Iterator[Any]:
    ctx = browser.new_context(base_url=hangar.base_url, viewport=DESKTOP)
    ctx.set_default_timeout(15_000)
    ctx.on("page", page_errors.watch)
    ctx.add_init_script(WATCH_SCRIPT)
    yield ctx
    ctx.close()
    assert not page_errors.errors, "errors in the page:\n" + "\n".join(page_errors.errors)


@pytest.fixture
def page(context: Any) -> Any:
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    return context.new_page()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Save the whole page (or only what the viewport shows) as
    test-artifacts/screenshots/<name>-<width>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=full_page)


# --- watching the page -----------------------------------------------------------------------

# Installed before the app loads: records every state each deployment card's badge shows (a
# MutationObserver, so states that last one render are seen too), and the `id` of every live
# event the page's EventSource receives. It only listens; the app runs unchanged.
WATCH_SCRIPT = """
(() => {
  window.__states = {};
  const record = () => {
    for (const card of document.querySelectorAll('[data-testid="deployment-card"]')) {
      const id = card.getAttribute('data-deployment-id');
      const badge = card.querySelector('[data-testid="state-badge"]');
      const state = badge && badge.getAttribute('data-state');
      if (!id || !state) continue;
      const seen = (window.__states[id] = window.__states[id] || []);
      if (seen[seen.length - 1] !== state) seen.push(state);
    }
  };
  new MutationObserver(record).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
  const Native = window.EventSource;
  window.__eventSources = [];
  window.__lastEventId = null;
  const TYPES = ['deployment_created', 'deployment_requested', 'deployment_state', 'pod_created',
    'pod_status', 'pod_action', 'pod_terminated', 'setup_progress', 'cost_update',
    'budget_warning', 'budget_exceeded', 'billing_mismatch', 'error'];
  class Watched extends Native {
    constructor(url, init) {
      super(url, init);
      window.__eventSources.push(String(url));
      for (const type of TYPES) {
        this.addEventListener(type, (e) => { if (e.lastEventId) window.__lastEventId = e.lastEventId; });
      }
    }
  }
  window.EventSource = Watched;
})();
"""


def states_seen(page: Any, deployment_id: str) -> list[str]:
    """Every state the card of `deployment_id` has shown, in order, without repeats."""
    return list(page.evaluate("(id) => window.__states[id] || []", deployment_id))


def card(page: Any, deployment_id: str) -> Any:
    return page.locator(f'[data-testid="deployment-card"][data-deployment-id="{deployment_id}"]')


# --- a connection that can be cut ------------------------------------------------------------


class CuttableProxy:
    """A TCP proxy in front of the server. `cut()` drops every open connection (the page's live
    event stream included) and refuses new ones until `restore()`: a real network outage for the
    browser, while the test still talks to the server directly. `requests` lists the request
    lines that went through, e.g. `GET /api/v1/events?after=42 HTTP/1.1`."""

    REQUEST_LINE = re.compile(rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD) \S+ HTTP/1\.[01]\r\n")

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[str] = []
        self._down = False
        self._closed = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self._down or self._closed:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            self._spawn(self._pump, client, upstream, True)
            self._spawn(self._pump, upstream, client, False)

    def _pump(self, source: socket.socket, sink: socket.socket, from_browser: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_browser:
                    self.requests += [m.decode().strip() for m in self.REQUEST_LINE.findall(data)]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source)
            self._drop(sink)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        self._down = True
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._drop(sock)

    def restore(self) -> None:
        self._down = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def proxy(hangar: Hangar) -> Iterator[CuttableProxy]:
    cuttable = CuttableProxy(hangar.base_url)
    yield cuttable
    cuttable.close()
