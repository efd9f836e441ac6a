"""The idle clock: when a pod nobody uses gets a warning, and when it is stopped or terminated.

Pure functions, no I/O. The idle guard (server/background/idle_guard.py) reads the activity
signals of each ready deployment, feeds them here with the clock it keeps in the database, and
gets back the clock to store and what to do now.

Rules:
- The clock is "last activity at", a moment, never a countdown: a restart of the server
  continues it. A deployment that is not ready (creating, installing, restarting...) is busy:
  setup is never idle time, so its clock is set to now on every look.
- Any active signal (a prompt running, queued or finished since the last look; downloads; a
  run of ours queued; a signal that cannot be read) sets the clock to now and withdraws a
  warning given. "Keep awake" holds off any action until the moment asked for; the idle
  count then starts from that moment (the last activity itself stays what it was).
- The warning comes `warn_minutes` before the action; the action comes no sooner than
  `idle_minutes` after the last activity, and never before the warning has been out for
  `warn_minutes` (after a server that was down past the deadline, the warning still comes first).
- The second timer: a deployment stopped (by anyone) for `terminate_after_stopped_days` is
  terminated, with its own warning `warn_minutes` before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_IDLE_MINUTES = 30.0
DEFAULT_WARN_MINUTES = 5.0
MAX_IDLE_MINUTES = 7 * 24 * 60.0  # a week: longer is no idle guard at all
MAX_STOPPED_DAYS = 90.0
MIN_KEEP_AWAKE = timedelta(minutes=1)
MAX_KEEP_AWAKE = timedelta(hours=24)
# The agent's switch waits this much longer than the server's guard would (a server restart,
# a network blip): it is the fallback, not a second guard racing the first.
AGENT_GRACE = timedelta(minutes=15)


class IdleMode(StrEnum):
    """What the guard does to a pod idle for `idle_minutes`."""

    STOP = "stop"
    TERMINATE = "terminate"
    OFF = "off"


class IdlePolicyError(ValueError):
    """A policy value out of bounds; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class IdlePolicy:
    """One deployment's idle policy (or the server-wide default)."""

    mode: IdleMode = IdleMode.STOP
    idle_minutes: float = DEFAULT_IDLE_MINUTES
    warn_minutes: float = DEFAULT_WARN_MINUTES
    # Terminate a deployment stopped this long (None: never).
    terminate_after_stopped_days: float | None = None

    def check(self) -> IdlePolicy:
        """This policy, or `IdlePolicyError` naming the first bad field."""
        if not 0 < self.idle_minutes <= MAX_IDLE_MINUTES:
            raise IdlePolicyError(
                "idle_minutes", f"must be more than 0 and at most {MAX_IDLE_MINUTES:g} (a week)"
            )
        if self.warn_minutes < 0:
            raise IdlePolicyError("warn_minutes", "must be 0 or more")
        if self.warn_minutes >= self.idle_minutes:
            raise IdlePolicyError(
                "warn_minutes",
                f"must be less than idle_minutes ({self.idle_minutes:g}): the warning comes "
                "before the pod is stopped",
            )
        days = self.terminate_after_stopped_days
        if days is not None and not 0 < days <= MAX_STOPPED_DAYS:
            raise IdlePolicyError(
                "terminate_after_stopped_days",
                f"must be more than 0 and at most {MAX_STOPPED_DAYS:g}, or null for never",
            )
        return self

    def with_changes(self, **changes: object) -> IdlePolicy:
        """A copy with `changes` (field name to value), checked."""
        return replace(self, **changes).check()  # type: ignore[arg-type]

    @property
    def agent_limit_s(self) -> float:
        """What the pod agent's own switch waits, without word from the server and with
        nothing running, before it stops its pod: the policy plus `AGENT_GRACE` (0: off)."""
        if self.mode is IdleMode.OFF:
            return 0.0
        return (self.idle + self.warn + AGENT_GRACE).total_seconds()

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.idle_minutes)

    @property
    def warn(self) -> timedelta:
        return timedelta(minutes=self.warn_minutes)


@dataclass(frozen=True)
class Signal:
    """One activity source's reading. A source that cannot be read is active (`unreadable`).

    `memo` is what the source wants to compare with next time (ComfyUI's newest history
    entry, say): the guard stores it with the reading.
    """

    source: str
    active: bool
    reason: str
    unreadable: bool = False
    memo: str | None = None


@dataclass(frozen=True)
class IdleClock:
    """What the guard keeps per deployment in the database."""

    last_activity_at: datetime | None = None
    warned_at: datetime | None = None
    keep_awake_until: datetime | None = None


class Act(StrEnum):
    NOTHING = "nothing"
    WARN = "warn"
    STOP = "stop"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class Deadline:
    """When the warning comes and when the action does, counted from `since`."""

    since: datetime
    warn_at: datetime
    acts_at: datetime


@dataclass(frozen=True)
class Verdict:
    clock: IdleClock  # to store
    act: Act
    deadline: Deadline | None  # None: nothing is counting (active, kept awake, or off)
    active: tuple[Signal, ...]  # the signals that kept it awake now


def deadline(
    since: datetime, limit: timedelta, warn: timedelta, warned_at: datetime | None
) -> Deadline:
    """The warning `warn` before `since + limit`; the action then, but never sooner than
    `warn` after a warning actually given."""
    acts_at = since + limit
    if warned_at is not None:
        acts_at = max(acts_at, warned_at + warn)
    return Deadline(since, acts_at - warn if warned_at is None else warned_at, acts_at)


def _due(due: Deadline, warned_at: datetime | None, now: datetime, action: Act) -> Act:
    if warned_at is None:
        return Act.WARN if now >= due.warn_at else Act.NOTHING
    return action if now >= due.acts_at else Act.NOTHING


def assess_ready(
    policy: IdlePolicy, clock: IdleClock, signals: Iterable[Signal], now: datetime
) -> Verdict:
    """The verdict on a ready deployment given its activity `signals` read at `now`."""
    active = tuple(s for s in signals if s.active)
    if policy.mode is IdleMode.OFF or active or clock.last_activity_at is None:
        busy = replace(clock, last_activity_at=now, warned_at=None)
        return Verdict(busy, Act.NOTHING, None, active)
    if clock.keep_awake_until is not None and clock.keep_awake_until > now:
        return Verdict(replace(clock, warned_at=None), Act.NOTHING, None, ())
    since = idle_since(clock)
    due = deadline(since, policy.idle, policy.warn, clock.warned_at)
    action = Act.STOP if policy.mode is IdleMode.STOP else Act.TERMINATE
    act = _due(due, clock.warned_at, now, action)
    warned_at = now if act is Act.WARN else clock.warned_at
    if act is Act.WARN:
        due = deadline(since, policy.idle, policy.warn, now)
        if now >= due.acts_at:
            act = action  # no warning time asked for (warn_minutes 0): act at once
    return Verdict(replace(clock, warned_at=warned_at), act, due, ())


def idle_since(clock: IdleClock) -> datetime:
    """Where the idle count starts: the last activity, or the end of a keep-awake after it."""
    assert clock.last_activity_at is not None  # noqa: S101 - the caller checked
    if clock.keep_awake_until is not None and clock.keep_awake_until > clock.last_activity_at:
        return clock.keep_awake_until
    return clock.last_activity_at


def assess_busy(clock: IdleClock, now: datetime) -> IdleClock:
    """The clock of a deployment that is not ready: setup (or a start) is never idle time."""
    return replace(clock, last_activity_at=now, warned_at=None)


def assess_stopped(
    policy: IdlePolicy, stopped_since: datetime, warned_at: datetime | None, now: datetime
) -> tuple[Act, Deadline | None]:
    """The second timer: terminate a deployment stopped `terminate_after_stopped_days`."""
    days = policy.terminate_after_stopped_days
    if policy.mode is IdleMode.OFF or days is None:
        return Act.NOTHING, None
    due = deadline(stopped_since, timedelta(days=days), policy.warn, warned_at)
    act = _due(due, warned_at, now, Act.TERMINATE)
    if act is Act.WARN:
        due = deadline(stopped_since, timedelta(days=days), policy.warn, now)
    return act, due


def keep_awake_until(now: datetime, duration: timedelta) -> datetime:
    """The end of a keep-awake of `duration` from `now`; `ValueError` out of bounds."""
    if not MIN_KEEP_AWAKE <= duration <= MAX_KEEP_AWAKE:
        raise ValueError(f"must be between {_span(MIN_KEEP_AWAKE)} and {_span(MAX_KEEP_AWAKE)}")
    return now + duration


def _span(value: timedelta) -> str:
    minutes = value.total_seconds() / 60
    return f"{minutes / 60:g} hours" if minutes >= 60 else f"{minutes:g} minute(s)"
