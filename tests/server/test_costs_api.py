"""Cost figures through the API: estimates before deploying, live cost, the summary."""

from __future__ import annotations

from decimal import Decimal

from comfyhangar.core.pricing import HOURS_PER_MONTH
from tests.server.conftest import FLUX_DEPLOY, Hangar

RTX_4090 = "NVIDIA GeForce RTX 4090"


async def test_estimate_matches_the_catalog_price_and_storage_rules(hangar: Hangar) -> None:
    gpus = (await hangar.http.get("/api/v1/gpus")).json()["gpus"]
    price = Decimal(next(g for g in gpus if g["id"] == RTX_4090)["price_per_hour"]["secure"])
    response = await hangar.http.post(
        "/api/v1/estimate",
        json={
            "gpu": {"id": RTX_4090, "count": 2},
            "container_disk_gb": 50,
            "volume_gb": 100,
            "hours": 10,
        },
    )
    assert response.status_code == 200, response.text
    body = {k: Decimal(str(v)) for k, v in response.json().items()}
    storage = Decimal("0.10") * 150 / HOURS_PER_MONTH
    assert body["gpu_per_hour"] == price * 2
    assert abs(body["storage_per_hour"] - storage) < Decimal("0.000001")
    assert abs(body["per_day"] - body["per_hour"] * 24) < Decimal("0.00001")
    assert abs(body["for_hours"] - body["per_hour"] * 10) < Decimal("0.00001")
    stopped = Decimal("0.20") * 100 / HOURS_PER_MONTH
    assert abs(body["stopped_per_hour"] - stopped) < Decimal("0.000001")


async def test_estimate_refuses_bad_input_with_the_field(hangar: Hangar) -> None:
    unknown = await hangar.http.post("/api/v1/estimate", json={"gpu": {"id": "GTX 9999"}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "gpu.id"
    both = await hangar.http.post(
        "/api/v1/estimate",
        json={"gpu": {"id": RTX_4090}, "volume_gb": 10, "network_volume_gb": 10},
    )
    assert both.status_code == 422


async def test_estimate_refuses_what_could_not_be_deployed(hangar: Hangar) -> None:
    """An estimate never prices a GPU that the cloud does not offer, or more GPUs than its
    largest machine has: the deploy would be refused with the same field and message."""
    gpus = (await hangar.http.get("/api/v1/gpus", params={"cloud": "SECURE"})).json()["gpus"]
    community_only = next(g for g in gpus if g["price_per_hour"]["secure"] is None)
    rtx = next(g for g in gpus if g["id"] == RTX_4090)
    for body in (
        {"gpu": {"id": community_only["id"], "count": 1}, "cloud": "SECURE"},
        {"gpu": {"id": RTX_4090, "count": rtx["max_count"]["secure"] + 1}, "cloud": "SECURE"},
    ):
        estimate = await hangar.http.post("/api/v1/estimate", json=body)
        deploy = await hangar.http.post("/api/v1/deployments", json={"name": "x", **body})
        assert estimate.status_code == deploy.status_code == 422, estimate.text
        assert estimate.json()["errors"] == deploy.json()["errors"]


async def test_a_running_deployment_shows_its_cost_and_the_summary_its_burn(hangar: Hangar) -> None:
    dep_id = (await hangar.http.post("/api/v1/deployments", json=FLUX_DEPLOY)).json()["id"]
    ready = await hangar.wait_for(dep_id, "ready")
    await hangar.cycles(2)
    dep = (await hangar.http.get(f"/api/v1/deployments/{dep_id}")).json()
    cost = dep["cost"]
    assert Decimal(cost["so_far_usd"]) > 0
    assert Decimal(cost["per_hour_usd"]) > Decimal(ready["pod"]["cost_per_hour"])  # + storage
    assert Decimal(cost["projections"]["day"]) == Decimal(cost["per_hour_usd"]) * 24
    summary = (await hangar.http.get("/api/v1/costs/summary")).json()
    assert summary["simulated"] is True
    assert Decimal(summary["burn_rate_per_hour_usd"]) == Decimal(cost["per_hour_usd"])
    assert Decimal(summary["spent_today_usd"]) > 0
    assert summary["deployments_billing"] == 1

    await hangar.http.delete(f"/api/v1/deployments/{dep_id}")
    await hangar.wait_for(dep_id, "terminated")
    await hangar.cycles(2)
    after = (await hangar.http.get(f"/api/v1/deployments/{dep_id}")).json()["cost"]
    assert Decimal(after["per_hour_usd"]) == 0
    assert Decimal(after["so_far_usd"]) >= Decimal(cost["so_far_usd"])
    summary = (await hangar.http.get("/api/v1/costs/summary")).json()
    assert Decimal(summary["burn_rate_per_hour_usd"]) == 0
