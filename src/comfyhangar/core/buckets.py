"""UTC time buckets (hour, day, week, month, year) for spend over time. Pure functions.

Shared by the server's cost history and the RunPod emulator's billing, so both cut time at the
same edges: days start at 00:00 UTC, weeks on Monday, months on the 1st, years on 1 January.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def floor_bucket(moment: datetime, size: str) -> datetime:
    """The start of the UTC `size` bucket holding the aware `moment` (weeks start on Monday)."""
    start = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if size == "hour":
        return start
    start = start.replace(hour=0)
    if size == "day":
        return start
    if size == "week":
        return start - timedelta(days=start.weekday())
    start = start.replace(day=1)
    return start if size == "month" else start.replace(month=1)


def next_bucket(start: datetime, size: str) -> datetime:
    """The start of the bucket after the one starting at `start`."""
    if size == "hour":
        return start + timedelta(hours=1)
    if size == "day":
        return start + timedelta(days=1)
    if size == "week":
        return start + timedelta(days=7)
    if size == "month":
        years, month = divmod(start.month, 12)
        return start.replace(year=start.year + years, month=month + 1)
    return start.replace(year=start.year + 1)
