"""`GET /deployments` pages with `limit` and `offset`, newest first; without them, all."""

from __future__ import annotations

from tests.api.conftest import FLUX_DEPLOY, Hangar


async def test_limit_and_offset_page_through_newest_first(hangar: Hangar) -> None:
    made = []
    for n in range(5):
        response = await hangar.http.post(
            "/api/v1/deployments", json={**FLUX_DEPLOY, "name": f"p{n}"}
        )
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    newest_first = list(reversed(made))

    async def ids(query: str) -> list[str]:
        response = await hangar.http.get(f"/api/v1/deployments{query}")
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()["deployments"]]

    assert await ids("") == newest_first
    assert await ids("?limit=2") == newest_first[:2]
    assert await ids("?limit=2&offset=2") == newest_first[2:4]
    assert await ids("?offset=4") == newest_first[4:]
    assert await ids("?limit=2&offset=5") == []
    for bad in ("?limit=0", "?limit=1001", "?offset=-1"):
        response = await hangar.http.get(f"/api/v1/deployments{bad}")
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_input"
