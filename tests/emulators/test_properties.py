"""Properties over random histories: billing does not depend on bucketing; resumes are exact."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from comfyhangar.core.buckets import floor_bucket
from comfyhangar.emulators.runpod import EmulatorConfig, RunPodEmulator
from comfyhangar.emulators.runpod.billing import BillingWindow, pod_billing
from comfyhangar.emulators.runpod.problems import ApiError
from tests.emulators.conftest import FROZEN, pod_body

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "stop", "start", "restart", "terminate", "log"]),
        st.integers(min_value=0, max_value=4),  # which pod
        st.integers(min_value=0, max_value=20_000),  # seconds to wait afterwards
    ),
    max_size=25,
)


def _play(steps: list[tuple[str, int, int]]) -> RunPodEmulator:
    emu = RunPodEmulator(EmulatorConfig(speed=FROZEN, seed=5))
    ids: list[str] = []
    for action, which, wait in steps:
        try:
            if action == "create":
                ids.append(emu.create_pod(pod_body(name=f"p{len(ids)}")).id)
            elif ids and action == "log":
                emu.append_log(ids[which % len(ids)], f"line after {wait}")
            elif ids:
                emu.act(ids[which % len(ids)], action)
        except ApiError:
            pass  # 409, 404 and capacity refusals are part of the game
        emu.clock.advance(wait)
    return emu


@settings(max_examples=40, deadline=None)
@given(STEPS)
def test_billing_totals_do_not_depend_on_bucket_size(steps: list[tuple[str, int, int]]) -> None:
    emu = _play(steps)
    now = emu.clock.now()
    start = floor_bucket(now - timedelta(days=2), "year")
    totals = set()
    for size in ("hour", "day", "month"):
        end = floor_bucket(now, size) + timedelta(days=40)
        body = pod_billing(emu.billed_pods(), BillingWindow(start, end, size), now, None)
        assert body["metadata"]["recordCount"] == len(body["records"])
        assert all(record["totalAmount"] >= 0 for record in body["records"])
        totals.add(round(Decimal(str(body["metadata"]["totals"]["totalAmount"])), 4))
    assert len(totals) == 1
    assert abs(emu.balance - (500 - float(totals.pop()))) < 1e-3


@settings(max_examples=40, deadline=None)
@given(STEPS, st.integers(min_value=0, max_value=100))
def test_resuming_after_any_event_gives_exactly_the_rest(
    steps: list[tuple[str, int, int]], cut: int
) -> None:
    emu = _play([("create", 0, 5), *steps])
    for pod in emu.billed_pods():
        pod.logs.materialize(emu.clock.now())
        lines = pod.logs.lines
        assert [line.seq for line in lines] == list(range(1, len(lines) + 1))
        assert all(a.ts <= b.ts for a, b in itertools.pairwise(lines))
        if not lines:
            continue
        resume_after = lines[cut % len(lines)]
        start = pod.logs.start_index(resume_after.event_id, None, 100, None)
        assert lines[start:] == lines[cut % len(lines) + 1 :]
