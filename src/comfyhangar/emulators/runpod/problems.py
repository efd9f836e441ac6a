"""RFC 9457 problem+json errors, as RunPod REST v2 sends them."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An error answer: HTTP status, human `detail`, optional validation `errors`, headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> Response:
        return problem_response(self.status, self.detail, errors=self.errors, headers=self.headers)


def problem_body(status: int, detail: str, errors: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    errors: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(problem_body(status, detail, errors)),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def bad_request(detail: str) -> ApiError:
    return ApiError(400, detail)


def invalid(errors: list[str]) -> ApiError:
    return ApiError(422, "Request validation failed.", errors=errors)
