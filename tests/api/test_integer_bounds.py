"""Every integer parameter of the API (path, query, header) is bounded: a value no 64-bit
column can hold is a 422 naming the parameter, never a 500 (`OverflowError` in SQLite) or an
event stream that answers 200 and closes. The parameters come from the OpenAPI document, so
one added later is covered; body integers are in test_strict_input.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.server.conftest import FLUX_DEPLOY, Hangar
from tests.support.schema_walk import branches, operations

MAX_INT64 = 2**63 - 1
HUGE = (str(2**63), str(2**70), str(-(2**63) - 1), "100000000000000000000", "1e20")


def _integer_parameters(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for method, path, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            if any(b.get("type") == "integer" for b in branches(doc, parameter["schema"])):
                found.append((method, path, parameter))
    return found


async def _ask(
    hangar: Hangar, method: str, path: str, where: str, name: str, value: str
) -> tuple[int, Any]:
    """Send one request with `name=value` in `where`; read the answer (only the head of a
    stream), and give up on a stream that neither refuses nor starts."""
    query = {name: value} if where == "query" else {}
    headers = {name: value} if where == "header" else {}
    async with (
        asyncio.timeout(10),
        hangar.http.stream(method, path, params=query, headers=headers) as response,
    ):
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, None
        await response.aread()
        return response.status_code, response.json()


async def test_every_integer_parameter_refuses_values_beyond_64_bits(hangar: Hangar) -> None:
    doc = (await hangar.http.get("/api/v1/openapi.json")).json()
    made = await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)
    budget = await hangar.http.post("/api/v1/budgets", json={"name": "b", "limit_usd": "5"})
    workflow = await hangar.http.post(
        "/api/v1/workflows",
        files={"file": ("w.json", b'{"1": {"class_type": "EmptyImage", "inputs": {}}}')},
        data={"name": "w"},
    )
    ids = {
        "deployment_id": made.json()["id"],
        "budget_id": budget.json()["id"],
        "workflow_id": workflow.json()["id"],
        "version": "1",
    }
    checked = []
    for method, template, parameter in _integer_parameters(doc):
        path = template.format(**ids)
        name, where = parameter["name"], parameter["in"]
        label = f"{method} {template} {where} {name}"
        for value in HUGE:
            if where == "path":
                path = template.format(**{**ids, name: value})
            status, problem = await _ask(hangar, method, path, where, name, value)
            assert status == 422, f"{label} = {value}: {status} {problem}"
            assert problem["code"] == "invalid_input"
            assert [e["field"] for e in problem["errors"]] == [name], problem
        # The largest value of the documented range is served (its bound is honest).
        top = next((b.get("maximum") for b in branches(doc, parameter["schema"])), None)
        if top is not None and top == MAX_INT64:
            status, problem = await _ask(hangar, method, path, where, name, str(top))
            assert status == 200, f"{label} = 2^63-1: {status} {problem}"
        checked.append(f"{template} {name}")
    assert {
        "/api/v1/deployments offset",
        "/api/v1/deployments limit",
        "/api/v1/deployments/{deployment_id}/logs after",
        "/api/v1/deployments/{deployment_id}/logs last-event-id",
        "/api/v1/events after",
        "/api/v1/events last-event-id",
    } <= set(checked)


async def test_a_last_event_id_that_is_not_an_id_is_refused(hangar: Hangar) -> None:
    for value in ("abc", "-1", "4.5", str(2**70)):
        status, problem = await _ask(
            hangar, "GET", "/api/v1/events", "header", "Last-Event-ID", value
        )
        assert status == 422, value
        assert problem["errors"][0]["field"] == "last-event-id"
