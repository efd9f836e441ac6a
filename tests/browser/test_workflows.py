"""The workflow pages, clicked like a user: a bad file is refused with a clear message, the
editor's default workflow (a template) is dropped in, run on a registered ComfyUI (an emulator
started here) after the refusal of a missing model file is shown at its field, its per-node
progress is watched live, and its images are seen in the run's page and in the gallery, on a
desktop and on a phone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import comfyui_workflow_templates
import pytest
from playwright.sync_api import expect

from comfyhangar.emulators.comfyui import ComfyUIConfig
from tests.browser.conftest import PHONE, Hangar, screenshot
from tests.comfyui.support import emulator_server

pytestmark = pytest.mark.browser

CHECKPOINT = "v1-5-pruned-emaonly.safetensors"  # what the server has
TEMPLATE_CHECKPOINT = "v1-5-pruned-emaonly-fp16.safetensors"  # what the template names
TEMPLATE = Path(comfyui_workflow_templates.__file__).parent / "templates" / "default.json"


class _EmulatorThread(threading.Thread):
    """A ComfyUI emulator on a loopback port, in a thread and event loop of its own."""

    def __init__(self, root: Path) -> None:
        super().__init__(name="comfyui-emulator", daemon=True)
        self.root = root
        self.base_url: str | None = None
        self.started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        config = ComfyUIConfig(root=self.root, models={"checkpoints": [CHECKPOINT]})
        try:
            # Real time: a run of the default graph takes a few seconds, long enough to watch.
            async with emulator_server(config, speed=1.0) as running:
                self.base_url = running.base_url
                self.started.set()
                await self._stop_event.wait()
        finally:
            self.started.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop_event is not None and self.is_alive():
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self.join(timeout=15)


@pytest.fixture(scope="module")
def comfy_server(
    hangar: Hangar, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The emulator, registered with the server as "local-comfy"."""
    emulator = _EmulatorThread(tmp_path_factory.mktemp("pod"))
    emulator.start()
    try:
        emulator.started.wait(timeout=30)
        assert emulator.base_url, "the ComfyUI emulator did not start"
        response = hangar.api.post(
            "/api/v1/comfyui-servers", json={"name": "local-comfy", "url": emulator.base_url}
        )
        assert response.status_code == 201, response.text
        yield dict(response.json())
    finally:
        emulator.stop()


def _input(page: Any, key: str) -> Any:
    return page.locator(f'[data-testid="run-input"][data-key="{key}"]')


def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_is_added(
    page: Any, hangar: Hangar, tmp_path: Path, allow_console_errors: Any
) -> None:
    allow_console_errors(r"Failed to load resource: .* 422")
    page.goto("/workflows")
    picker = page.get_by_label("Workflow file")

    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    picker.set_input_files(str(notes))
    expect(page.get_by_test_id("workflow-file-error")).to_contain_text("not a workflow file")

    broken = tmp_path / "broken.json"
    broken.write_text("{ this is not json")
    picker.set_input_files(str(broken))
    page.get_by_role("button", name="Add workflow").click()
    error = page.get_by_test_id("workflow-file-error")
    expect(error).to_be_visible()
    assert "json" in error.inner_text().lower(), error.inner_text()
    assert hangar.api.get("/api/v1/workflows").json()["total"] == 0


def test_upload_the_default_template_run_it_watch_progress_and_see_the_images(
    page: Any, hangar: Hangar, comfy_server: dict[str, Any], allow_console_errors: Any
) -> None:
    allow_console_errors(r"Failed to load resource: .* 422")
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Workflows").click()
    page.get_by_label("Workflow file").set_input_files(str(TEMPLATE))
    expect(page.get_by_label("Name")).to_have_value("default")
    page.get_by_label("Name").fill("fox")
    page.get_by_role("button", name="Add workflow").click()

    detail = page.get_by_test_id("workflow-detail")
    expect(detail.get_by_role("heading", name="fox")).to_be_visible()
    expect(detail.get_by_test_id("workflow-versions")).to_contain_text("v1")
    expect(detail.get_by_test_id("workflow-versions")).to_contain_text("editor format")
    # The inputs, each node_id.input, prefilled with the workflow's values.
    expect(_input(page, "6.text").locator("textarea, input")).to_have_value(
        hangar_default(hangar, "6.text")
    )
    expect(_input(page, "4.ckpt_name").locator("input")).to_have_value(TEMPLATE_CHECKPOINT)
    expect(page.get_by_label("Target")).to_contain_text("local-comfy")
    expect(page.get_by_test_id("run-estimate")).to_contain_text("Not estimated")
    screenshot(page, "workflow")

    # The template's model file is not on that server: refused at its field, nothing queued.
    page.get_by_role("button", name="Run", exact=True).click()
    expect(_input(page, "4.ckpt_name")).to_contain_text(TEMPLATE_CHECKPOINT)
    expect(_input(page, "4.ckpt_name").locator("input")).to_have_attribute("aria-invalid", "true")
    assert hangar.api.get("/api/v1/runs").json()["total"] == 0
    _input(page, "4.ckpt_name").scroll_into_view_if_needed()
    screenshot(page, "workflow-refused", full_page=False)

    _input(page, "4.ckpt_name").locator("input").fill(CHECKPOINT)
    _input(page, "6.text").locator("textarea, input").fill("a red fox in the snow")
    _input(page, "3.steps").locator("input").fill("60")
    page.get_by_label("Seed (blank: the workflow's)").fill("42")
    page.get_by_role("button", name="Run", exact=True).click()

    # The run's page, kept live by run events: it runs node by node, then its image is there.
    run_page = page.get_by_test_id("run-page")
    expect(run_page).to_be_visible()
    state = run_page.get_by_test_id("run-state")
    expect(state).to_have_attribute("data-state", "running")
    expect(run_page.get_by_test_id("run-progress")).to_contain_text("step")
    screenshot(page, "run-running")
    expect(state).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(run_page.get_by_test_id("output")).to_have_count(1)
    expect(run_page.get_by_role("link", name="Download all (zip)")).to_be_visible()
    [run] = hangar.api.get("/api/v1/runs").json()["items"]
    assert run["overrides"] == {
        "4.ckpt_name": CHECKPOINT,
        "6.text": "a red fox in the snow",
        "3.steps": 60,
    }, run
    assert run["state"] == "succeeded"

    page.get_by_role("navigation").get_by_role("link", name="Runs").click()
    row = page.locator(f'[data-testid="run-row"][data-run-id="{run["id"]}"]')
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "succeeded")

    page.get_by_role("navigation").get_by_role("link", name="Gallery").click()
    tile = page.get_by_test_id("output").first
    expect(tile.locator("img")).to_be_visible()
    loaded = tile.locator("img").evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 512, loaded
    screenshot(page, "gallery")
    tile.get_by_role("button").click()
    lightbox = page.get_by_test_id("lightbox")
    expect(lightbox.locator("img")).to_be_visible()
    expect(lightbox).to_contain_text("512×512")
    screenshot(page, "gallery-lightbox", full_page=False)
    page.keyboard.press("Escape")

    # On a phone: the pages fit the width.
    page.set_viewport_size(PHONE)
    for path, name in (("/gallery", "gallery"), (f"/runs/{run['id']}", "run"), ("/runs", "runs")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        screenshot(page, f"{name}-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.goto(f"/workflows/{run['workflow_id']}")
    expect(page.get_by_test_id("workflow-detail")).to_be_visible()
    expect(page.get_by_label("Target")).to_contain_text("local-comfy")
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    screenshot(page, "workflow-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def hangar_default(hangar: Hangar, key: str) -> str:
    """The value the server lists for a workflow input (the form must show the same)."""
    [workflow] = hangar.api.get("/api/v1/workflows").json()["items"]
    return str(next(i["default"] for i in workflow["inputs"] if i["key"] == key))


SDXL = "sd_xl_base_1.0.safetensors"


def test_in_the_embedded_default_the_template_runs_on_a_simulated_pod(
    page: Any, hangar: Hangar, allow_console_errors: Any
) -> None:
    """The newcomer's path: a simulated pod with the SDXL preset, the template uploaded in the
    dashboard, its checkpoint set to the pod's, run, progress, the image in the gallery."""
    allow_console_errors(r"Failed to load resource: .* 422")
    dep = hangar.deploy("sdxl-pod", preset="sdxl-base")
    hangar.wait_for(dep["id"], "ready", timeout=120)
    page.goto("/workflows")
    page.get_by_label("Workflow file").set_input_files(str(TEMPLATE))
    page.get_by_label("Name").fill("template-on-pod")
    page.get_by_role("button", name="Add workflow").click()
    expect(page.get_by_test_id("workflow-detail")).to_be_visible()
    target = page.get_by_label("Target")
    expect(target.locator("option", has_text="sdxl-pod")).to_have_count(1)
    target.select_option(
        label=next(o for o in target.locator("option").all_inner_texts() if "sdxl-pod" in o)
    )
    estimate = page.get_by_test_id("run-estimate")
    expect(estimate).to_contain_text("has not run on sdxl-pod before")
    _input(page, "4.ckpt_name").locator("input").fill(SDXL)
    page.get_by_role("button", name="Run", exact=True).click()
    run_page = page.get_by_test_id("run-page")
    expect(run_page.get_by_test_id("run-state")).to_have_attribute(
        "data-state", "succeeded", timeout=60_000
    )
    expect(run_page.get_by_test_id("output").locator("img")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Gallery").click()
    page.get_by_label("Deployment").select_option(label="sdxl-pod")
    expect(page.get_by_test_id("output")).to_have_count(1)
    # A second run is estimated from the first one's time at the pod's rate.
    page.go_back()
    page.go_back()
    expect(page.get_by_test_id("run-page")).to_be_visible()
    page.get_by_role("link", name="template-on-pod").click()
    page.get_by_label("Target").select_option(
        label=next(
            o
            for o in page.get_by_label("Target").locator("option").all_inner_texts()
            if "sdxl-pod" in o
        )
    )
    expect(page.get_by_test_id("run-estimate")).to_have_attribute("data-kind", "estimate")
    expect(page.get_by_test_id("run-estimate")).to_contain_text("/h")
    screenshot(page, "workflow-estimate")


def test_cancel_a_running_run_from_the_runs_page(
    page: Any, hangar: Hangar, comfy_server: dict[str, Any]
) -> None:
    """A long run is cancelled from the list: ComfyUI interrupts it and the row says so live."""
    uploaded = hangar.api.post(
        "/api/v1/workflows",
        files={"file": ("long.json", TEMPLATE.read_bytes())},
        data={"name": "long"},
    )
    assert uploaded.status_code == 201, uploaded.text
    batch = hangar.api.post(
        "/api/v1/runs",
        json={
            "workflow_id": uploaded.json()["id"],
            "server_id": comfy_server["id"],
            "overrides": {"4.ckpt_name": CHECKPOINT, "3.steps": 5000},
        },
    )
    assert batch.status_code == 201, batch.text
    [queued] = batch.json()["runs"]
    page.goto("/runs")
    row = page.locator(f'[data-testid="run-row"][data-run-id="{queued["id"]}"]')
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "running")
    expect(row.get_by_test_id("run-progress")).to_contain_text("step")
    row.get_by_role("button", name="Cancel").click()
    expect(row.get_by_test_id("run-state")).to_have_attribute("data-state", "cancelled")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    body = hangar.api.get(f"/api/v1/runs/{queued['id']}").json()
    assert body["state"] == "cancelled", body
    assert body["output_count"] == 0, body
