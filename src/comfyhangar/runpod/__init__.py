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
from comfyhangar.runpod.models import (
    Cloud,
    CreatePodRequest,
    GpuType,
    LogEvent,
    Pod,
    PodStatus,
    UpdatePodRequest,
)
from comfyhangar.runpod.provisioning import (
    DEPLOYMENT_ENV,
    Candidate,
    CreateOutcome,
    CreatePodFailedError,
    ProvisioningPolicy,
    build_candidates,
    create_tagged_pod,
    pod_name,
)
from comfyhangar.runpod.retry import RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEPLOYMENT_ENV",
    "USER_AGENT",
    "BadRequestError",
    "Candidate",
    "CapacityError",
    "Cloud",
    "ConflictError",
    "CreateOutcome",
    "CreatePodFailedError",
    "CreatePodRequest",
    "ForbiddenError",
    "GpuType",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "LogEvent",
    "NotFoundError",
    "Pod",
    "PodStatus",
    "ProvisioningPolicy",
    "RateLimitedError",
    "RetryPolicy",
    "RunPodAPIError",
    "RunPodClient",
    "RunPodError",
    "RunPodUnavailableError",
    "ServerError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "UpdatePodRequest",
    "build_candidates",
    "create_tagged_pod",
    "pod_name",
]
