"""The API reference: Swagger UI at `/api/v1/docs`, served entirely by this server (no CDN),
and the problem+json error responses described in `/api/v1/openapi.json`.

The Swagger UI 5 distribution (JS, CSS, favicon) comes from the `fastapi-swagger` package,
which ships it as package data; we serve those files ourselves under `/api/v1/docs/assets/`
and render the page with FastAPI's `get_swagger_ui_html`. The page therefore works offline
and behind firewalls, and loads nothing from any other host.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from comfyhangar.server.errors import PROBLEM_JSON
from comfyhangar.server.schemas.events import openapi_schemas as event_schemas

SWAGGER_UI_PACKAGE = "fastapi_swagger.resources"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def swagger_ui_dir() -> Path:
    """The folder holding the Swagger UI distribution files."""
    folder = Path(str(resources.files(SWAGGER_UI_PACKAGE)))
    missing = [name for name in ASSETS if not (folder / name).is_file()]
    if missing:  # pragma: no cover - a broken install
        raise RuntimeError(f"Swagger UI files missing from {folder}: {', '.join(missing)}")
    return folder


def install_api_docs(app: FastAPI, *, prefix: str) -> None:
    """Serve Swagger UI at `{prefix}/docs` for the app's own OpenAPI document, and document
    the problem+json error responses in that document."""
    document_problems(app)
    assets = f"{prefix}/docs/assets"
    app.mount(assets, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui-assets")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon-32x32.png",
        )


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the bad field, e.g. `gpu.count`, or `body`")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error response has this body and a stable `code`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank")
    title: str = Field(description="The HTTP status phrase")
    status: int
    code: str = Field(
        description="Stable machine code: invalid_input, not_found, conflict, method_not_allowed, "
        "upstream_unavailable, internal_error, ..."
    )
    detail: str = Field(description="What went wrong, for people")
    errors: list[FieldProblem] | None = Field(
        default=None, description="With `invalid_input`: one entry per bad field"
    )


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document_problems(app: FastAPI) -> None:
    """Describe the real error responses in the OpenAPI document, and the event vocabulary
    (`schemas/events.py`) that the `/events` stream documents.

    FastAPI documents a 422 with its own `HTTPValidationError` JSON body, but this server answers
    every error with problem+json (see `errors.py`). Each operation gets `4XX` and `5XX`
    problem responses instead, so clients and schema-based tests see what is really sent.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem_schema.pop("$defs", {}))
        schemas["Problem"] = problem_schema
        for name, event_schema in event_schemas().items():
            schemas.setdefault(name, event_schema)  # shared models as FastAPI wrote them
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses["4XX"] = _problem_response("Bad request: a problem with a `code`")
                responses["5XX"] = _problem_response("Server or upstream failure")
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
