"""The run dispatcher: posts queued runs to their ComfyUI, follows them, copies outputs home.

One process acts on a run at a time: it takes the run's lease (leases.py, `model=Run`) and
renews it while it follows the run; a process killed mid-run leaves the lease to expire and
another (or the restarted one) takes over. What makes that safe:

- the prompt id was chosen and committed with the run; `submit` looks for that id in `/queue`
  and `/history` before it ever posts, so a run is never posted twice, whatever was cut off;
- the WebSocket uses the run's recorded client id, so a process that takes over gets the
  prompt's events on its own socket, and reconciles from `/queue` and `/history` when it drops;
- every output is copied under a key of its own and recorded with its `run_output` event in one
  transaction, unique per (run, node, file): a copy repeated after a crash replaces the file and
  adds no row; the end copies whatever the events did not bring;
- every state change commits with its event (`run_progress`, throttled, `run_finished`).

A cancel asked of a run sets `cancel_requested`; its dispatcher (here or in another replica,
which reads the flag at each lease renewal) deletes the prompt if it waits, or interrupts it
by its id if it runs: no other prompt is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.comfyui import (
    ComfyUIUnreachable,
)
from comfyhangar.server.background.leases import Lease, LeaseLostError, acquire
from comfyhangar.server.background.run_follower import DispatchSettings, FollowEnded, RunFollower
from comfyhangar.server.db.models import Run
from comfyhangar.server.services.comfyui_access import ComfyUIAccess
from comfyhangar.server.services.comfyui_clients import ComfyUIClients
from comfyhangar.server.services.output_store import (
    OutputStore,
)
from comfyhangar.server.services.runs import (
    ACTIVE_STATES,
)

log = logging.getLogger(__name__)
# A run whose ComfyUI could not be reached before it was posted (or whose following failed
# unexpectedly) is taken up again after this.
UNREACHABLE_RETRY_S = 5.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Takes up runs that nobody follows and drives each to its end (see the module doc)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clients: ComfyUIClients,
        store: OutputStore,
        access: ComfyUIAccess,
        settings: DispatchSettings | None = None,
    ) -> None:
        self._sessions = sessions
        self._clients = clients
        self._store = store
        self._access = access
        self.settings = settings or DispatchSettings()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._active: dict[str, asyncio.Task[None]] = {}
        self._nudges: dict[str, asyncio.Event] = {}
        # Runs whose ComfyUI was out of reach: not taken up again before this (monotonic).
        self._not_before: dict[str, float] = {}

    # --- the loop ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for runs now (a run was queued or a cancel asked)."""
        self._wake.set()
        for nudge in self._nudges.values():
            nudge.set()

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run_forever(), name="run-dispatcher")

    async def stop(self) -> None:
        """Stop following runs (their leases are released: another process goes on at once)."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_idle(self) -> None:
        """Until no run is followed by this process (tests)."""
        while self._active:
            await asyncio.gather(*self._active.values(), return_exceptions=True)

    @property
    def active(self) -> set[str]:
        return set(self._active)

    async def _run_forever(self) -> None:
        while True:
            try:
                await self.cycle()
            except Exception:
                log.exception("run dispatcher cycle failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_s)

    async def cycle(self) -> int:
        """Take up every run that is active and unleased; how many were taken."""
        room = self.settings.max_active - len(self._active)
        if room <= 0:
            return 0
        now = utcnow()
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Run.id, Run.version)
                    .where(
                        Run.state.in_(ACTIVE_STATES),
                        or_(Run.lock_token.is_(None), Run.lock_expires_at < now),
                    )
                    .order_by(Run.created_at, Run.batch_index)
                    .limit(room + len(self._active))
                )
            ).all()
        taken = 0
        for run_id, version in rows:
            if run_id in self._active or taken >= room:
                continue
            if self._not_before.get(run_id, 0.0) > time.monotonic():
                continue
            lease = await acquire(
                self._sessions, run_id, version, self.settings.lease_s, _TAKE_UP, model=Run
            )
            if lease is None:
                continue
            self._active[run_id] = asyncio.create_task(self._drive(lease), name=f"run:{run_id[:8]}")
            taken += 1
        return taken

    # --- one run -------------------------------------------------------------------------------

    async def _drive(self, lease: Lease) -> None:
        run_id = lease.deployment_id
        nudge = self._nudges.setdefault(run_id, asyncio.Event())
        try:
            await RunFollower(
                self._sessions,
                self._clients,
                self._store,
                self._access,
                self.settings,
                lease,
                nudge,
            ).drive()
        except (FollowEnded, LeaseLostError):
            self._not_before.pop(run_id, None)
        except ComfyUIUnreachable as error:
            log.warning(
                "run %s: its ComfyUI is out of reach (%s); tried again later", run_id, error
            )
            self._not_before[run_id] = time.monotonic() + UNREACHABLE_RETRY_S
            with contextlib.suppress(Exception):
                await lease.release()
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(lease.release())
            raise
        except Exception:
            log.exception("following run %s failed; it is taken up again", run_id)
            self._not_before[run_id] = time.monotonic() + UNREACHABLE_RETRY_S
            with contextlib.suppress(Exception):
                await lease.release()
        finally:
            self._active.pop(run_id, None)
            self._nudges.pop(run_id, None)


def _TAKE_UP() -> dict[str, Any]:  # noqa: N802 - a constant-like callback
    """Written with the lease: a queued run is being dispatched from now on (one commit)."""
    return {"state": case((Run.state == "queued", "dispatching"), else_=Run.state)}
