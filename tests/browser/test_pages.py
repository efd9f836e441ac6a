"""The detail and costs pages with real data, the simulated banner on every page, and
screenshots of each page at phone and desktop width."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Hangar, screenshot

pytestmark = pytest.mark.browser

WAIT = 40_000


@pytest.fixture(scope="module")
def ready_deployment(hangar: Hangar) -> dict[str, Any]:
    """A deployment with models that went through setup and is ready (made through the API)."""
    deployment = hangar.deploy("detail-demo", preset="sdxl-base")
    return hangar.wait_for(deployment["id"], "ready", timeout=WAIT / 1000)


def test_detail_page_shows_setup_logs_and_timeline(
    page: Any, hangar: Hangar, ready_deployment: dict[str, Any]
) -> None:
    page.goto(f"/deployments/{ready_deployment['id']}")
    expect(page.get_by_role("heading", name="detail-demo")).to_be_visible()
    expect(page.get_by_test_id("detail-state").get_by_test_id("state-badge")).to_have_attribute(
        "data-state", "ready"
    )
    expect(page.get_by_test_id("detail-cost-so-far")).to_contain_text("$")

    # Every setup step is done (the preset has models and a custom node: nothing is skipped).
    steps = page.get_by_test_id("setup-step")
    expect(steps).to_have_count(6)
    for i in range(6):
        expect(steps.nth(i)).to_have_attribute("data-status", "done")
    assert [steps.nth(i).get_attribute("data-step") for i in range(6)] == [
        "preflight",
        "comfyui",
        "custom_nodes",
        "models",
        "start",
        "ready",
    ]

    timeline = page.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-entry").first).to_be_visible()
    assert timeline.get_by_test_id("timeline-entry").count() >= 3  # pending ... ready

    logs = page.get_by_test_id("log-viewer")
    expect(logs.get_by_test_id("log-line").first).to_be_visible(timeout=WAIT)
    expect(page.get_by_label("Search logs")).to_be_visible()
    expect(
        page.get_by_role("button", name="Follow").or_(page.get_by_label("Follow"))
    ).to_be_visible()
    expect(page.get_by_test_id("utilisation-chart")).to_be_visible()

    # Searching keeps only the lines that match, with the match marked.
    search = page.get_by_label("Search logs")
    lines = logs.get_by_test_id("log-line")
    search.fill("comfyui")
    expect(lines.first).to_be_visible()
    expect(logs.locator('[data-testid="log-line"]:not(:has(mark))')).to_have_count(0)
    search.fill("no line says this")
    expect(lines).to_have_count(0)

    page.get_by_label("Search logs").fill("")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(logs.get_by_test_id("log-line").first).to_be_visible()
        screenshot(page, "detail")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_detail_page_follows_a_new_deployment_to_ready(page: Any, hangar: Hangar) -> None:
    """Opened right after the deploy: the steps, the timeline and the log fill in live. The
    log streams whether Follow is on or not: Follow only keeps the newest line in view."""
    deployment = hangar.deploy("detail-live", preset="sdxl-base")
    page.goto(f"/deployments/{deployment['id']}")
    page.evaluate("window.__marker = 'no reload'")
    follow = page.get_by_role("button", name="Follow")
    expect(follow).to_have_attribute("aria-pressed", "true")
    follow.click()  # off: no auto-scroll, and still every new line
    expect(follow).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("detail-state").get_by_test_id("state-badge")).to_have_attribute(
        "data-state", "ready", timeout=WAIT
    )
    steps = page.get_by_test_id("setup-step")
    expect(steps).to_have_count(6)
    expect(page.locator('[data-testid="setup-step"]:not([data-status="done"])')).to_have_count(0)
    # The history, newest first: from creating to ready, in lifecycle order. A reconcile cycle
    # that sees the pod already running skips `starting`, so the exact count may vary.
    entries = page.get_by_test_id("timeline").get_by_test_id("timeline-entry")
    expect(entries.first).to_contain_text("ready")
    expect(entries.last).to_contain_text("creating")
    shown = [_state_of(text) for text in entries.all_inner_texts()]
    lifecycle = ["pending", "creating", "provisioning", "starting", "installing", "ready"]
    assert shown[::-1] == [s for s in lifecycle if s in shown], shown
    assert {"creating", "installing", "ready"} <= set(shown), shown
    log = page.get_by_test_id("log-viewer")
    expect(log.get_by_test_id("log-line").filter(has_text="ComfyUI").first).to_be_visible()
    # Every line the server kept during install is on the page, without a click or reload.
    _wait_for_log_lines_to_match(page, hangar, deployment["id"])
    expect(page.get_by_test_id("detail-cost-so-far")).to_contain_text("$")
    assert page.evaluate("window.__marker") == "no reload"


def test_steps_with_nothing_to_do_show_as_skipped_not_pending(page: Any, hangar: Hangar) -> None:
    """No preset, no models, no nodes: the agent reports those steps "skipped". On a ready pod
    no step may still look pending."""
    deployment = hangar.deploy("nothing-to-install")
    hangar.wait_for(deployment["id"], "ready", timeout=WAIT / 1000)
    page.goto(f"/deployments/{deployment['id']}")
    expect(page.locator('[data-testid="setup-step"][data-step="ready"]')).to_have_attribute(
        "data-status", "done"
    )
    expect(page.get_by_test_id("setup-step")).to_have_count(6)
    unfinished = '[data-testid="setup-step"]:not([data-status="done"]):not([data-status="skipped"])'
    expect(page.locator(unfinished)).to_have_count(0, timeout=5_000)  # the page has loaded


def test_costs_page_renders_its_sections(
    page: Any, hangar: Hangar, ready_deployment: dict[str, Any]
) -> None:
    page.goto("/costs")
    expect(page.get_by_test_id("costs-spent-today")).to_contain_text("$")
    expect(page.get_by_test_id("costs-burn-rate")).to_contain_text("$")
    for section in ("spend-by-day", "by-deployment", "by-gpu", "budgets", "reconciliation"):
        expect(page.get_by_test_id(section)).to_be_visible()
    rows = page.get_by_test_id("by-deployment").get_by_test_id("by-deployment-row")
    expect(rows.filter(has_text="detail-demo")).to_have_count(1)
    export = page.get_by_role("link", name="Export CSV")
    expect(export).to_be_visible()
    href = export.get_attribute("href")
    assert href, "Export CSV has no href"
    response = page.request.get(href)
    assert response.ok, (href, response.status)
    assert "csv" in response.headers.get("content-type", ""), response.headers
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        expect(page.get_by_test_id("spend-by-day")).to_be_visible()
        screenshot(page, "costs")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


@pytest.mark.parametrize("path", ["/", "/deploy", "/costs", "detail"])
def test_the_simulated_banner_is_on_every_page(
    page: Any, hangar: Hangar, ready_deployment: dict[str, Any], path: str
) -> None:
    if path == "detail":
        path = f"/deployments/{ready_deployment['id']}"
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.goto(path)
        banner = page.get_by_test_id("simulated-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Simulated")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")


def test_the_navigation_moves_between_pages_without_a_reload(
    page: Any, hangar: Hangar, ready_deployment: dict[str, Any]
) -> None:
    page.goto("/")
    page.evaluate("window.__marker = 'no reload'")
    page.get_by_role("navigation").get_by_role("link", name="Costs").click()
    expect(page).to_have_url(f"{hangar.base_url}/costs")
    expect(page.get_by_test_id("spend-by-day")).to_be_visible()
    page.get_by_role("banner").get_by_role("link", name="Deploy").click()
    expect(page).to_have_url(f"{hangar.base_url}/deploy")
    expect(
        page.get_by_role("main").get_by_role("button", name="Deploy", exact=True)
    ).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(f"{hangar.base_url}/")
    the_card = page.locator(
        f'[data-testid="deployment-card"][data-deployment-id="{ready_deployment["id"]}"]'
    )
    the_card.get_by_role("link", name="Logs").click()
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(hangar.base_url)}/deployments/{ready_deployment['id']}(#.*)?$")
    )
    expect(page.get_by_test_id("log-viewer")).to_be_visible()
    assert page.evaluate("window.__marker") == "no reload"


def _wait_for_log_lines_to_match(page: Any, hangar: Hangar, deployment_id: str) -> None:
    """Until the viewer shows as many lines as the API has (both read again each time)."""
    deadline = time.monotonic() + WAIT / 1000
    shown = kept = -1
    while time.monotonic() < deadline:
        response = hangar.api.get(
            f"/api/v1/deployments/{deployment_id}/logs", params={"lines": 500}
        )
        kept = len(response.json()["lines"])
        shown = page.get_by_test_id("log-viewer").get_by_test_id("log-line").count()
        if kept > 0 and shown == kept:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the viewer shows {shown} lines, the API has {kept}")


def _state_of(entry_text: str) -> str:
    """The state a timeline entry names (its first word)."""
    return entry_text.split()[0]
