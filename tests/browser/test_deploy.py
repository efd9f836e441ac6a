"""The deploy form, clicked like a user: a deploy that lands on its new deployment and reaches
ready without a reload, a bad value the server refuses shown at its field with nothing created,
and on a phone the estimate and the button in view while the form scrolls."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, GPU, PHONE, Hangar, card, screenshot

pytestmark = pytest.mark.browser


def _form(page: Any) -> Any:
    """The deploy form (the header has a "Deploy" link too)."""
    return page.get_by_role("main")


def _pick_gpu(page: Any, gpu_id: str) -> None:
    form = _form(page)
    form.get_by_label("Search GPUs").fill("4090")
    option = form.locator(f'[data-testid="gpu-option"][data-gpu-id="{gpu_id}"]')
    option.click()


def test_deploy_from_the_form_and_watch_the_card_reach_ready(page: Any, hangar: Hangar) -> None:
    page.goto("/deploy")
    expect(page.get_by_test_id("simulated-banner")).to_be_visible()
    form = _form(page)
    expect(form.get_by_test_id("gpu-option").first).to_be_visible()
    form.get_by_label("Name", exact=True).fill("form-flux")
    _pick_gpu(page, GPU)
    expect(form.get_by_test_id("estimate-per-hour")).to_contain_text("$")
    expect(form.get_by_test_id("estimate-per-day")).to_contain_text("$")
    screenshot(page, "deploy-form")
    page.evaluate("window.__marker = 'no reload'")

    form.get_by_role("button", name="Deploy", exact=True).click()

    # The app opens the new deployment, which goes to ready live.
    expect(page.get_by_role("heading", name="form-flux")).to_be_visible()
    created = [d for d in hangar.deployments() if d["name"] == "form-flux"]
    assert len(created) == 1, created
    deployment = created[0]
    assert deployment["gpu"]["id"] == GPU, deployment["gpu"]
    expect(page).to_have_url(f"{hangar.base_url}/deployments/{deployment['id']}")
    badge = page.get_by_test_id("detail-state").get_by_test_id("state-badge")
    expect(badge).to_have_attribute("data-state", "ready", timeout=40_000)
    page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
    the_card = card(page, deployment["id"])
    expect(the_card.get_by_test_id("state-badge")).to_have_attribute("data-state", "ready")
    expect(the_card.get_by_role("link", name="Open ComfyUI")).to_be_visible()
    assert page.evaluate("window.__marker") == "no reload"
    screenshot(page, "dashboard-after-deploy")


def test_a_value_the_server_refuses_is_shown_at_its_field(
    page: Any, hangar: Hangar, allow_console_errors: Any
) -> None:
    # The browser logs each 4xx answer as a console error; these are the point of the test.
    allow_console_errors(r"status of 422")
    before = {d["id"] for d in hangar.deployments()}
    page.goto("/deploy")
    form = _form(page)
    expect(form.get_by_test_id("gpu-option").first).to_be_visible()
    _pick_gpu(page, GPU)
    # A name the server refuses (it must start with a letter or digit): the form sends it as
    # typed (noValidate), and the server's 422 names the field.
    form.get_by_label("Name", exact=True).fill("-not allowed-")
    posts: list[int] = []
    page.on(
        "response",
        lambda r: (
            posts.append(r.status)
            if r.request.method == "POST" and r.url.endswith("/api/v1/deployments")
            else None
        ),
    )

    form.get_by_role("button", name="Deploy", exact=True).click()

    name_error = form.get_by_test_id("field-error-name")
    expect(name_error).to_be_visible()
    expect(name_error).not_to_be_empty()
    expect(page).to_have_url(f"{hangar.base_url}/deploy")
    assert posts == [422], posts  # the server was asked, and refused
    assert {d["id"] for d in hangar.deployments()} == before
    # The rest of the form is as the user left it: the GPU chosen, its estimate shown.
    expect(form.get_by_test_id("estimate-per-hour")).to_contain_text("$")
    expect(form.get_by_label("Name", exact=True)).to_have_value("-not allowed-")
    screenshot(page, "deploy-form-errors")
    page.set_viewport_size(PHONE)
    expect(name_error).to_be_visible()
    screenshot(page, "deploy-form-errors")
    page.set_viewport_size(DESKTOP)


def test_deploy_form_on_a_phone(page: Any, hangar: Hangar) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/deploy")
    expect(page.get_by_test_id("simulated-banner")).to_be_visible()
    form = _form(page)
    expect(form.get_by_test_id("gpu-option").first).to_be_visible()
    expect(form.get_by_label("Model preset")).to_be_visible()
    expect(form.get_by_label("Model preset").locator("option").first).to_have_text("No preset")
    for label in ("Container disk (GB)", "Volume (GB)", "Hugging Face token", "Civitai token"):
        expect(form.get_by_label(label)).to_be_visible()
    expect(form.get_by_role("radio", name="Secure cloud")).to_be_checked()
    expect(form.get_by_role("radio", name="Community cloud")).not_to_be_checked()
    _pick_gpu(page, GPU)
    expect(form.get_by_test_id("estimate-per-hour")).to_contain_text("$")
    # Halfway down the form, the cost of what is chosen and the button are still in view.
    form.get_by_label("Model preset").scroll_into_view_if_needed()
    for control in (
        form.get_by_test_id("estimate-per-hour"),
        form.get_by_test_id("estimate-per-day"),
        form.get_by_role("button", name="Deploy", exact=True),
    ):
        expect(control).to_be_in_viewport()
    assert page.evaluate("window.scrollY") > 0, "the form did not scroll"
    screenshot(page, "deploy-form-scrolled", full_page=False)
    screenshot(page, "deploy-form")
    # The page fits the phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
