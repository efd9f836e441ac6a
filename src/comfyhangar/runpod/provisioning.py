"""Creating pods without ever paying for a duplicate.

RunPod creates are not idempotent and names are not unique (pitfall P4): a create that timed
out, was cut off or answered 5xx may still have made a pod that bills. So every pod we create is
tagged with

- a deterministic name, `hangar-<first 8 chars of the deployment id>-<sanitised label>`, and
- an env marker, `HANGAR_DEPLOYMENT_ID=<deployment id>`,

and `create_tagged_pod` never repeats a create whose outcome is unknown before listing the
account's pods and matching that tag: found means adopted; not found means the create did not
happen and may be repeated (after a backoff, a bounded number of times).

Capacity fallback follows the spec's table for `createPod`:

| answer | what happens |
| --- | --- |
| 201 | done |
| 400 (capacity or any other), 403 | next candidate |
| 402 insufficient balance, 401, 404 (unknown template), 422 | stop at once |
| 429 | wait `Retry-After`, same candidate |
| 5xx, transport failure | list and match; adopt, or retry the same candidate |

Candidates are tried in order; `build_candidates` orders them as "other data centers of the
preferred GPU first, then the next GPU type", using the catalog's stock levels.

Callers must not run two `create_tagged_pod` for the same deployment id and label at once
(the server holds a per-deployment lock); sequential calls are safe, since the first thing done
is to look for a pod already carrying the tag.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from comfyhangar.runpod.errors import (
    BadRequestError,
    CapacityError,
    ForbiddenError,
    InsufficientBalanceError,
    RateLimitedError,
    RunPodError,
    RunPodUnavailableError,
    ServerError,
    UnexpectedResponseError,
)
from comfyhangar.runpod.models import (
    AvailabilityLevel,
    Cloud,
    CreateGpuConfig,
    CreatePodRequest,
    GpuType,
    Pod,
    PodStatus,
)
from comfyhangar.runpod.retry import RetryPolicy

if TYPE_CHECKING:
    from comfyhangar.runpod.client import RunPodClient

logger = logging.getLogger("comfyhangar.runpod.provisioning")

#: Env var carrying the deployment id on every pod we create.
DEPLOYMENT_ENV = "HANGAR_DEPLOYMENT_ID"
NAME_PREFIX = "hangar"
_LABEL_MAX = 40

AttemptResult = Literal[
    "created",
    "adopted",
    "no_capacity",
    "rejected",
    "forbidden",
    "rate_limited",
    "outcome_unknown",
    "unavailable",
    "fatal",
]
FailureReason = Literal[
    "no_capacity",
    "insufficient_balance",
    "invalid_request",
    "rate_limited",
    "outcome_unknown",
    "unavailable",
    "fatal",
]


def pod_name(deployment_id: str, label: str) -> str:
    """`hangar-<first 8 chars of deployment id>-<label>`; the label is reduced to [a-z0-9-]."""
    short = re.sub(r"[^a-z0-9]", "", deployment_id.lower())[:8]
    if not short:
        raise ValueError("deployment_id must contain letters or digits")
    clean = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:_LABEL_MAX].strip("-")
    return f"{NAME_PREFIX}-{short}-{clean or 'pod'}"


def is_tagged(pod: Pod, deployment_id: str, name: str | None = None) -> bool:
    """True when `pod` carries our marker for `deployment_id` (and `name`, when given)."""
    if pod.env.get(DEPLOYMENT_ENV) != deployment_id:
        return False
    return name is None or pod.name == name


async def find_tagged_pods(
    client: RunPodClient, deployment_id: str, name: str | None = None
) -> list[Pod]:
    """Live pods tagged for `deployment_id` (and `name`), oldest first."""
    pods = await client.list_pods()
    found = [
        p
        for p in pods
        if is_tagged(p, deployment_id, name) and p.status is not PodStatus.TERMINATED
    ]
    return sorted(found, key=lambda p: (p.created_at is None, p.created_at, p.id))


@dataclass(frozen=True)
class Candidate:
    """One placement to try: a GPU type, the data centers allowed (empty = any), a cloud."""

    gpu_type_id: str
    data_center_ids: tuple[str, ...] = ()
    cloud: Cloud | None = None

    def __str__(self) -> str:
        where = ",".join(self.data_center_ids) or "any DC"
        return f"{self.gpu_type_id} @ {where} ({(self.cloud or Cloud.SECURE).value})"


@dataclass(frozen=True)
class CreateAttempt:
    """What happened to one try of one candidate."""

    candidate: Candidate
    result: AttemptResult
    status: int | None = None
    detail: str = ""
    pod_id: str | None = None


@dataclass(frozen=True)
class CreateOutcome:
    """The pod we have, the candidate that took, and every attempt on the way."""

    pod: Pod
    candidate: Candidate
    attempts: list[CreateAttempt]
    adopted: bool
    #: Other live pods with the same tag (should be empty; a caller may terminate them).
    duplicates: list[Pod] = field(default_factory=list)


class CreatePodFailedError(RunPodError):
    """No candidate gave a pod. `attempts` says why each failed; `reason` sums it up:

    - `no_capacity`: every candidate was out of capacity (or was refused with 400/403);
    - `insufficient_balance`: 402; `invalid_request`: 422 (or 401/404, or the same 400 from
      every candidate); `rate_limited`: 429s beyond the budget;
    - `outcome_unknown`: a create may have happened and the pod list could not confirm it,
      or unknown-outcome retries ran out. Do not create again before listing pods;
    - `unavailable`: RunPod could not be reached at all (no create was sent).
    """

    def __init__(
        self,
        reason: FailureReason,
        attempts: list[CreateAttempt],
        last_error: RunPodError | None,
    ) -> None:
        self.reason = reason
        self.attempts = attempts
        self.last_error = last_error
        tried = "; ".join(f"{a.candidate}: {a.result} {a.detail}".strip() for a in attempts)
        super().__init__(
            f"could not create the pod ({reason}); attempts: {tried or 'none'}",
            status=last_error.status if last_error else None,
            title=last_error.title if last_error else "",
            errors=last_error.errors if last_error else None,
        )


@dataclass(frozen=True)
class ProvisioningPolicy:
    """Budgets of `create_tagged_pod`.

    - `unknown_outcome_retries`: creates repeated per candidate after an unknown outcome that
      the pod list showed had not happened.
    - `rate_limit_retries`: 429s tolerated per candidate (each waits `Retry-After`).
    - `settle_delay`, `confirm_lists`: after an unknown outcome, list pods up to
      `confirm_lists` times, waiting `settle_delay`, then twice as long each time (2, 4, 8 s by
      default), before concluding the create did not happen: a pod whose create response was
      lost can take a while to appear in `GET /v2/pods` (P4: propagation), and creating
      again too early would pay for a duplicate.
    - `max_retry_after`: a `Retry-After` above this ends the create.
    - `check_existing`: list first and adopt a pod already carrying the tag.
    - `backoff`: delays between repeated creates (its `max_attempts` is ignored).
    """

    unknown_outcome_retries: int = 3
    rate_limit_retries: int = 5
    settle_delay: float = 2.0
    confirm_lists: int = 3
    max_retry_after: float = 120.0
    check_existing: bool = True
    backoff: RetryPolicy = field(default_factory=RetryPolicy)


def tag_request(request: CreatePodRequest, deployment_id: str, label: str) -> CreatePodRequest:
    """`request` with our deterministic name and the `HANGAR_DEPLOYMENT_ID` env marker."""
    env = dict(request.env or {})
    env[DEPLOYMENT_ENV] = deployment_id
    return request.replace(name=pod_name(deployment_id, label), env=env)


def for_candidate(request: CreatePodRequest, candidate: Candidate) -> CreatePodRequest:
    """`request` placed on `candidate` (GPU type, data centers, cloud); count is kept."""
    if request.gpu is None:
        gpu = CreateGpuConfig(id=candidate.gpu_type_id)
    else:
        gpu = request.gpu.model_copy(update={"id": candidate.gpu_type_id})
    changes: dict[str, object] = {"gpu": gpu}
    changes["data_center_ids"] = list(candidate.data_center_ids) or None
    if candidate.cloud is not None:
        changes["cloud"] = candidate.cloud
    return request.replace(**changes)


async def create_tagged_pod(
    client: RunPodClient,
    *,
    deployment_id: str,
    label: str,
    request: CreatePodRequest,
    candidates: Sequence[Candidate],
    policy: ProvisioningPolicy | None = None,
) -> CreateOutcome:
    """Create (or adopt) the one pod of `deployment_id`/`label`, trying `candidates` in order.

    Never repeats a create whose outcome is unknown without first listing pods and matching the
    tag. Raises `CreatePodFailedError` (carrying every attempt) when no candidate works.
    """
    if not candidates:
        raise ValueError("at least one candidate is required")
    if request.gpu is None:
        raise ValueError("create_tagged_pod places GPU pods; request.gpu is required")
    policy = policy or ProvisioningPolicy()
    tagged = tag_request(request, deployment_id, label)
    name = tagged.name
    attempts: list[CreateAttempt] = []

    if policy.check_existing:
        existing = await find_tagged_pods(client, deployment_id, name)
        if existing:
            return _adopt(existing, attempts, None, "found before creating")

    last_error: RunPodError | None = None
    uncertain = False  # did any create in this call end with an unknown outcome?
    for candidate in candidates:
        body = for_candidate(tagged, candidate)
        unknown_retries = 0
        rate_limited = 0
        while True:
            try:
                pod = await client.create_pod(body)
            except InsufficientBalanceError as exc:
                attempts.append(_attempt(candidate, "fatal", exc))
                raise CreatePodFailedError("insufficient_balance", attempts, exc) from exc
            except (CapacityError, ForbiddenError) as exc:
                result: AttemptResult = (
                    "no_capacity" if isinstance(exc, CapacityError) else "forbidden"
                )
                attempts.append(_attempt(candidate, result, exc))
                last_error = exc
                break
            except BadRequestError as exc:
                attempts.append(_attempt(candidate, "rejected", exc))
                last_error = exc
                break
            except RateLimitedError as exc:
                attempts.append(_attempt(candidate, "rate_limited", exc))
                last_error = exc
                rate_limited += 1
                wait = policy.backoff.delay_for(exc, rate_limited - 1)
                if rate_limited > policy.rate_limit_retries or wait > policy.max_retry_after:
                    raise CreatePodFailedError("rate_limited", attempts, exc) from exc
                await policy.backoff.sleep(wait)
                continue
            except (ServerError, RunPodUnavailableError, UnexpectedResponseError) as exc:
                unknown = exc.outcome_unknown
                attempts.append(
                    _attempt(candidate, "outcome_unknown" if unknown else "unavailable", exc)
                )
                last_error = exc
                if unknown:
                    uncertain = True
                    found = await _reconcile(client, deployment_id, name, policy, attempts, exc)
                    if found:
                        return _adopt(found, attempts, candidate, "found after unknown outcome")
                unknown_retries += 1
                if unknown_retries > policy.unknown_outcome_retries:
                    why_retry: FailureReason = "outcome_unknown" if uncertain else "unavailable"
                    raise CreatePodFailedError(why_retry, attempts, exc) from exc
                await policy.backoff.sleep(policy.backoff.backoff(unknown_retries - 1))
                continue
            except RunPodError as exc:  # 401, 404 (template), 409, 422
                attempts.append(_attempt(candidate, "fatal", exc))
                why: FailureReason = "invalid_request" if exc.status in (401, 404, 422) else "fatal"
                raise CreatePodFailedError(why, attempts, exc) from exc
            attempts.append(CreateAttempt(candidate, "created", status=201, pod_id=pod.id))
            logger.info("created pod %s (%s) on %s", pod.id, name, candidate)
            duplicates = (
                await _late_duplicates(client, deployment_id, name, pod) if uncertain else []
            )
            return CreateOutcome(
                pod=pod,
                candidate=candidate,
                attempts=attempts,
                adopted=False,
                duplicates=duplicates,
            )
    all_rejected = all(a.result == "rejected" for a in attempts)
    reason: FailureReason = "invalid_request" if all_rejected else "no_capacity"
    raise CreatePodFailedError(reason, attempts, last_error)


async def _reconcile(
    client: RunPodClient,
    deployment_id: str,
    name: str,
    policy: ProvisioningPolicy,
    attempts: list[CreateAttempt],
    cause: RunPodError,
) -> list[Pod]:
    """List pods (several times, with growing waits) and match the tag; if listing fails,
    give up without creating again."""
    for look in range(max(policy.confirm_lists, 1)):
        delay = policy.settle_delay * (2**look)
        if delay > 0:
            await policy.backoff.sleep(delay)
        try:
            found = await find_tagged_pods(client, deployment_id, name)
        except RunPodError as exc:
            logger.warning("cannot list pods to reconcile a create of %s: %s", name, exc)
            raise CreatePodFailedError("outcome_unknown", attempts, cause) from exc
        if found:
            return found
    return []


async def _late_duplicates(
    client: RunPodClient, deployment_id: str, name: str, created: Pod
) -> list[Pod]:
    """After creating following an unknown outcome: an earlier create that showed up late.

    Best effort (a failed list is logged, not raised): the pod is made either way, and the
    caller decides what to do with a duplicate (normally terminate it).
    """
    try:
        tagged = await find_tagged_pods(client, deployment_id, name)
    except RunPodError as exc:
        logger.warning("cannot list pods to look for duplicates of %s: %s", name, exc)
        return []
    duplicates = [p for p in tagged if p.id != created.id]
    if duplicates:
        logger.error("%d duplicate pods carry the tag of %s", len(duplicates), name)
    return duplicates


def _adopt(
    found: list[Pod], attempts: list[CreateAttempt], candidate: Candidate | None, why: str
) -> CreateOutcome:
    pod, *duplicates = found
    if candidate is None:
        candidate = Candidate(
            gpu_type_id=pod.gpu_type_id or "",
            data_center_ids=(pod.data_center_id,) if pod.data_center_id else (),
            cloud=pod.cloud if pod.cloud is not Cloud.UNKNOWN else None,
        )
    attempts.append(CreateAttempt(candidate, "adopted", detail=why, pod_id=pod.id))
    if duplicates:
        logger.error("%d duplicate pods carry the tag of %s", len(duplicates), pod.name)
    return CreateOutcome(
        pod=pod, candidate=candidate, attempts=attempts, adopted=True, duplicates=duplicates
    )


def _attempt(candidate: Candidate, result: AttemptResult, exc: RunPodError) -> CreateAttempt:
    return CreateAttempt(candidate, result, status=exc.status, detail=exc.detail)


def build_candidates(
    catalog: Sequence[GpuType],
    gpu_type_ids: Sequence[str],
    *,
    data_center_ids: Sequence[str] | None = None,
    cloud: Cloud | None = None,
) -> list[Candidate]:
    """Candidates in the order to try them, from the user's preferences and the catalog.

    For each GPU type in preference order, one candidate per data center: the user's own data
    centers first (in the order given), else the catalog's data centers by stock level (HIGH
    first, catalog order among equals). Data centers the catalog shows at NONE are skipped.
    A GPU type without availability data in `catalog` (not requested, or not listed) gets one
    candidate restricted to `data_center_ids` (or none: the scheduler picks).
    """
    by_id = {g.id: g for g in catalog}
    allowed = list(dict.fromkeys(data_center_ids or []))
    out: list[Candidate] = []
    for gpu_id in dict.fromkeys(gpu_type_ids):
        gpu = by_id.get(gpu_id)
        if gpu is None or (gpu.availability is None and not gpu.data_centers):
            out.append(Candidate(gpu_id, tuple(allowed), cloud))
            continue
        stock = {dc.id: dc.availability for dc in gpu.data_centers}
        if allowed:
            ordered = [dc for dc in allowed if stock.get(dc, AvailabilityLevel.NONE).rank > 0]
        else:
            listed = [dc.id for dc in gpu.data_centers]
            ordered = sorted(
                (dc for dc in listed if stock[dc].rank > 0),
                key=lambda dc: (-stock[dc].rank, listed.index(dc)),
            )
        out.extend(Candidate(gpu_id, (dc,), cloud) for dc in ordered)
    return out
