"""Swagger UI is served by the server itself: the page and its assets load from no other host."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from tests.api.conftest import Hangar


async def test_swagger_ui_loads_everything_from_this_server(hangar: Hangar) -> None:
    page = await hangar.http.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    # No inline script (the CSP allows none): the bundle, then init.js, which starts it.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"

    urls = re.findall(r"""(?:src|href|data-openapi)\s*=\s*["']([^"']+)["']""", html)
    assert urls, html
    for url in urls:
        assert not urlsplit(url).netloc, f"{url} is on another host"
    assert not re.search(r"https?://", html), "no absolute URL at all (no CDN, no external favicon)"

    assets = {urlsplit(url).path: url for url in urls}
    js = next(u for p, u in assets.items() if p.endswith("swagger-ui-bundle.js"))
    init = await hangar.http.get(next(u for p, u in assets.items() if p.endswith("init.js")))
    assert "SwaggerUIBundle(" in init.text
    assert init.headers["content-type"].startswith("text/javascript")
    css = next(u for p, u in assets.items() if p.endswith(".css"))
    openapi = next(u for p, u in assets.items() if p.endswith("openapi.json"))

    js_response = await hangar.http.get(urljoin(hangar.base_url, js))
    assert js_response.status_code == 200
    assert "javascript" in js_response.headers["content-type"]
    assert "SwaggerUIBundle" in js_response.text
    assert len(js_response.content) > 500_000, "the full bundle, not a stub"

    css_response = await hangar.http.get(urljoin(hangar.base_url, css))
    assert css_response.status_code == 200
    assert css_response.headers["content-type"].startswith("text/css")
    assert ".swagger-ui" in css_response.text

    schema = (await hangar.http.get(urljoin(hangar.base_url, openapi))).json()
    assert schema["openapi"].startswith("3.1"), "Swagger UI 5 renders OpenAPI 3.1"
    assert re.search(r'PACKAGE_VERSION:"5\.', js_response.text), "Swagger UI 5 renders 3.1"


async def test_openapi_documents_problem_json_errors(hangar: Hangar) -> None:
    schema = (await hangar.http.get("/api/v1/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            for status in ("4XX", "5XX"):
                content = responses[status]["content"]
                assert list(content) == ["application/problem+json"], (method, path)


async def test_unknown_asset_is_a_problem_404(hangar: Hangar) -> None:
    response = await hangar.http.get("/api/v1/docs/assets/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"
