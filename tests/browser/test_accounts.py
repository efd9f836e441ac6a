"""Accounts in the browser: the newcomer's sign-in link, the user menu, tokens, and a page of
another origin that tries to make the dashboard's server do something (issue 13)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.conftest import Hangar
from tests.support.auth import TEST_ADMIN_TOKEN


def _storage(page: Any) -> str:
    return str(
        page.evaluate(
            "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
            " document.cookie])"
        )
    )


def test_a_sign_in_link_signs_the_browser_in_and_leaves_no_secret_behind(
    anonymous_context: Any, hangar: Hangar, allow_console_errors: Any
) -> None:
    from playwright.sync_api import expect

    allow_console_errors(r"401")  # the first look at /auth/me, before signing in
    page = anonymous_context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to ComfyHangar")).to_be_visible()
    page.goto(f"/login#token={TEST_ADMIN_TOKEN}")
    expect(page.get_by_test_id("user-menu")).to_have_text("admin")
    assert TEST_ADMIN_TOKEN not in page.url
    assert page.evaluate("() => history.length") >= 1
    assert TEST_ADMIN_TOKEN not in _storage(page)
    cookies = anonymous_context.cookies()
    (session,) = [c for c in cookies if c["name"] == "hangar_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert "hangar_session" not in page.evaluate("() => document.cookie")
    # Make a token: shown once, then only its hint.
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="API tokens").click()
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Make token").click()
    token = page.get_by_test_id("new-token").locator("code").inner_text()
    assert token.startswith("hgr_")
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("token-row").filter(has_text="laptop")).to_be_visible()
    assert token not in page.content()
    assert token not in _storage(page)
    # Sign out: the session ends.
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to ComfyHangar")).to_be_visible()
    assert anonymous_context.request.get("/api/v1/auth/me").status == 401


ATTACK = """<!doctype html><html><body>
<form id="f" method="POST" action="{base}/api/v1/deployments/{dep}/stop" target="sink"></form>
<form id="t" method="POST" enctype="text/plain" action="{base}/api/v1/deployments" target="sink2">
<input name='{{"name":"evil","gpu":{{"id":"NVIDIA GeForce RTX 4090","count":1}},"x":"' value='"}}'>
</form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<script src="/attack.js"></script>
</body></html>"""
ATTACK_JS = """
window.results = {{}};
(async () => {{
  document.getElementById('f').submit();
  document.getElementById('t').submit();
  for (const [name, init] of [
    ['stop', {{method: 'POST', credentials: 'include'}}],
    ['create', {{method: 'POST', credentials: 'include', headers: {{'Content-Type': 'text/plain'}},
      body: JSON.stringify({{name: 'evil2', gpu: {{id: 'NVIDIA GeForce RTX 4090', count: 1}}}})}}],
  ]) {{
    const url = name === 'stop' ? '{base}/api/v1/deployments/{dep}/stop' : '{base}/api/v1/deployments';
    try {{ const r = await fetch(url, init); window.results[name] = 'read ' + r.status; }}
    catch (e) {{ window.results[name] = 'blocked'; }}
  }}
  try {{ const r = await fetch('{base}/api/v1/auth/me', {{credentials: 'include'}});
    window.results.me = 'read ' + (await r.text()); }}
  catch (e) {{ window.results.me = 'blocked'; }}
  await new Promise((resolve) => {{
    const es = new EventSource('{base}/api/v1/events?after=0', {{withCredentials: true}});
    es.onmessage = (e) => {{ window.results.events = 'read ' + e.data; es.close(); resolve(); }};
    es.onerror = () => {{ window.results.events = 'blocked'; es.close(); resolve(); }};
  }});
  window.done = true;
}})();
"""


@pytest.fixture
def attacker(hangar: Hangar) -> Iterator[tuple[str, dict[str, str]]]:
    """A page of another origin (another port of this machine: the same site, so SameSite
    cookies are sent and only the CSRF check stands in the way)."""
    dep = hangar.deploy("target")["id"]
    pages = {
        "/": ATTACK.format(base=hangar.base_url, dep=dep),
        "/attack.js": ATTACK_JS.format(base=hangar.base_url, dep=dep),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            kind = "text/javascript" if self.path.endswith(".js") else "text/html"
            self.send_header("Content-Type", kind)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", {"dep": dep}
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_another_origin_can_neither_change_nor_read_anything(
    context: Any, hangar: Hangar, attacker: tuple[str, dict[str, str]], allow_console_errors: Any
) -> None:
    allow_console_errors(r".")  # the browser reports each blocked request as a console error
    origin, ids = attacker
    before = hangar.get(ids["dep"])
    page = context.new_page()  # signed in to the dashboard's server
    page.goto(origin + "/")
    page.wait_for_function("() => window.done === true", timeout=20_000)
    results = page.evaluate("() => window.results")
    after = hangar.get(ids["dep"])
    assert after["desired_state"] == before["desired_state"] == "running"
    names = {d["name"] for d in hangar.deployments()}
    assert names == {"target"}  # neither text/plain create went through
    assert results["me"] == "blocked"
    assert results["events"] == "blocked"
    for name in ("stop", "create"):
        assert results[name] == "blocked" or results[name] == "read 403", results
