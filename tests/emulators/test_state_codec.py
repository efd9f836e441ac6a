"""The plain form of stored records: exact round trips, new fields, and data that does not fit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.emulators.runpod.clock import ClockAnchor
from comfyhangar.emulators.runpod.codec import PlainError, from_plain, to_plain
from comfyhangar.emulators.runpod.model import NetworkVolume, Phase, Pod
from tests.emulators.conftest import FROZEN, pod_body

MOMENT = datetime(2026, 6, 1, 12, 0, 3, 123456, tzinfo=UTC)


def stored(record: Any) -> Any:
    """Through JSON text, as a state file holds it."""
    return json.loads(json.dumps(to_plain(record)))


def to_plain_pod_without(name: str) -> dict[str, Any]:
    """A stored pod as a version without the field `name` wrote it."""
    emu = RunPodEmulator()
    data: dict[str, Any] = stored(emu.create_pod(pod_body()))
    del data[name]
    return data


def test_a_pod_and_a_volume_come_back_equal_in_every_field() -> None:
    emu = RunPodEmulator(EmulatorConfig(speed=FROZEN))
    pod = emu.create_pod(pod_body(mounts={"persistent": {"size": 20, "path": "/workspace"}}))
    emu.clock.advance(9)
    back = from_plain(Pod, stored(pod))
    # Kept apart: the store writes phases and log lines as rows of their own.
    assert "logs" not in to_plain(pod)
    assert "phases" not in to_plain(pod)
    back.logs, back.phases = pod.logs, [from_plain(Phase, stored(p)) for p in pod.phases]
    assert back == pod
    volume = NetworkVolume("v1", "models", "EU-RO-1", "STANDARD", MOMENT, [(MOMENT, 50)])
    volume.sizes.append((MOMENT + timedelta(hours=1), 80))
    assert from_plain(NetworkVolume, stored(volume)) == volume


def test_money_and_time_are_exact() -> None:
    @dataclass
    class Entry:
        amount: Decimal
        at: datetime
        rate: float

    entry = Entry(Decimal("0.1234567890123456789"), MOMENT, 2)
    back = from_plain(Entry, stored(entry))
    assert back == entry
    assert back.at.tzinfo is not None
    assert isinstance(back.rate, float)


def test_a_field_added_later_takes_its_default_from_older_data() -> None:
    @dataclass
    class Before:
        id: str

    @dataclass
    class After:  # the same record, one line longer
        id: str
        models: list[tuple[str, int]] = field(default_factory=list)

    assert from_plain(After, stored(Before("p1"))) == After("p1", [])
    old_pod = to_plain_pod_without("global_networking_next")
    assert from_plain(Pod, old_pod).global_networking_next is None


def test_a_field_this_version_does_not_know_is_refused() -> None:
    data = to_plain_pod_without("locked") | {"hubModels": []}
    with pytest.raises(PlainError, match=r"unknown field 'hubModels' of Pod \(written by a newer"):
        from_plain(Pod, data)


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        ({"gpu_count": "1"}, "$.gpu_count", "expected an integer, got str"),
        ({"locked": 1}, "$.locked", "expected a boolean, got int"),
        ({"gpu_price": 0.69}, "$.gpu_price", "expected a decimal number as a string"),
        ({"created_at": "2026-06-01T12:00:00"}, "$.created_at", "with an offset"),
        ({"ports": "8188/http"}, "$.ports", "expected a list"),
        ({"env": {"A": 1}}, "$.env.A", "expected a string, got int"),
    ],
)
def test_a_value_of_the_wrong_type_names_where_it_is(
    change: dict[str, Any], where: str, what: str
) -> None:
    with pytest.raises(PlainError) as refused:
        from_plain(Pod, to_plain_pod_without("locked") | change)
    assert refused.value.where == where
    assert what in str(refused.value)


def test_a_value_deep_inside_names_its_path() -> None:
    volume = stored(NetworkVolume("v1", "models", "EU-RO-1", "STANDARD", MOMENT, [(MOMENT, 50)]))
    volume["sizes"].append([1, 80])
    with pytest.raises(PlainError) as refused:
        from_plain(NetworkVolume, volume)
    assert refused.value.where == "$.sizes[1][0]"
    assert "expected an ISO 8601 time" in str(refused.value)


def test_a_missing_field_without_default_is_refused() -> None:
    with pytest.raises(PlainError, match="missing field 'gpu_id' of Pod"):
        from_plain(Pod, to_plain_pod_without("gpu_id"))


def test_a_clock_reading_resumes_at_the_speed_it_ran_and_never_backwards() -> None:
    anchor = from_plain(ClockAnchor, stored(ClockAnchor(MOMENT, 1_000_000.0, 20.0)))
    assert anchor.resume(1_000_010.0) == MOMENT + timedelta(seconds=200)
    assert anchor.resume(999_000.0) == MOMENT
