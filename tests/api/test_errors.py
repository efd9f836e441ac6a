"""Errors outside the handlers' own code paths: a wrong method is a problem+json 405 whose
`Allow` lists every method the path serves (Starlette alone names one route's methods)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from comfyhangar.server.app import create_app
from tests.api.conftest import fast_settings


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/v1/deployments", "GET, POST"),
        ("PUT", "/api/v1/deployments/abc", "GET, DELETE"),
        ("GET", "/api/v1/deployments/abc/stop", "POST"),
        ("POST", "/api/v1/docs/assets/swagger-ui.css", "GET, HEAD"),
    ],
)
async def test_wrong_method_is_405_with_the_full_allow_header(
    tmp_path: Path, method: str, path: str, allow: str
) -> None:
    app = create_app(fast_settings(tmp_path))  # routing fails before anything needs the runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "method_not_allowed"
