"""The idle clock and keep-awake on the deployment page and its card, in Chromium."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Hangar, card, screenshot

pytestmark = pytest.mark.browser

WAIT = 40_000


def looked_at(hangar: Hangar, deployment_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The deployment once the idle guard has looked at it since it became ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = hangar.get(deployment_id)
        if body["idle"]["checked_at"] is not None:
            return body
        time.sleep(0.1)
    raise AssertionError(f"the idle guard never looked at {deployment_id}")


def test_the_idle_clock_shows_live_and_keep_awake_postpones(page: Any, hangar: Hangar) -> None:
    dep = hangar.deploy("idle-demo", idle={"idle_minutes": 45, "warn_minutes": 5})
    hangar.wait_for(dep["id"], "ready", timeout=WAIT / 1000)
    looked_at(hangar, dep["id"])

    page.goto("/")
    line = card(page, dep["id"]).get_by_test_id("idle-clock")
    # Idle and counting, or in use (a signal it could not read counts as in use, and says so).
    expect(line).to_have_text(re.compile(r"^(idle for .+, stops in .+|in use: .+)$"))

    page.goto(f"/deployments/{dep['id']}")
    clock = page.get_by_test_id("deployment-detail").get_by_test_id("idle-clock")
    expect(clock).to_be_visible()
    page.get_by_label("Keep awake for").select_option(label="4 h")
    page.get_by_role("button", name="Keep awake").click()
    expect(clock).to_have_text(re.compile(r"^kept awake until \d\d:\d\d \(\d h \d\d min left\)$"))
    expect(clock).to_have_attribute("data-tone", "busy")
    kept = hangar.get(dep["id"])["idle"]
    assert kept["keep_awake_until"] is not None
    assert kept["acts_at"] is not None  # 45 minutes after the keep-awake ends
    screenshot(page, "idle-detail")

    page.goto("/")
    expect(card(page, dep["id"]).get_by_test_id("idle-clock")).to_contain_text("kept awake until")
    screenshot(page, "idle-dashboard")

    page.set_viewport_size(PHONE)
    page.goto(f"/deployments/{dep['id']}")
    expect(page.get_by_test_id("idle-policy")).to_contain_text("stops after 45 min idle")
    expect(page.get_by_role("button", name="Keep awake")).to_be_visible()
    screenshot(page, "idle-detail", full_page=False)
