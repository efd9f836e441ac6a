"""The live connection, dropped for real and restored: the page catches up on everything that
happened meanwhile from the server's replay, without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CuttableProxy, Hangar, card

pytestmark = pytest.mark.browser

WAIT = 40_000


def test_a_dropped_event_stream_resumes_and_loses_nothing(
    page: Any, hangar: Hangar, proxy: CuttableProxy, allow_console_errors: Any
) -> None:
    # While the network is down the browser reports the failed requests; that is the outage.
    allow_console_errors(r"net::ERR_|Failed to load resource")
    first = hangar.deploy("resume-first")
    hangar.wait_for(first["id"], "ready")
    page.goto(f"{proxy.base_url}/")  # the browser reaches the server only through the proxy
    connection = page.get_by_test_id("connection")
    expect(connection).to_have_attribute("data-state", "open")
    first_badge = card(page, first["id"]).get_by_test_id("state-badge")
    expect(first_badge).to_have_attribute("data-state", "ready")
    # The running pod's cost updates arrive every second: the page has seen some events.
    page.wait_for_function("window.__lastEventId !== null")
    page.evaluate("window.__marker = 'no reload'")

    proxy.cut()
    expect(connection).to_have_attribute("data-state", "reconnecting")
    last_seen = page.evaluate("window.__lastEventId")

    # Changes while the page is cut off: stop one deployment, create another.
    hangar.action(first["id"], "stop")
    second = hangar.deploy("resume-second")
    hangar.wait_for(first["id"], "stopped")
    # Nothing reached the page: the outage is real.
    expect(first_badge).to_have_attribute("data-state", "ready")
    expect(card(page, second["id"])).to_have_count(0)
    assert page.evaluate("window.__lastEventId") == last_seen

    proxy.restore()
    expect(connection).to_have_attribute("data-state", "open", timeout=WAIT)
    expect(first_badge).to_have_attribute("data-state", "stopped", timeout=WAIT)
    expect(card(page, second["id"])).to_be_visible(timeout=WAIT)
    expect(card(page, second["id"]).get_by_test_id("state-badge")).to_have_attribute(
        "data-state", "ready", timeout=WAIT
    )
    assert page.evaluate("window.__marker") == "no reload"
    # The stream that resumed asked the server for exactly what the page had missed.
    streams = [r for r in proxy.requests if r.startswith("GET /api/v1/events")]
    assert streams[0] == "GET /api/v1/events HTTP/1.1", streams
    assert streams[-1] == f"GET /api/v1/events?after={last_seen} HTTP/1.1", streams
    # No page reload and no second app: the document loaded once.
    assert [r for r in proxy.requests if r.startswith("GET / ")] == ["GET / HTTP/1.1"]
