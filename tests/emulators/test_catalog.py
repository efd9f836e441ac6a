"""Catalog endpoints: GPU types with prices and availability, data centers, public templates."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from comfyhangar.emulators.runpod.catalog import GPU_TYPES
from tests.emulators.conftest import RTX_4090
from tests.support.runpod_emulator import EmulatorHandle


async def test_gpu_list_has_prices_and_no_availability_by_default(
    client: httpx.AsyncClient,
) -> None:
    gpus = (await client.get("/catalog/gpus")).json()["gpus"]
    assert len(gpus) >= 30
    assert all(gpu["price"]["secure"] >= 0 for gpu in gpus)
    assert not any("availability" in gpu for gpu in gpus)
    rtx = next(gpu for gpu in gpus if gpu["id"] == RTX_4090)
    assert rtx["name"] == "RTX 4090"
    assert rtx["memory"] == 24
    assert rtx["price"] == {"secure": 0.44, "community": 0.31, "serverless": 1.116}
    assert all(gpu.price_source for gpu in GPU_TYPES)


async def test_availability_follows_stock(
    handle: EmulatorHandle, client: httpx.AsyncClient
) -> None:
    emu = handle.emu
    emu.clear_stock()
    emu.set_stock(RTX_4090, "EU-SE-1", 9)
    emu.set_stock(RTX_4090, "US-KS-2", 1)
    params = {"include": "AVAILABILITY", "product": "POD"}
    rtx = (await client.get(f"/catalog/gpus/{quote(RTX_4090)}", params=params)).json()
    assert rtx["availability"] == "HIGH"
    levels = {dc["id"]: dc["availability"] for dc in rtx["dataCenters"]}
    assert levels["EU-SE-1"] == "HIGH"
    assert levels["US-KS-2"] == "LOW"
    assert rtx["cudaVersions"][0]["available"] is True
    pairs = (
        await client.get(f"/catalog/gpus/{quote(RTX_4090)}", params={**params, "count": "2"})
    ).json()
    assert {dc["id"]: dc["availability"] for dc in pairs["dataCenters"]}["US-KS-2"] == "NONE"
    swedish = await client.get("/catalog/gpus", params={**params, "countryCodes": "SE"})
    ids = {gpu["id"] for gpu in swedish.json()["gpus"]}
    assert RTX_4090 in ids
    everywhere = (await client.get("/catalog/gpus", params=params)).json()["gpus"]
    sold_out = next(gpu for gpu in everywhere if gpu["id"] == "NVIDIA H200")
    assert sold_out["availability"] == "NONE"


async def test_catalog_query_rules(client: httpx.AsyncClient) -> None:
    assert (await client.get("/catalog/gpus", params={"product": "POD"})).status_code == 400
    assert (await client.get("/catalog/gpus", params={"cloud": "SECURE"})).status_code == 400
    assert (
        await client.get("/catalog/gpus", params={"include": "AVAILABILITY"})
    ).status_code == 400
    both = {
        "include": "AVAILABILITY",
        "product": "POD",
        "cudaVersions": "12.8",
        "minCudaVersion": "12",
    }
    assert (await client.get("/catalog/gpus", params=both)).status_code == 400
    assert (await client.get("/catalog/gpus", params={"include": "PRICES"})).status_code == 422
    bad_country = {"include": "AVAILABILITY", "product": "POD", "countryCodes": "france"}
    assert (await client.get("/catalog/gpus", params=bad_country)).status_code == 422
    assert (await client.get("/catalog/gpus/NVIDIA%20GTX%209999")).status_code == 404


async def test_data_centers(client: httpx.AsyncClient) -> None:
    all_dcs = (await client.get("/catalog/datacenters")).json()["dataCenters"]
    assert len(all_dcs) == 26
    assert not any("gpuAvailability" in dc for dc in all_dcs)
    europe = await client.get(
        "/catalog/datacenters",
        params={"regions": "EUROPE", "include": "GPU_AVAILABILITY", "globalNetwork": "true"},
    )
    dcs = europe.json()["dataCenters"]
    assert dcs
    assert all(dc["region"] == "EUROPE" and dc["globalNetwork"] for dc in dcs)
    assert all("gpuAvailability" in dc for dc in dcs)
    fast = await client.get(
        "/catalog/datacenters", params={"networkVolumeTypes": "STANDARD,HIGH_PERFORMANCE"}
    )
    assert all("HIGH_PERFORMANCE" in dc["networkVolumeTypes"] for dc in fast.json()["dataCenters"])
    one = (await client.get("/catalog/datacenters/US-KS-2")).json()
    assert one["id"] == "US-KS-2"
    assert (await client.get("/catalog/datacenters/MARS-1")).status_code == 404
    assert (await client.get("/catalog/datacenters", params={"regions": "MARS"})).status_code == 422


async def test_public_templates(client: httpx.AsyncClient) -> None:
    official = (await client.get("/catalog/templates")).json()["templates"]
    assert {t["id"] for t in official} >= {"cw3nka7d08", "runpod-torch-v280"}
    comfy = (await client.get("/templates/cw3nka7d08")).json()
    assert comfy["image"] == "runpod/comfyui:latest"
    assert comfy["public"] is True
    assert (await client.get("/catalog/templates", params={"source": "verified"})).json() == {
        "templates": []
    }
