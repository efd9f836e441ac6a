"""The one place that turns errors into HTTP responses.

Every error body is RFC 9457 problem+json with a stable `code`:
`{"type": "about:blank", "title", "status", "code", "detail", ...details}`.
Request validation failures are 422 `invalid_input` with one entry per bad field; a database
too busy to take the request in time (no pooled connection, a queued write that waited too
long, a lock held by another process) is a 503 `database_busy` with `Retry-After`, as is every
503; anything unexpected is a 500 `internal_error` that says nothing about internals (the log
has it).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from comfyhangar.core.errors import DatabaseBusy, HangarError
from comfyhangar.server.db.engine import is_retryable
from comfyhangar.server.schemas.patterns import pattern_hint

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def hangar_problem(exc: HangarError) -> JSONResponse:
    """The problem response of a `HangarError`; a 503 always says when to try again."""
    response = problem(exc.http_status, exc.code, exc.message, **exc.details)
    if exc.http_status in (429, 503):
        wait = exc.details.get("retry_after_s", exc.retry_after_s or 5)
        response.headers["Retry-After"] = str(wait)
    if exc.http_status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="comfyhangar"'
    return response


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for err in exc.errors():
        # A bad dict key is reported at the key itself (`env.GIT_DIR`), not at `env.GIT_DIR.[key]`.
        loc = [
            str(part)
            for part in err.get("loc", ())
            if part not in ("body", "query", "path", "header", "[key]")
        ]
        message = str(err.get("msg", ""))
        if err.get("type") == "value_error" and "error" in err.get("ctx", {}):
            message = str(err["ctx"]["error"])  # our own sentence, without "Value error, "
        elif err.get("type") == "string_pattern_mismatch":
            message = pattern_hint(str(err.get("ctx", {}).get("pattern", ""))) or message
        fields.append({"field": ".".join(loc) or "body", "message": message})
    return fields


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the methods of
    the first route whose path matched (`Allow: POST` for `/deployments`, which also has GET).

    Each method is tried against the app's routes (`matches` is public and sees through
    FastAPI's included routers); a path that takes every method (a mount) says nothing.
    """
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return [] if len(allowed) == len(HTTP_METHODS) else allowed


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(HangarError)
    async def _hangar_error(_request: Request, exc: HangarError) -> JSONResponse:
        return hangar_problem(exc)

    @app.exception_handler(SQLAlchemyError)
    async def _database_error(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if is_retryable(exc):
            log.warning("database busy: %s", type(exc).__name__)
            return hangar_problem(
                DatabaseBusy("the database is busy; nothing was changed, send the request again")
            )
        log.exception("unhandled database error", exc_info=exc)
        return problem(500, "internal_error", "an unexpected error happened; see the server log")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        return problem(422, "invalid_input", summary or "invalid request", errors=fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        response = problem(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "an unexpected error happened; see the server log")
