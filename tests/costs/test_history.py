"""Spend history, breakdowns and CSV export from hand-made meter segments (hand-computed sums).

Calendar: 2026-03-30 is a Monday. Segments (GPU $/h, disk $/h):
- A (pod pa, RTX 4090, 0.69 + 0.01): 03-31 22:00 → 04-01 02:00 (crosses the day and month edge),
  04-01 02:00 → 03:00, and 04-05 23:30 → 04-06 00:30 (crosses the week edge, Sunday → Monday);
- B (pod pb, A100, 2.00 + 0): 04-01 01:00 → 01:30;
- network volume nv1: 04-01 00:00 → 12:00, $0.01/h.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from comfyhangar.server.db.models import CostSegment, Deployment, VolumeCostSegment
from comfyhangar.server.runtime import Runtime
from comfyhangar.server.services.cost_history import csv_safe, to_csv
from tests.costs.conftest import api, frozen_runtime

A_NAME = 'flux, "the big one"'
B_NAME = '=HYPERLINK("http://x","y")'
RTX = "NVIDIA GeForce RTX 4090"
A100 = "NVIDIA A100 80GB PCIe"


def t(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{hm}:00").replace(tzinfo=UTC)


def segment(dep: str, pod: str, gpu: str, start: datetime, end: datetime, rates: tuple[str, str]):
    hours = Decimal((end - start).total_seconds()) / 3600
    gpu_rate, disk_rate = Decimal(rates[0]), Decimal(rates[1])
    return CostSegment(
        deployment_id=dep,
        pod_id=pod,
        start_at=start,
        end_at=end,
        status="RUNNING",
        gpu_type_id=gpu,
        gpu_rate=gpu_rate,
        disk_rate=disk_rate,
        gpu_amount=gpu_rate * hours,
        disk_amount=disk_rate * hours,
    )


async def seed(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        for dep_id, name in (("dep-a", A_NAME), ("dep-b", B_NAME)):
            session.add(
                Deployment(id=dep_id, name=name, spec={}, desired_state="running", state="running")
            )
        await session.flush()
        session.add_all(
            [
                segment(
                    "dep-a", "pa", RTX, t("03-31", "22:00"), t("04-01", "02:00"), ("0.69", "0.01")
                ),
                segment(
                    "dep-a", "pa", RTX, t("04-01", "02:00"), t("04-01", "03:00"), ("0.69", "0.01")
                ),
                segment(
                    "dep-a", "pa", RTX, t("04-05", "23:30"), t("04-06", "00:30"), ("0.69", "0.01")
                ),
                segment("dep-b", "pb", A100, t("04-01", "01:00"), t("04-01", "01:30"), ("2", "0")),
                VolumeCostSegment(
                    volume_id="nv1",
                    start_at=t("04-01", "00:00"),
                    end_at=t("04-01", "12:00"),
                    size_gb=104,
                    rate=Decimal("0.01"),
                    amount=Decimal("0.12"),
                ),
            ]
        )


def d(value: Any) -> Decimal:
    return Decimal(str(value))


def amounts(lines: list[dict[str, Any]], key: str) -> dict[str, Decimal]:
    return {line[key]: d(line["amount_usd"]) for line in lines}


async def test_days_split_exactly_at_midnight_and_zero_fill(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        await seed(runtime)
        response = await http.get(
            "/api/v1/costs/history",
            params={
                "bucket": "day",
                "start": "2026-03-30T00:00:00Z",
                "end": "2026-04-03T00:00:00Z",
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        days = body["buckets"]
        assert [b["start"][:10] for b in days] == [
            "2026-03-30",
            "2026-03-31",
            "2026-04-01",
            "2026-04-02",
        ]
        assert [d(b["total_usd"]) for b in days] == [
            Decimal(0),
            Decimal("1.40"),  # A: 2 h of 0.70
            Decimal("3.22"),  # A: 2 h + 1 h of 0.70; B: 0.5 h of 2.00; volume 0.12
            Decimal(0),
        ]
        april_first = days[2]
        assert d(april_first["gpu_usd"]) == Decimal("3.07")  # 3 × 0.69 + 1.00
        assert d(april_first["storage_usd"]) == Decimal("0.15")  # 3 × 0.01 + 0.12
        assert d(april_first["network_volume_usd"]) == Decimal("0.12")
        # Series: every deployment and GPU type in every bucket (zeros included), same order.
        assert [s["deployment_id"] for s in body["deployments"]] == ["dep-a", "dep-b"]
        assert body["deployments"][0]["name"] == A_NAME
        for bucket in days:
            assert [x["deployment_id"] for x in bucket["by_deployment"]] == ["dep-a", "dep-b"]
            assert [x["gpu_type_id"] for x in bucket["by_gpu"]] == [RTX, A100]
        assert amounts(april_first["by_deployment"], "deployment_id") == {
            "dep-a": Decimal("2.10"),
            "dep-b": Decimal("1.00"),
        }
        assert amounts(days[0]["by_gpu"], "gpu_type_id") == {RTX: Decimal(0), A100: Decimal(0)}
        assert d(body["totals"]["total_usd"]) == Decimal("4.62")
        assert all(b["complete"] for b in days)  # the cloud clock is now, after April 2026


async def test_weeks_start_monday_months_split_and_window_cuts(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        await seed(runtime)
        weeks = (
            await http.get(
                "/api/v1/costs/history",
                params={
                    "bucket": "week",
                    "start": "2026-04-01T12:00:00",
                    "end": "2026-04-13T00:00:00Z",
                },
            )
        ).json()
        # Buckets snap to Monday 03-30; the count starts at the window's start (12:00 on 04-01):
        # only the week-edge segment's Sunday half is left in week one.
        assert [b["start"][:10] for b in weeks["buckets"]] == ["2026-03-30", "2026-04-06"]
        assert [d(b["total_usd"]) for b in weeks["buckets"]] == [Decimal("0.35"), Decimal("0.35")]
        months = (
            await http.get(
                "/api/v1/costs/history",
                params={
                    "bucket": "month",
                    "start": "2026-03-01T00:00:00Z",
                    "end": "2026-05-01T00:00:00Z",
                },
            )
        ).json()
        assert [b["start"][:10] for b in months["buckets"]] == ["2026-03-01", "2026-04-01"]
        assert [d(b["total_usd"]) for b in months["buckets"]] == [Decimal("1.40"), Decimal("3.92")]
        by_dep = (
            await http.get(
                "/api/v1/costs/by-deployment",
                params={"start": "2026-03-31T23:00:00Z", "end": "2026-04-01T01:15:00Z"},
            )
        ).json()
        # A: 2.25 h of 0.70; B: 0.25 h of 2.00; volume: 1.25 h of 0.01.
        assert {x["deployment_id"]: d(x["total_usd"]) for x in by_dep["deployments"]} == {
            "dep-a": Decimal("1.575"),
            "dep-b": Decimal("0.5"),
        }
        assert d(by_dep["totals"]["total_usd"]) == Decimal("2.0875")
        by_gpu = (
            await http.get(
                "/api/v1/costs/by-gpu",
                params={"start": "2026-03-01T00:00:00Z", "end": "2026-05-01T00:00:00Z"},
            )
        ).json()
        assert [(g["gpu_type_id"], d(g["gpu_hours"])) for g in by_gpu["gpu_types"]] == [
            (RTX, Decimal(6)),
            (A100, Decimal("0.5")),
        ]
        bad = await http.get(
            "/api/v1/costs/history",
            params={
                "bucket": "day",
                "start": "2026-04-02T00:00:00Z",
                "end": "2026-04-01T00:00:00Z",
            },
        )
        assert bad.status_code == 422


async def test_csv_export_one_row_per_deployment_day_quoted_and_guarded(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        await seed(runtime)
        response = await http.get(
            "/api/v1/costs/export.csv",
            params={"start": "2026-03-31T00:00:00Z", "end": "2026-04-02T00:00:00Z"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"] == (
            'attachment; filename="comfyhangar-costs-2026-03-31-2026-04-02.csv"'
        )
        text = response.text
        assert text.endswith("\r\n")
        assert '"flux, ""the big one"""' in text  # RFC 4180 quoting
        rows = list(csv.reader(io.StringIO(text)))
        header, *data = rows
        assert header[:3] == ["date", "kind", "deployment_id"]
        table = [dict(zip(header, row, strict=True)) for row in data]
        assert [
            (r["date"], r["kind"], r["deployment_id"] or r["network_volume_id"]) for r in table
        ] == [
            ("2026-03-31", "pod", "dep-a"),
            ("2026-04-01", "network_volume", "nv1"),
            ("2026-04-01", "pod", "dep-a"),
            ("2026-04-01", "pod", "dep-b"),
        ]
        assert table[0]["deployment_name"] == A_NAME
        assert table[3]["deployment_name"] == "'" + B_NAME  # formula injection guard
        assert d(table[2]["total_usd"]) == Decimal("2.1")
        assert d(table[2]["gpu_hours"]) == Decimal(3)
        assert d(table[1]["storage_usd"]) == Decimal("0.12")


def test_csv_guard_and_quoting_rules() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(risky) == "'" + risky
    assert csv_safe("plain, text") == "plain, text"
    out = to_csv([["a,b", 'say "hi"', "line\nbreak", "=cmd"]], header=["w", "x", "y", "z"])
    assert out == 'w,x,y,z\r\n"a,b","say ""hi""","line\nbreak",\'=cmd\r\n'


async def test_absurd_times_are_refused_not_crashed_on(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime, api(runtime) as http:
        for params in (
            {"end": "0001-01-01T00:00:00Z"},
            {"start": "9999-12-31T00:00:00Z"},
            {"start": "0.5"},  # pydantic would read a Unix timestamp; the schema says date-time
        ):
            for path in ("history", "by-gpu", "export.csv", "reconciliation"):
                response = await http.get(f"/api/v1/costs/{path}", params=params)
                assert response.status_code == 422, (path, params, response.text)
