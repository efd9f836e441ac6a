"""`/budgets`: spending limits that warn, stop or terminate."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from comfyhangar.server.db.models import Budget
from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.schemas.budgets import BudgetCreate, BudgetList, BudgetUpdate, BudgetView

router = APIRouter(prefix="/budgets", tags=["budgets"])


async def _view(runtime: Runtime, budget: Budget) -> BudgetView:
    state = await runtime.budgets.status(budget)
    return BudgetView(
        id=budget.id,
        name=budget.name,
        deployment_id=budget.deployment_id,
        period=budget.period,
        limit_usd=budget.limit_usd,
        warn_at=budget.warn_at,
        on_exceed=budget.on_exceed,
        period_start=state.start,
        period_end=state.end,
        spent_usd=state.spent,
        remaining_usd=state.remaining,
        state=state.state,
    )


@router.get("", response_model=BudgetList)
async def list_budgets(runtime: RuntimeDep) -> BudgetList:
    """Every budget with its spend and state in the current period."""
    return BudgetList(budgets=[await _view(runtime, b) for b in await runtime.budgets.list()])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BudgetView)
async def create_budget(body: BudgetCreate, runtime: RuntimeDep) -> BudgetView:
    """A daily or monthly limit over every deployment (or one) that warns, stops or terminates."""
    budget = await runtime.budgets.create(body)
    runtime.reconciler.wake()  # apply it at once
    return await _view(runtime, budget)


@router.get("/{budget_id}", response_model=BudgetView)
async def get_budget(budget_id: str, runtime: RuntimeDep) -> BudgetView:
    return await _view(runtime, await runtime.budgets.get(budget_id))


@router.patch("/{budget_id}", response_model=BudgetView)
async def update_budget(budget_id: str, body: BudgetUpdate, runtime: RuntimeDep) -> BudgetView:
    """Change the limit, thresholds or action."""
    budget = await runtime.budgets.update(budget_id, body)
    runtime.reconciler.wake()
    return await _view(runtime, budget)


@router.delete("/{budget_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_budget(budget_id: str, runtime: RuntimeDep) -> Response:
    await runtime.budgets.delete(budget_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
