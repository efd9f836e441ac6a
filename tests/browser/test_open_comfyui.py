""" "Open ComfyUI" on a ready simulated deployment lands on the simulated pod's ComfyUI, served
by this machine (the dashboard's own origin), with the pod token traded for a cookie."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Hangar, card, screenshot

pytestmark = pytest.mark.browser


def test_open_comfyui_lands_on_the_simulated_pods_comfyui_on_this_machine(
    page: Any, context: Any, hangar: Hangar, allow_console_errors: Any
) -> None:
    # The pods' ComfyUI shares the dashboard's origin under `Content-Security-Policy: sandbox`:
    # the test harness's own init script is refused there, as any script would be.
    allow_console_errors(r"Blocked script execution in .*/simulated-pods/.*sandboxed")
    dep = hangar.deploy("open-comfy")
    ready = hangar.wait_for(dep["id"], "ready", timeout=60)
    pod_id = ready["pod"]["id"]
    page.goto("/")
    button = card(page, dep["id"]).get_by_role("link", name="Open ComfyUI")
    expect(button).to_be_visible()
    with context.expect_page() as opened:
        button.click()
    comfy = opened.value
    comfy.wait_for_load_state()
    expect(comfy.get_by_role("heading", name="Simulated ComfyUI 0.3.64")).to_be_visible()
    where = urlsplit(comfy.url)
    assert f"{where.scheme}://{where.netloc}" == hangar.base_url, "served by this machine"
    assert where.path == f"/simulated-pods/{pod_id}/comfyui/"
    assert "token" not in comfy.url, "the token left the address bar for a cookie"
    assert [c["name"] for c in context.cookies(comfy.url)] == ["hangar_token"]
    screenshot(comfy, "open-comfyui")

    # Its API links work under the prefix, with the cookie.
    comfy.get_by_role("link", name="GET /system_stats").click()
    comfy.wait_for_load_state()
    assert urlsplit(comfy.url).path == f"/simulated-pods/{pod_id}/comfyui/api/system_stats"
    stats = json.loads(comfy.locator("body").inner_text())
    assert stats["system"]["comfyui_version"] == "0.3.64"
    comfy.close()
