"""The dashboard's cards, clicked like a user: stop, start and terminate a pod, and watch its cost
and the day's spend move while it runs, all without a reload."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, Hangar, card, screenshot

pytestmark = pytest.mark.browser

WAIT = 40_000  # ms: a state change on the fast emulator takes a few seconds; this is a ceiling


def test_stop_start_and_terminate_from_the_card(page: Any, hangar: Hangar) -> None:
    deployment = hangar.deploy("card-actions")
    page.goto("/")
    the_card = card(page, deployment["id"])
    badge = the_card.get_by_test_id("state-badge")
    expect(badge).to_have_attribute("data-state", "ready", timeout=WAIT)
    page.evaluate("window.__marker = 'no reload'")

    the_card.get_by_role("button", name="Stop", exact=True).click()
    expect(badge).to_have_attribute("data-state", "stopped", timeout=WAIT)
    assert hangar.get(deployment["id"])["desired_state"] == "stopped"

    the_card.get_by_role("button", name="Start", exact=True).click()
    expect(badge).to_have_attribute("data-state", "ready", timeout=WAIT)
    assert hangar.get(deployment["id"])["desired_state"] == "running"

    # Terminate asks first. From the keyboard: the dialog takes the focus, Escape closes it,
    # leaves the pod alone and gives the focus back to the button.
    terminate = the_card.get_by_role("button", name="Terminate", exact=True)
    terminate.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(terminate).to_be_focused()
    assert hangar.get(deployment["id"])["desired_state"] == "running"

    the_card.get_by_role("button", name="Terminate", exact=True).click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Terminate pod", exact=True).click()
    expect(dialog).to_be_hidden()
    hangar.wait_for(deployment["id"], "terminated", timeout=WAIT / 1000)
    # A terminated pod leaves the main list, or stays there marked terminated: either way no
    # card of it shows another state.
    card_id = f'[data-testid="deployment-card"][data-deployment-id="{deployment["id"]}"]'
    live_badge = f'{card_id} [data-testid="state-badge"]:not([data-state="terminated"])'
    expect(page.locator(live_badge)).to_have_count(0, timeout=WAIT)
    # ... and when it left, "Show terminated" brings it back.
    if the_card.count() == 0:
        toggle = page.get_by_role("button", name=re.compile(r"^Show terminated"))
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(badge).to_have_attribute("data-state", "terminated", timeout=WAIT)
    assert page.evaluate("window.__marker") == "no reload"


def test_cost_so_far_and_todays_spend_move_live(page: Any, hangar: Hangar) -> None:
    deployment = hangar.deploy("live-meter")
    page.goto("/")
    the_card = card(page, deployment["id"])
    expect(the_card.get_by_test_id("state-badge")).to_have_attribute(
        "data-state", "ready", timeout=WAIT
    )
    page.evaluate("window.__marker = 'no reload'")
    cost = the_card.get_by_test_id("cost-so-far")
    expect(cost).to_contain_text("$")
    expect(the_card.get_by_test_id("cost-rate")).to_contain_text("/h")
    expect(the_card.get_by_test_id("uptime")).to_be_visible()
    spend = page.get_by_test_id("summary-spend-today")
    expect(spend).to_contain_text("$")
    for stat in ("summary-running", "summary-burn-rate", "summary-balance"):
        expect(page.get_by_test_id(stat)).to_be_visible()

    cost_before, spend_before = cost.inner_text(), spend.inner_text()
    expect(cost).not_to_have_text(cost_before, timeout=20_000)
    expect(spend).not_to_have_text(spend_before, timeout=20_000)
    assert page.evaluate("window.__marker") == "no reload"


def test_dashboard_screenshots(page: Any, hangar: Hangar) -> None:
    ready = hangar.deploy("shot-ready")
    stopped = hangar.deploy("shot-stopped")
    hangar.wait_for(ready["id"], "ready")
    hangar.wait_for(stopped["id"], "ready")
    hangar.action(stopped["id"], "stop")
    hangar.wait_for(stopped["id"], "stopped")
    installing = hangar.deploy("shot-new")
    for viewport, name in ((DESKTOP, "dashboard"), (PHONE, "dashboard")):
        page.set_viewport_size(viewport)
        page.goto("/")
        expect(page.get_by_test_id("simulated-banner")).to_be_visible()
        expect(page.get_by_role("navigation").get_by_role("link", name="Dashboard")).to_be_visible()
        expect(page.get_by_role("link", name="Costs")).to_be_visible()
        expect(page.get_by_role("banner").get_by_role("link", name="Deploy")).to_be_visible()
        for dep in (ready, stopped, installing):
            expect(card(page, dep["id"])).to_be_visible()
        expect(card(page, ready["id"]).get_by_test_id("state-badge")).to_have_attribute(
            "data-state", "ready"
        )
        screenshot(page, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
