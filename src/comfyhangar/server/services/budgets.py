"""Budgets that act.

After each metering pass, every budget's spend in its current period (the cloud's clock) is
compared with its limit: each warning threshold fires one `budget_warning` event per period;
past the limit, a `stop` or `terminate` budget turns every covered deployment that still wants
to run into a stop (or terminate) request, and wakes the reconciler, which carries it out in
its next cycle. Deploys and starts that the budget cannot cover for one hour are refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.core.errors import BudgetExceeded, InvalidInput, NotFound
from comfyhangar.core.lifecycle import DeploymentState, Desired
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Budget, Deployment
from comfyhangar.server.schemas.budgets import BudgetCreate, BudgetUpdate
from comfyhangar.server.schemas.events import EventType
from comfyhangar.server.services.costs import CostService, start_of_day, start_of_month


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period_key: str
    start: datetime
    end: datetime
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(self.budget.limit_usd - self.spent, Decimal(0))

    @property
    def state(self) -> str:
        if self.spent >= self.budget.limit_usd:
            return "exceeded"
        crossed = [
            t for t in self.budget.warn_at if self.spent >= self.budget.limit_usd * Decimal(str(t))
        ]
        return "warning" if crossed else "ok"


def period_window(period: str, now: datetime) -> tuple[str, datetime, datetime]:
    """(key, start, end) of the period containing `now`."""
    if period == "daily":
        start = start_of_day(now)
        return start.date().isoformat(), start, start + timedelta(days=1)
    start = start_of_month(now)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


class BudgetService:
    """CRUD, status, the deploy check, and enforcement."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        costs: CostService,
        clock: Callable[[], datetime],
        request_stop: Callable[[str, str, str], Any],
    ) -> None:
        self._sessions = sessions
        self._costs = costs
        self._clock = clock
        # (deployment id, "stop" | "terminate", why) -> records the request and wakes the
        # reconciler
        self._request_stop = request_stop

    async def create(self, body: BudgetCreate) -> Budget:
        async with self._sessions() as session, session.begin():
            if (
                body.deployment_id is not None
                and await session.get(Deployment, body.deployment_id) is None
            ):
                raise InvalidInput(
                    f"deployment_id: no deployment {body.deployment_id!r}",
                    details={
                        "errors": [{"field": "deployment_id", "message": "no such deployment"}]
                    },
                )
            budget = Budget(id=uuid.uuid4().hex, **body.model_dump())
            session.add(budget)
        return budget

    async def list(self) -> Sequence[Budget]:
        async with self._sessions() as session:
            return (await session.scalars(select(Budget).order_by(Budget.created_at))).all()

    async def get(self, budget_id: str) -> Budget:
        async with self._sessions() as session:
            budget = await session.get(Budget, budget_id)
        if budget is None:
            raise NotFound(f"no budget {budget_id!r}")
        return budget

    async def update(self, budget_id: str, body: BudgetUpdate) -> Budget:
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        async with self._sessions() as session, session.begin():
            budget = await session.get(Budget, budget_id)
            if budget is None:
                raise NotFound(f"no budget {budget_id!r}")
            for key, value in changes.items():
                setattr(budget, key, value)
            budget.version += 1
        return await self.get(budget_id)

    async def delete(self, budget_id: str) -> None:
        async with self._sessions() as session, session.begin():
            budget = await session.get(Budget, budget_id)
            if budget is None:
                raise NotFound(f"no budget {budget_id!r}")
            await session.delete(budget)

    async def status(self, budget: Budget) -> BudgetStatus:
        key, start, end = period_window(budget.period, self._clock())
        spent = await self._costs.spent_between(start, end, deployment_id=budget.deployment_id)
        return BudgetStatus(budget, key, start, end, spent)

    async def check_can_run(self, per_hour: Decimal, deployment_id: str | None = None) -> None:
        """Refuse (409 budget_exceeded) when an acting budget cannot cover one more hour."""
        for budget in await self.list():
            if budget.on_exceed == "warn":
                continue
            if budget.deployment_id is not None and budget.deployment_id != deployment_id:
                continue
            status = await self.status(budget)
            if status.remaining < per_hour:
                raise BudgetExceeded(
                    f"budget {budget.name!r} has ${status.remaining:.2f} left this "
                    f"{'day' if budget.period == 'daily' else 'month'}; one hour of this pod "
                    f"costs ${per_hour:.2f}",
                    details={"budget_id": budget.id},
                )

    async def enforce(self, *_: object) -> None:
        """Fire due warnings and apply exceeded caps (a reconciler observer)."""
        for budget in await self.list():
            status = await self.status(budget)
            await self._warn(status)
            if status.state == "exceeded" and budget.on_exceed in ("stop", "terminate"):
                await self._cap(status)

    async def _warn(self, status: BudgetStatus) -> None:
        budget = status.budget
        done = set((budget.notified or {}).get(status.period_key, {}).get("warned", []))
        due = [
            t
            for t in budget.warn_at
            if t not in done and status.spent >= budget.limit_usd * Decimal(str(t))
        ]
        exceeded_new = status.spent >= budget.limit_usd and not (
            (budget.notified or {}).get(status.period_key, {}).get("exceeded")
        )
        if not due and not exceeded_new:
            return
        record = {"warned": sorted(done | set(due)), "exceeded": status.spent >= budget.limit_usd}
        async with self._sessions() as session, session.begin():
            claimed = await session.execute(
                update(Budget)
                .where(Budget.id == budget.id, Budget.version == budget.version)
                .values(notified={status.period_key: record}, version=Budget.version + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another process (or an edit) got there first
            for threshold in due:
                await append_event(
                    session,
                    EventType.BUDGET_WARNING,
                    deployment_id=budget.deployment_id,
                    data=_budget_data(status, threshold=threshold),
                )
            if exceeded_new:
                await append_event(
                    session,
                    EventType.BUDGET_EXCEEDED,
                    deployment_id=budget.deployment_id,
                    data=_budget_data(status, action=budget.on_exceed),
                )

    async def _cap(self, status: BudgetStatus) -> None:
        budget = status.budget
        async with self._sessions() as session:
            query = select(Deployment.id).where(
                Deployment.desired_state == Desired.RUNNING.value,
                Deployment.state != DeploymentState.TERMINATED.value,
            )
            if budget.on_exceed == "terminate":
                query = select(Deployment.id).where(
                    Deployment.desired_state != Desired.TERMINATED.value
                )
            if budget.deployment_id is not None:
                query = query.where(Deployment.id == budget.deployment_id)
            covered = list(await session.scalars(query))
        reason = cap_reason(status)
        for deployment_id in covered:
            await self._request_stop(deployment_id, budget.on_exceed, reason)


def cap_reason(status: BudgetStatus) -> str:
    """Why a budget stopped (or terminated) a deployment: its name, limit and spend."""
    budget = status.budget
    done = "terminated" if budget.on_exceed == "terminate" else "stopped"
    return (
        f"{done} by budget {budget.name!r}: ${status.spent:.2f} spent of its "
        f"${budget.limit_usd:.2f} {budget.period} limit ({status.period_key})"
    )


def _budget_data(status: BudgetStatus, **extra: object) -> dict[str, Any]:
    budget = status.budget
    return {
        "budget_id": budget.id,
        "name": budget.name,
        "period": status.period_key,
        "limit_usd": str(budget.limit_usd),
        "spent_usd": str(status.spent),
        **extra,
    }
