"""How the server answers for the dashboard: client routes get index.html, hashed assets are
cached for good, API paths keep their JSON errors, nothing outside the build is served."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from comfyhangar.server.dashboard import install_dashboard
from comfyhangar.server.errors import install_error_handlers

API = "/api/v1"


def _app(build: Path) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post(f"{API}/things")
    async def make_thing() -> dict[str, str]:
        return {"ok": "yes"}

    install_dashboard(app, api_prefix=API, build=build)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def test_client_routes_assets_and_api_errors(tmp_path: Path) -> None:
    build = tmp_path / "web"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text("<div id=root></div>")
    (build / "assets" / "index-abc123.js").write_text("console.log(1)")
    (build / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for you")
    async with _client(_app(build)) as http:
        for path in ("/", "/deployments/abc", "/costs"):
            page = await http.get(path)
            assert page.status_code == 200
            assert page.text == "<div id=root></div>"
            assert page.headers["cache-control"] == "no-cache"
        asset = await http.get("/assets/index-abc123.js")
        assert asset.text == "console.log(1)"
        assert "immutable" in asset.headers["cache-control"]
        assert (await http.get("/favicon.svg")).text == "<svg/>"
        # Outside the build: the app's page, never the file.
        escape = await http.get("/..%2Fsecret.txt")
        assert "not for you" not in escape.text
        # API paths: the JSON problem, not the app's HTML; a wrong method stays a 405.
        missing = await http.get(f"{API}/nope")
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
        wrong = await http.get(f"{API}/things")
        assert wrong.status_code == 405
        assert (await http.post("/deployments/abc")).status_code == 404


async def test_without_a_build_the_page_says_how_to_get_one(tmp_path: Path) -> None:
    async with _client(_app(tmp_path / "missing")) as http:
        page = await http.get("/")
        assert page.status_code == 503
        assert "has not been built" in page.text
        assert (await http.get(f"{API}/nope")).json()["code"] == "not_found"
