"""RunPod REST v2 client: `RunPodClient`, typed wire models, typed errors, safe tagged creates.

See `client.py` for the endpoints, `errors.py` for the exception tree, `retry.py` for what is
retried, and `provisioning.py` for creating pods without ever making a duplicate.
"""

from comfyhangar.runpod.client import DEFAULT_BASE_URL, USER_AGENT, RunPodClient
from comfyhangar.runpod.errors import (
    BadRequestError,
    CapacityError,
    ConflictError,
    ForbiddenError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    RunPodAPIError,
    RunPodError,
    RunPodUnavailableError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
)
from comfyhangar.runpod.retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "USER_AGENT",
    "BadRequestError",
    "CapacityError",
    "ConflictError",
    "ForbiddenError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "NotFoundError",
    "RateLimitedError",
    "RetryPolicy",
    "RunPodAPIError",
    "RunPodClient",
    "RunPodError",
    "RunPodUnavailableError",
    "ServerError",
    "UnauthorizedError",
    "UnexpectedResponseError",
]
