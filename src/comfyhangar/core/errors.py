"""Errors that carry a stable machine code and a human message.

Services raise these; one place in the server maps them to HTTP (status + problem body).
Never raise an HTTP exception from a service.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HangarError(Exception):
    """Base of every error a user may see. `code` is stable; `message` is for people."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    # Seconds a client should wait before sending the same request again (`Retry-After`).
    retry_after_s: ClassVar[int | None] = None

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(HangarError):
    code = "not_found"
    http_status = 404


class Conflict(HangarError):
    code = "conflict"
    http_status = 409


class NameTaken(Conflict):
    """Another deployment that is not terminated has this name."""

    code = "name_taken"

    @classmethod
    def by(cls, name: str, deployment_id: str, state: str) -> NameTaken:
        """The 409 for `name`, naming the deployment that has it (`deployment_id`)."""
        message = (
            f"a deployment named {name!r} already exists ({deployment_id}, {state}); pick "
            "another name, or terminate that one first"
        )
        return cls(
            message,
            details={
                "deployment_id": deployment_id,
                "state": state,
                "errors": [{"field": "name", "message": message}],
            },
        )


class InvalidInput(HangarError):
    code = "invalid_input"
    http_status = 422

    @classmethod
    def at(cls, field: str, message: str) -> InvalidInput:
        """A 422 naming one field (dotted path), shaped like request validation errors."""
        return cls(
            f"{field}: {message}", details={"errors": [{"field": field, "message": message}]}
        )


class UpstreamUnavailable(HangarError):
    """RunPod (or another provider) could not be reached or kept failing."""

    code = "upstream_unavailable"
    http_status = 503
    retry_after_s = 5


class DatabaseBusy(HangarError):
    """The database could not take the request in time (load): nothing was changed."""

    code = "database_busy"
    http_status = 503
    retry_after_s = 1


class BudgetExceeded(HangarError):
    """A budget cannot cover what was asked (for example one hour of a new pod)."""

    code = "budget_exceeded"
    http_status = 409


class Unauthenticated(HangarError):
    """No credentials, or credentials that are wrong, expired, revoked or disabled."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(HangarError):
    """Signed in, but this role or token scope may not do that."""

    code = "forbidden"
    http_status = 403


class TooManyAttempts(HangarError):
    """Too many failed sign-ins for this account or from this address: wait, then retry."""

    code = "too_many_attempts"
    http_status = 429
    retry_after_s = 60
