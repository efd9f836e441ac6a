"""`/costs/history`, `/costs/by-deployment`, `/costs/by-gpu`, `/costs/export.csv` and
`/costs/reconciliation`: spend over time for the dashboard, and the meter against RunPod's bill.

Times are UTC on the cloud's clock; `start` and `end` accept RFC 3339 date-times (a time without
a zone is taken as UTC) and bound the half-open window [start, end).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from comfyhangar.core.errors import UpstreamUnavailable
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas import cost_reports as views
from comfyhangar.server.services import billing_check as checks
from comfyhangar.server.services.cost_history import MICRO, Amounts, CostHistory, to_csv

router = APIRouter(prefix="/costs", tags=["costs"])

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?")  # fullmatch: no trailing newline


def _rfc3339(value: object) -> object:
    """Only date-times (or dates) in ISO form: no Unix timestamps, which pydantic would take."""
    if isinstance(value, str) and not _DATE_TIME.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time such as 2026-11-01T00:00:00Z")
    return value


Start = Annotated[
    datetime | None,
    BeforeValidator(_rfc3339),
    Query(description="Window start (default depends on the endpoint)"),
]
End = Annotated[
    datetime | None,
    BeforeValidator(_rfc3339),
    Query(description="Window end, exclusive (default: now)"),
]


def _history(runtime: Runtime) -> CostHistory:
    return CostHistory(runtime.sessions, runtime.cloud.now)


def _q(value: Decimal) -> Decimal:
    rounded = value.quantize(MICRO)
    return abs(rounded) if rounded == 0 else rounded  # never "-0.000000"


def _totals(amounts: Amounts) -> dict[str, Decimal]:
    return {
        "total_usd": _q(amounts.total),
        "gpu_usd": _q(amounts.gpu),
        "storage_usd": _q(amounts.storage + amounts.network),
        "network_volume_usd": _q(amounts.network),
    }


@router.get("/history", response_model=views.CostHistory)
async def cost_history(
    runtime: RuntimeDep,
    bucket: Literal["hour", "day", "week", "month"] = "day",
    start: Start = None,
    end: End = None,
) -> views.CostHistory:
    """Spend per UTC bucket (weeks start on Monday), oldest first, zero-filled, each split into
    GPU and storage, per deployment and per GPU type. Default window: the last 30 days, 12
    weeks, 12 months or 48 hours, ending now. Segments are split exactly at bucket edges."""
    history = await _history(runtime).history(bucket, start, end)
    return views.CostHistory(
        bucket=bucket,
        start=history.start,
        end=history.end,
        totals=views.SpendTotals(**_totals(history.totals)),
        deployments=[
            views.DeploymentAmount(deployment_id=d.key or "", name=d.name, amount_usd=d.amount)
            for d in history.deployments
        ],
        gpu_types=[
            views.GpuAmount(gpu_type_id=g.key, amount_usd=g.amount) for g in history.gpu_types
        ],
        buckets=[
            views.HistoryBucket(
                start=b.start,
                end=b.end,
                complete=b.complete,
                **_totals(b.amounts),
                by_deployment=[
                    views.DeploymentAmount(
                        deployment_id=d.key or "", name=d.name, amount_usd=d.amount
                    )
                    for d in b.by_deployment
                ],
                by_gpu=[views.GpuAmount(gpu_type_id=g.key, amount_usd=g.amount) for g in b.by_gpu],
            )
            for b in history.buckets
        ],
    )


@router.get("/by-deployment", response_model=views.CostsByDeployment)
async def costs_by_deployment(
    runtime: RuntimeDep, start: Start = None, end: End = None
) -> views.CostsByDeployment:
    """Spend per deployment over a window (default: this month so far)."""
    result = await _history(runtime).breakdown("deployment", start, end)
    return views.CostsByDeployment(
        start=result.start,
        end=result.end,
        totals=views.SpendTotals(**_totals(result.totals)),
        deployments=[
            views.DeploymentSpend(deployment_id=key or "", name=name, **_totals(amounts))
            for key, name, amounts in result.items
        ],
    )


@router.get("/by-gpu", response_model=views.CostsByGpu)
async def costs_by_gpu(
    runtime: RuntimeDep, start: Start = None, end: End = None
) -> views.CostsByGpu:
    """Spend and GPU-hours per GPU type over a window (default: this month so far)."""
    result = await _history(runtime).breakdown("gpu", start, end)
    return views.CostsByGpu(
        start=result.start,
        end=result.end,
        totals=views.SpendTotals(**_totals(result.totals)),
        gpu_types=[
            views.GpuSpend(gpu_type_id=key, gpu_hours=_q(amounts.gpu_hours), **_totals(amounts))
            for key, _name, amounts in result.items
        ],
    )


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}},
)
async def export_csv(runtime: RuntimeDep, start: Start = None, end: End = None) -> Response:
    """Spend as CSV (RFC 4180), one row per UTC day, deployment, pod and GPU type (default
    window: this month so far). Columns: date, deployment_id, deployment_name, pod_id,
    gpu_type_id, gpu_hours, gpu_usd, storage_usd, total_usd. Cells that a spreadsheet would
    take for a formula (starting with = + - @) are prefixed with a single quote."""
    first, last, rows = await _history(runtime).csv_rows(start, end)
    name = f"comfyhangar-costs-{first.date().isoformat()}-{last.date().isoformat()}.csv"
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _sum(rows: list[checks.BucketRow]) -> views.ReconciliationTotals:
    metered = sum((r.metered for r in rows), Decimal(0))
    billed = sum((r.billed for r in rows), Decimal(0))
    pct = checks.percent(metered - billed, billed)
    return views.ReconciliationTotals(
        metered_usd=_q(metered),
        billed_usd=_q(billed),
        difference_usd=_q(metered - billed),
        difference_pct=pct,
    )


@router.get("/reconciliation", response_model=views.Reconciliation)
async def reconciliation(
    runtime: RuntimeDep,
    start: Start = None,
    end: End = None,
    refresh: Annotated[
        bool, Query(description="Compare now instead of showing the last periodic check")
    ] = False,
) -> views.Reconciliation:
    """The meter against RunPod's `/v2/billing/pods`, per pod per hour and in total.

    Without `start`/`end`, the latest periodic check (run now if there is none yet, or with
    `refresh`); its window is the last few hours. Mismatches (settled hours more than 1% and
    at least $0.01 apart) raise one `billing_mismatch` event per pod and hour.
    """
    check = runtime.billing_check
    if check is None:
        raise UpstreamUnavailable("billing reconciliation is not running")
    report = check.latest
    if start is not None or end is not None or refresh or report is None:
        report = await check.run(start, end)
    if report.error is not None and not report.rows:
        raise UpstreamUnavailable(report.error)
    settled = report.settled()
    return views.Reconciliation(
        checked_at=report.checked_at,
        start=report.start,
        end=report.end,
        tolerance_pct=checks.TOLERANCE * 100,
        min_difference_usd=checks.MIN_DIFFERENCE_USD,
        settle_minutes=Decimal(int(check.settle.total_seconds())) / 60,
        totals=_sum(settled),
        pending=_sum([r for r in report.rows if r.status == "pending"]),
        mismatches=sum(1 for r in settled if r.status == "mismatch"),
        unmanaged_billed_usd=_q(report.unmanaged_billed),
        error=report.error,
        rows=[
            views.ReconciliationRow(
                kind=r.kind,
                pod_id=r.resource_id if r.kind == "pod" else None,
                network_volume_id=r.resource_id if r.kind == "network_volume" else None,
                deployment_id=r.deployment_id,
                deployment_name=r.deployment_name,
                bucket_start=r.start,
                bucket_end=r.end,
                metered_usd=_q(r.metered),
                billed_usd=_q(r.billed),
                difference_usd=_q(r.difference),
                difference_pct=r.difference_pct,
                status=r.status,
            )
            for r in report.rows
        ],
    )
