"""The idle clock's rules (core/idle.py), with every kind of signal, on a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comfyhangar.core.idle import (
    Act,
    IdleClock,
    IdleMode,
    IdlePolicy,
    IdlePolicyError,
    Signal,
    assess_busy,
    assess_ready,
    assess_stopped,
    keep_awake_until,
)

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
POLICY = IdlePolicy(idle_minutes=30, warn_minutes=5)
QUIET = (
    Signal("comfyui", False, "no prompt running or queued"),
    Signal("setup", False, "no setup step in progress"),
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def run(
    policy: IdlePolicy,
    looks: list[tuple[float, tuple[Signal, ...]]],
    clock: IdleClock | None = None,
) -> tuple[list[Act], IdleClock]:
    """Looks at the given minutes with their signals, carrying the clock as the guard does."""
    clock = clock or IdleClock(last_activity_at=T0)
    acts = []
    for at, signals in looks:
        verdict = assess_ready(policy, clock, signals, minutes(at))
        clock = verdict.clock
        acts.append(verdict.act)
    return acts, clock


def test_a_quiet_pod_is_warned_at_25_minutes_then_stopped_at_30() -> None:
    acts, clock = run(POLICY, [(m, QUIET) for m in (10, 24.9, 25, 29.9, 30)])
    assert acts == [Act.NOTHING, Act.NOTHING, Act.WARN, Act.NOTHING, Act.STOP]
    assert clock.warned_at == minutes(25)
    assert clock.last_activity_at == T0  # idle since then: the event says how long


def test_terminate_mode_terminates() -> None:
    policy = IdlePolicy(mode=IdleMode.TERMINATE, idle_minutes=30, warn_minutes=5)
    acts, _ = run(policy, [(25, QUIET), (30, QUIET)])
    assert acts == [Act.WARN, Act.TERMINATE]


@pytest.mark.parametrize(
    "signal",
    [
        Signal("comfyui", True, "1 prompt(s) running or queued"),
        Signal("comfyui", True, "a prompt finished since the last look"),
        Signal("setup", True, "setup in progress: models"),
        Signal("runs", True, "a run of ours is queued for this pod"),
        Signal("comfyui", True, "cannot read ComfyUI's queue: timed out", unreadable=True),
    ],
    ids=["queued", "finished", "downloads", "run", "unreadable"],
)
def test_any_active_signal_resets_the_clock_and_withdraws_the_warning(signal: Signal) -> None:
    acts, clock = run(POLICY, [(26, QUIET), (29, (*QUIET, signal)), (30, QUIET), (53, QUIET)])
    assert acts == [Act.WARN, Act.NOTHING, Act.NOTHING, Act.NOTHING]
    assert clock.last_activity_at == minutes(29)
    assert clock.warned_at is None
    verdict = assess_ready(POLICY, clock, QUIET, minutes(29 + 25))
    assert verdict.act is Act.WARN  # counted afresh from the activity


def test_a_prompt_running_for_hours_is_never_stopped() -> None:
    busy = (Signal("comfyui", True, "1 prompt(s) running or queued"),)
    acts, _ = run(POLICY, [(m, busy) for m in range(0, 600, 7)])
    assert set(acts) == {Act.NOTHING}


def test_the_active_signals_are_reported() -> None:
    queued = Signal("comfyui", True, "2 prompt(s) running or queued")
    verdict = assess_ready(POLICY, IdleClock(T0), (*QUIET, queued), minutes(40))
    assert verdict.active == (queued,)
    assert verdict.deadline is None


def test_keep_awake_holds_off_the_action_and_the_clock_counts_from_its_end() -> None:
    clock = IdleClock(last_activity_at=T0, keep_awake_until=minutes(120))
    acts, clock = run(POLICY, [(m, QUIET) for m in (30, 60, 119)], clock)
    assert acts == [Act.NOTHING] * 3
    acts, clock = run(POLICY, [(121, QUIET), (144, QUIET), (145, QUIET), (150, QUIET)], clock)
    assert acts == [Act.NOTHING, Act.NOTHING, Act.WARN, Act.STOP]


def test_the_warning_always_comes_first_and_gives_its_minutes() -> None:
    """A server that was down past the deadline warns on its first look, acts 5 min later."""
    acts, _ = run(POLICY, [(90, QUIET), (92, QUIET), (95, QUIET)])
    assert acts == [Act.WARN, Act.NOTHING, Act.STOP]


def test_no_warning_minutes_acts_at_the_deadline() -> None:
    policy = IdlePolicy(idle_minutes=30, warn_minutes=0)
    acts, _ = run(policy, [(29, QUIET), (30, QUIET)])
    assert acts == [Act.NOTHING, Act.STOP]


def test_the_first_look_starts_the_clock() -> None:
    """A deployment the guard has not looked at since ready starts counting now."""
    verdict = assess_ready(POLICY, IdleClock(), QUIET, minutes(500))
    assert verdict.act is Act.NOTHING
    assert verdict.clock.last_activity_at == minutes(500)


def test_off_never_acts() -> None:
    policy = IdlePolicy(mode=IdleMode.OFF)
    acts, _ = run(policy, [(m, QUIET) for m in (30, 60, 6000)])
    assert set(acts) == {Act.NOTHING}


def test_setup_is_never_idle_time() -> None:
    clock = assess_busy(IdleClock(last_activity_at=T0, warned_at=minutes(25)), minutes(40))
    assert clock == IdleClock(last_activity_at=minutes(40), warned_at=None)


def test_the_deadline_is_a_moment_a_restart_continues() -> None:
    _, clock = run(POLICY, [(10, QUIET)])
    # ... the server restarts; the stored clock is all it has.
    verdict = assess_ready(POLICY, IdleClock(clock.last_activity_at), QUIET, minutes(20))
    assert verdict.deadline is not None
    assert verdict.deadline.acts_at == minutes(30)
    assert verdict.deadline.warn_at == minutes(25)


def test_terminate_after_days_stopped() -> None:
    policy = IdlePolicy(terminate_after_stopped_days=3, warn_minutes=5)
    three_days = 3 * 24 * 60
    assert assess_stopped(policy, T0, None, minutes(three_days - 6))[0] is Act.NOTHING
    act, due = assess_stopped(policy, T0, None, minutes(three_days - 5))
    assert act is Act.WARN
    assert due is not None
    assert due.acts_at == minutes(three_days)
    warned = minutes(three_days - 5)
    assert assess_stopped(policy, T0, warned, minutes(three_days - 1))[0] is Act.NOTHING
    assert assess_stopped(policy, T0, warned, minutes(three_days))[0] is Act.TERMINATE
    never = IdlePolicy(terminate_after_stopped_days=None)
    assert assess_stopped(never, T0, None, minutes(10**6)) == (Act.NOTHING, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"idle_minutes": 0.0}, "idle_minutes"),
        ({"idle_minutes": -5.0}, "idle_minutes"),
        ({"idle_minutes": 365 * 24 * 60.0}, "idle_minutes"),
        ({"warn_minutes": 30.0}, "warn_minutes"),
        ({"warn_minutes": 45.0}, "warn_minutes"),
        ({"warn_minutes": -1.0}, "warn_minutes"),
        ({"terminate_after_stopped_days": 0.0}, "terminate_after_stopped_days"),
        ({"terminate_after_stopped_days": 365.0}, "terminate_after_stopped_days"),
    ],
)
def test_bad_policies_name_the_field(changes: dict[str, float], field: str) -> None:
    with pytest.raises(IdlePolicyError) as caught:
        POLICY.with_changes(**changes)
    assert caught.value.field == field


def test_keep_awake_is_bounded() -> None:
    assert keep_awake_until(T0, timedelta(hours=2)) == minutes(120)
    for bad in (timedelta(0), timedelta(seconds=30), timedelta(hours=25), timedelta(days=-1)):
        with pytest.raises(ValueError, match="between"):
            keep_awake_until(T0, bad)


# --- properties over many random days ---------------------------------------------------------

LOOK = st.tuples(
    st.floats(min_value=0.1, max_value=20, allow_nan=False),  # minutes since the last look
    st.booleans(),  # a signal active at this look
    st.sampled_from([None, 0.0, 30.0, 120.0]),  # a keep-awake asked just before, in minutes
)


@settings(max_examples=300, deadline=None)
@given(
    looks=st.lists(LOOK, min_size=1, max_size=80),
    idle=st.sampled_from([5.0, 30.0, 90.0]),
    warn=st.sampled_from([0.0, 1.0, 4.0]),
)
def test_never_acts_on_a_used_pod_early_or_without_its_warning(
    looks: list[tuple[float, bool, float | None]], idle: float, warn: float
) -> None:
    policy = IdlePolicy(idle_minutes=idle, warn_minutes=warn)
    clock = IdleClock(last_activity_at=T0)
    now = T0
    last_activity = T0
    for gap, active, keep in looks:
        now += timedelta(minutes=gap)
        if keep is not None and keep > 0:
            clock = IdleClock(clock.last_activity_at, None, now + timedelta(minutes=keep))
        signals = (Signal("comfyui", active, "busy" if active else "quiet"),)
        verdict = assess_ready(policy, clock, signals, now)
        if active:
            last_activity = now
            assert verdict.act is Act.NOTHING
        if verdict.act is Act.STOP:
            warned = verdict.clock.warned_at  # at this look only when warn_minutes is 0
            assert warned is not None  # the warning came first ...
            assert now - warned >= policy.warn  # ... its minutes before
            assert now - last_activity >= policy.idle  # idle the whole policy
            awake = clock.keep_awake_until
            assert awake is None or now >= awake + policy.idle  # a keep-awake held
            return  # stopped: nothing more happens to this pod
        clock = verdict.clock
