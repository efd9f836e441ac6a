"""`RunPodEmulator`: the simulated RunPod account (pods, stock, volumes, money) and its app."""

from __future__ import annotations

import asyncio
import functools
import hmac
import random
import string
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from comfyhangar.core.pricing import HOLDS_MACHINE_STATUSES
from comfyhangar.emulators.hub import HubEmulator
from comfyhangar.emulators.runpod import pods as placement
from comfyhangar.emulators.runpod.agent_runs import POD_ROOT, AgentRun, AgentRuns
from comfyhangar.emulators.runpod.billing import pod_amounts, volume_amount
from comfyhangar.emulators.runpod.catalog import GPUS_BY_ID
from comfyhangar.emulators.runpod.clock import SimClock
from comfyhangar.emulators.runpod.config import POD_KEY_PREFIX, EmulatorConfig
from comfyhangar.emulators.runpod.faults import Faults
from comfyhangar.emulators.runpod.locations import DCS_BY_ID, default_stock
from comfyhangar.emulators.runpod.model import NetworkVolume, Pod
from comfyhangar.emulators.runpod.pod_comfyui import PodComfyUIs
from comfyhangar.emulators.runpod.problems import ApiError, bad_request, not_found
from comfyhangar.emulators.runpod.ratelimit import RateLimiter
from comfyhangar.emulators.runpod.simulated_models import ModelFiles
from comfyhangar.emulators.runpod.simulated_setup import (
    BUNDLE_ENV,
    is_comfyui_started,
    is_hangar_pod,
    plan_for,
    setup_run,
)
from comfyhangar.emulators.runpod.store import AccountRecord, StockKey, StoredState, open_store
from comfyhangar.emulators.runpod.templates import public_templates

_ALNUM = string.ascii_lowercase + string.digits
_P = ParamSpec("_P")
_R = TypeVar("_R")
RngState = tuple[int, tuple[int, ...], float | None]


def _persisted(
    method: Callable[Concatenate[RunPodEmulator, _P], _R],
) -> Callable[Concatenate[RunPodEmulator, _P], _R]:
    """Commit what the call staged in the emulator's store when the outermost persisted call
    ends (returns or raises), so before any handler answers: what a client is told is stored."""

    @functools.wraps(method)
    def persisted(self: RunPodEmulator, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        self._commit_depth += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._commit_depth -= 1
            if self._commit_depth == 0:
                self._commit()
                self._wipe_committed()

    return persisted


class RunPodEmulator:
    """A faithful RunPod REST v2 account. Serve `app` (ASGI) under `/v2`.

    In memory by default; with `config.state_path` the account lives in that file and a new
    emulator on it continues where the last one stopped (`store.py`). Tests steer it with
    `clock.advance()`, `faults`, `set_stock()`, `set_balance()`, `append_log()` and
    `fail_pod()`, and read it back with `pods`, `all_pods` and `balance`.
    """

    def __init__(self, config: EmulatorConfig | None = None, *, hub: HubEmulator | None = None):
        from comfyhangar.emulators.runpod.api import build_app

        self.config = config or EmulatorConfig()
        self.hub = hub  # what simulated pods "download" from (None: the manifest is believed)
        self.faults = Faults()
        self.limiter = RateLimiter(
            self.config.rate_limit_per_minute,
            self.config.rate_limit_per_hour,
            self.config.rate_limit_per_day,
        )
        self._capacity: dict[StockKey, int] = default_stock()
        self._stock_set: dict[StockKey, int] = {}  # capacities set away from the default
        self._held: dict[str, tuple[StockKey, int]] = {}
        self._pods: dict[str, Pod] = {}
        self._volumes: dict[str, NetworkVolume] = {}
        self._templates: dict[str, dict[str, Any]] = {t["id"]: t for t in public_templates()}
        self._owned: set[str] = set()
        # GPU types this account may not use: creating a pod with one answers 403.
        self.forbidden_gpus: set[str] = set()
        self._waiters: set[asyncio.Event] = set()
        self._commit_depth = 0
        # Disks to delete once the action that dropped them is committed: (pod, volume too?)
        # and network volume ids.
        self._wipe_pods: list[tuple[Pod, bool]] = []
        self._wipe_volumes: list[str] = []
        self._store, stored = open_store(self.config.state_path)
        if stored is None:
            self.clock = SimClock(self.config.speed)
            self.rng = random.Random(self.config.seed)  # ids and secrets
            self.fault_rng = random.Random(self.rng.random())  # fault draws, apart from ids
            self.seed_text = str(
                self.config.seed if self.config.seed is not None else self.rng.random()
            )
            self._credit = Decimal(str(self.config.balance))
            self._store.stage_account()
        else:
            self._restore(stored)
        self.clock.on_advance(self.notify)
        self.clock.on_advance(self._clock_moved)
        sandbox = self.config.agent_sandbox
        self._agents = (
            AgentRuns(sandbox, self._agent_line)
            if self.config.setup == "agent" and sandbox is not None
            else None
        )
        # The pods' ComfyUI (`comfyui.app` serves it) and the disks its files live on.
        self.comfyui = PodComfyUIs(self, self.config.disks_path, self.config.node_packs)
        if stored is not None:
            self.enforce_balance(since=stored.clock.simulated)
            deleted = [v.id for v in self._volumes.values() if v.deleted_at is not None]
            self.comfyui.sweep(list(self._pods.values()), deleted)
        self._commit()  # a new file gets its account; a restored one the clock it resumed at
        self.app = build_app(self)

    # ---- persistence --------------------------------------------------------------------

    def _restore(self, state: StoredState) -> None:
        """Take the account a state file holds; simulated time ran on while it was closed."""
        self.clock = SimClock(self.config.speed, start=state.clock.resume(time.time()))
        account = state.account
        self.rng = random.Random()
        self.rng.setstate(account.rng_state)
        self.fault_rng = random.Random(f"{account.seed_text}:faults")
        self.seed_text = account.seed_text
        self._credit = account.credit
        self._stock_set = dict(account.stock)
        self._capacity.update(self._stock_set)
        self._pods = {pod.id: pod for pod in state.pods}
        if self.config.setup == "simulated":
            for pod in state.pods:
                self._recover_comfyui_at(pod)
        self._held = {pod.id: self._holding(pod) for pod in state.pods if pod.holds_gpus}
        self._volumes = {volume.id: volume for volume in state.volumes}
        for template in state.templates:
            self._templates[template["id"]] = template
            self._owned.add(template["id"])

    def _recover_comfyui_at(self, pod: Pod) -> None:
        """A RUNNING pod stored before `Pod.comfyui_at` existed: its ComfyUI answers from the
        "start done" line of the run of its current container start, if the run has one."""
        now = self.clock.now()
        started = pod.started_at(now)
        if pod.comfyui_at is not None or started is None or pod.status(now) != "RUNNING":
            return
        lines = [(ln.ts, ln.line) for ln in pod.logs.lines if ln.ts >= started]
        lines += [(ts, line) for ts, _, line in pod.logs.pending]
        pod.comfyui_at = next((ts for ts, line in lines if is_comfyui_started(line)), None)
        if pod.comfyui_at is not None:
            self._store.stage_pod(pod)

    def _account_record(self) -> AccountRecord:
        return AccountRecord(
            credit=self._credit,
            seed_text=self.seed_text,
            rng_state=cast(RngState, self.rng.getstate()),
            stock=list(self._stock_set.items()),
        )

    def _commit(self) -> None:
        self._store.commit(self.clock.anchor(), self._account_record)

    def _clock_moved(self) -> None:
        self._store.stage_clock()
        self._commit()

    def _wipe_committed(self) -> None:
        """Delete the disks of committed stops, failures, terminations and volume deletions
        (after the commit: a crash before it must not lose the files of a pod still up)."""
        pods, self._wipe_pods = self._wipe_pods, []
        volumes, self._wipe_volumes = self._wipe_volumes, []
        for pod, volume in pods:
            self.comfyui.wipe_pod(pod, volume=volume)
        for volume_id in volumes:
            self.comfyui.wipe_volume(volume_id)

    def close(self) -> None:
        """Release the state file (the account stays in it; a no-op in memory) and delete
        temporary pod disks."""
        self._store.close()
        self.comfyui.close()

    # ---- reading ----------------------------------------------------------------------

    @property
    def pods(self) -> list[dict[str, Any]]:
        """Live pods as `GET /v2/pods` shows them (TERMINATED ones excluded), oldest first."""
        return [p for p in self.all_pods if p["status"] != "TERMINATED"]

    @property
    def all_pods(self) -> list[dict[str, Any]]:
        """Every pod ever created, TERMINATED ones included, in creation order."""
        now = self.clock.now()
        return [pod.to_api(now, self.seed_text) for pod in self._pods.values()]

    def find_pod(self, pod_id: str) -> Pod | None:
        """A pod's record by id (terminated ones included), or None."""
        return self._pods.get(pod_id)

    def pod_record(self, pod_id: str) -> Pod:
        """The internal record of a pod that still exists (404 otherwise)."""
        pod = self._pods.get(pod_id)
        if pod is None or pod.status(self.clock.now()) == "TERMINATED":
            raise not_found("pod")
        return pod

    def visible_pods(self) -> list[Pod]:
        """Pods that still exist (not TERMINATED), in creation order."""
        now = self.clock.now()
        return [p for p in self._pods.values() if p.status(now) != "TERMINATED"]

    def listed_pods(self) -> list[Pod]:
        """Pods the API shows: existing, and past `faults.propagation_s` since their create."""
        now = self.clock.now()
        return [p for p in self.visible_pods() if self._propagated(p, now)]

    def api_pod(self, pod_id: str) -> Pod:
        """A pod as the API finds it: 404 when gone or still propagating."""
        pod = self.pod_record(pod_id)
        if not self._propagated(pod, self.clock.now()):
            raise not_found("pod")
        return pod

    def _propagated(self, pod: Pod, now: datetime) -> bool:
        return (now - pod.created_at).total_seconds() >= self.faults.propagation_s

    def billed_pods(self) -> list[Pod]:
        """Every pod ever created (terminated ones still appear in billing)."""
        return list(self._pods.values())

    def billed_volumes(self) -> list[NetworkVolume]:
        """Every network volume ever created (deleted ones still appear in billing)."""
        return list(self._volumes.values())

    def volume(self, volume_id: str) -> NetworkVolume:
        """A network volume that still exists (404 otherwise)."""
        volume = self._volumes.get(volume_id)
        if volume is None or volume.deleted_at is not None:
            raise not_found("network volume")
        return volume

    def volumes(self) -> list[NetworkVolume]:
        """Network volumes that still exist."""
        return [v for v in self._volumes.values() if v.deleted_at is None]

    def template(self, template_id: str) -> dict[str, Any]:
        """A readable template: the account's own or a public catalog one (404 otherwise)."""
        template = self._templates.get(template_id)
        if template is None:
            raise not_found("template")
        return template

    def templates(self, *, owned: bool) -> list[dict[str, Any]]:
        """The account's own templates (`owned=True`) or RunPod's public catalog ones."""
        return [t for t in self._templates.values() if (t["id"] in self._owned) == owned]

    def own_template(self, template_id: str) -> dict[str, Any]:
        """A template of this account (public catalog templates are 404 here)."""
        if template_id not in self._owned:
            raise not_found("template")
        return self._templates[template_id]

    # ---- money and stock ----------------------------------------------------------------

    def spent(self, at: datetime | None = None) -> Decimal:
        """Everything billed up to `at` (default: now), pods and network volumes, exact."""
        now = at or self.clock.now()
        total = sum(
            (sum(pod_amounts(p, p.created_at, now)) for p in self._pods.values()), Decimal(0)
        )
        return total + sum(
            (volume_amount(v, v.created_at, now) for v in self._volumes.values()), Decimal(0)
        )

    @property
    def balance(self) -> float:
        """Account balance in USD: the credit minus everything billed so far."""
        return float(self._credit - self.spent())

    @_persisted
    def set_balance(self, usd: float) -> None:
        """Make the balance `usd` now (it keeps falling as billing accrues)."""
        self._credit = Decimal(str(usd)) + self.spent()
        self._store.stage_account()

    def free_gpus(self, gpu_id: str, data_center_id: str, cloud: str = "SECURE") -> int:
        """GPUs of this type free now in this data center and cloud."""
        key = (gpu_id, data_center_id, cloud)
        held = sum(n for k, n in self._held.values() if k == key)
        return max(0, self._capacity.get(key, 0) - held)

    @_persisted
    def set_stock(
        self, gpu_id: str, data_center_id: str, count: int, cloud: str = "SECURE"
    ) -> None:
        """Make exactly `count` GPUs of this type free in this data center and cloud."""
        if gpu_id not in GPUS_BY_ID or data_center_id not in DCS_BY_ID:
            raise ValueError(f"unknown GPU {gpu_id!r} or data center {data_center_id!r}")
        key = (gpu_id, data_center_id, cloud)
        self._capacity[key] = count + sum(n for k, n in self._held.values() if k == key)
        self._stock_set[key] = self._capacity[key]
        self._store.stage_account()

    @_persisted
    def clear_stock(self) -> None:
        """No free GPU anywhere (GPUs held by pods stay held)."""
        for key in list(self._capacity):
            self._capacity[key] = sum(n for k, n in self._held.values() if k == key)
        self._stock_set.update(self._capacity)
        self._store.stage_account()

    def stock_levels(self, cloud: str) -> dict[tuple[str, str], int]:
        """Free GPUs per (gpu id, data center id) in `cloud`, for every offered pair."""
        return {
            (gpu_id, dc_id): self.free_gpus(gpu_id, dc_id, cloud)
            for (gpu_id, dc_id, c) in self._capacity
            if c == cloud
        }

    # ---- pods ---------------------------------------------------------------------------

    def new_id(self, length: int) -> str:
        """A fresh lowercase alphanumeric id (pods: 14 characters; volumes, templates: 10)."""
        self._store.stage_account()  # the generator moved on
        while True:
            candidate = "".join(self.rng.choice(_ALNUM) for _ in range(length))
            taken = (self._pods, self._volumes, self._templates)
            if not any(candidate in ids for ids in taken):
                return candidate

    @_persisted
    def create_pod(self, body: Any) -> Pod:
        """Validate, charge-check and place a create request; the new pod (PROVISIONING)."""
        plan = placement.resolve(self, body)
        if plan.gpu.id in self.forbidden_gpus:
            raise ApiError(403, "access denied: this account cannot use the requested GPU pool")
        rate = placement.hourly_rate(plan)
        if self._credit - self.spent() < rate:
            raise ApiError(
                402,
                f"insufficient balance: deploying needs at least one hour of credit "
                f"(${rate:.4f}/h, balance ${self.balance:.2f})",
            )
        dc_id, cuda = placement.place(self, plan)
        now = self.clock.now()
        env = dict(plan.env)
        if plan.start_jupyter and "JUPYTER_PASSWORD" not in env:
            env["JUPYTER_PASSWORD"] = "".join(self.rng.choice(_ALNUM) for _ in range(16))
        pod = Pod(
            id=self.new_id(14),
            seq=len(self._pods) + 1,
            name=plan.name,
            image=plan.image,
            args=plan.args,
            disk=plan.disk,
            ports=plan.ports,
            env=env,
            registry=plan.registry,
            mounts=plan.mounts,
            cloud=plan.cloud,
            data_center_id=dc_id,
            gpu_id=plan.gpu.id,
            gpu_count=plan.count,
            gpu_price=plan.gpu.price(plan.cloud),
            cuda_version=cuda,
            global_networking=plan.global_networking,
            created_at=now,
            ssh_token=f"{self.rng.getrandbits(32):08x}",
        )
        self._pods[pod.id] = pod
        self._store.stage_pod(pod)
        self._hold(pod)
        prov, start = self.config.provisioning_s, self.config.starting_s
        pod.plan(now, [(0, "PROVISIONING"), (prov, "STARTING"), (prov + start, "RUNNING")])
        gpu = f"{pod.gpu_count}x {plan.gpu.name}"
        self._schedule(pod, 0, "system", f"Creating pod: {gpu} in {dc_id} ({pod.cloud})")
        self._schedule(pod, prov, "system", f"Machine assigned; pulling image {pod.image}")
        self._schedule(pod, prov + start / 2, "system", f"Image {pod.image} pulled")
        self._boot_lines(pod, prov + start)
        self.notify()
        return pod

    @_persisted
    def act(self, pod_id: str, action: str) -> Pod:
        """Apply a pod action (start/stop/restart/terminate); 409 when not allowed now."""
        pod = self.pod_record(pod_id)
        now = self.clock.now()
        status = pod.status(now)
        if action not in pod.to_api(now, self.seed_text)["actions"]:
            raise ApiError(409, f"cannot {action} a pod that is {status}")
        if action == "stop" and pod.locked:
            raise bad_request("pod is locked; unlock it before stopping it")
        key = (pod.gpu_id, pod.data_center_id, pod.cloud)
        if action == "start" and self.free_gpus(*key) < pod.gpu_count:
            raise bad_request(
                "There are not enough free GPUs on the host machine to start this pod."
            )
        self._apply(pod, action, now)
        return pod

    def _apply(self, pod: Pod, action: str, now: datetime) -> None:
        self._store.stage_pod(pod)
        pod.logs.materialize(now)
        pod.logs.cancel_pending()
        self._settle_model_files(pod, now, end_run=True)
        self._stop_agent(pod, discard=action == "terminate")
        self._stop_comfyui(pod, wipe_container=action in ("stop", "terminate"),
                           wipe_volume=action == "terminate")  # fmt: skip
        if action == "stop":
            pod.container_model_files.clear()
            self._release(pod)
            pod.plan(now, [(0, "EXITED")])
            self._schedule(pod, 0, "system", "Stopping container")
            self._schedule(pod, 0, "system", "Container stopped")
        elif action == "start":
            self._hold(pod)
            self._apply_pending_settings(pod)
            pod.plan(now, [(0, "STARTING"), (self.config.starting_s, "RUNNING")])
            self._schedule(pod, 0, "system", "Starting pod")
            self._boot_lines(pod, self.config.starting_s)
        elif action == "restart":
            self._apply_pending_settings(pod)
            pod.plan(now, [(0, "STARTING"), (self.config.restart_s, "RUNNING")])
            self._schedule(pod, 0, "system", "Restarting container")
            self._boot_lines(pod, self.config.restart_s)
        else:
            self._release(pod)
            pod.plan(now, [(0, "TERMINATED")])
            self._schedule(pod, 0, "system", "Pod terminated")
        pod.logs.materialize(now)
        self.notify()

    @staticmethod
    def _apply_pending_settings(pod: Pod) -> None:
        """Settings a PATCH left for the next start or restart (global networking)."""
        if pod.global_networking_next is not None:
            pod.global_networking = pod.global_networking_next
            pod.global_networking_next = None

    @_persisted
    def update_pod(self, pod: Pod, changes: dict[str, Any]) -> Pod:
        """Apply a validated PATCH body to a pod (`pods.update_pod`: 400 on a rule broken)."""
        try:
            return placement.update_pod(self, pod, changes)
        finally:
            self._store.stage_pod(pod)

    @_persisted
    def enforce_balance(self, since: datetime | None = None) -> None:
        """At $0, do what RunPod does: stop pods with a network volume, terminate the others.

        Checked on every authenticated request (RunPod itself debits in batches), so the
        account may run a little below zero before pods go. `since`: when the balance was
        last checked, for an emulator that was not running until now (a restart): the pods
        go at the moment the money ran out, as they would have on RunPod.
        """
        now = self.clock.now()
        if self._credit - self.spent(now) > 0:
            return
        at = now if since is None else self._ran_out_at(since, now)
        for pod in list(self._pods.values()):
            status = pod.status(at)
            if status == "TERMINATED":
                continue
            if pod.network_volume_id is None:
                pod.logs.append(at, "system", "Account balance exhausted: terminating the pod")
                self._apply(pod, "terminate", at)
            elif status in HOLDS_MACHINE_STATUSES:
                pod.logs.append(at, "system", "Account balance exhausted: stopping the pod")
                self._apply(pod, "stop", at)

    def _ran_out_at(self, start: datetime, end: datetime) -> datetime:
        """The first moment in [start, end] (to the millisecond) with nothing left to spend."""
        if self._credit - self.spent(start) <= 0:
            return start
        while end - start > timedelta(milliseconds=1):
            middle = start + (end - start) / 2
            if self._credit - self.spent(middle) > 0:
                start = middle
            else:
                end = middle
        return end

    @_persisted
    def fail_pod(self, pod_id: str, reason: str = "container exited with code 1") -> None:
        """Put a pod in ERROR (as an unrecoverable container failure would); frees its GPUs."""
        pod = self.pod_record(pod_id)
        self._store.stage_pod(pod)
        now = self.clock.now()
        pod.logs.materialize(now)
        pod.logs.cancel_pending()
        self._settle_model_files(pod, now, end_run=True)
        pod.container_model_files.clear()
        self._stop_agent(pod)
        self._stop_comfyui(pod, wipe_container=True, wipe_volume=False)
        self._release(pod)
        pod.plan(now, [(0, "ERROR")])
        pod.logs.append(now, "system", f"Container error: {reason}")
        self.notify()

    @_persisted
    def append_log(self, pod_id: str, line: str, source: str = "container") -> None:
        """Add a log line to a pod at the current simulated time (delivered to live streams)."""
        pod = self.pod_record(pod_id)
        pod.logs.append(self.clock.now(), source, line)
        self._store.stage_logs(pod)
        self.notify()

    @_persisted
    def materialize_logs(self, pod: Pod) -> None:
        """Number the pod's scheduled lines whose time has come; they are stored before any
        log stream sends them, so a stream resumed after a restart finds the same ids."""
        count = len(pod.logs.lines)
        pod.logs.materialize(self.clock.now())
        if len(pod.logs.lines) != count:
            self._store.stage_logs(pod)

    def _boot_lines(self, pod: Pod, at: float) -> None:
        """Lines of a container start `at` seconds after the latest phase change (when the pod
        enters RUNNING), then whatever the container prints while it sets up."""
        self._schedule(pod, at, "system", "Starting container")
        self._schedule(pod, at, "container", f"Container started from {pod.image}")
        self._setup_run(pod, at)

    def _setup_run(self, pod: Pod, at: float) -> None:
        """What one of our pods (env `HANGAR_DEPLOYMENT_ID`) does once its container runs.

        `config.setup` picks the strategy: `simulated` schedules the lines an agent run would
        print, over `simulated_setup_s`; `none` prints nothing. The lines are pending like
        every transition line, so a stop, restart, terminate or failure before they are due
        drops the rest of the run. `agent` runs the real agent of a pod carrying
        `HANGAR_AGENT_BUNDLE` once it is RUNNING (`agent_runs.py`).
        """
        if self._agents is not None:
            if pod.env.get(BUNDLE_ENV):
                self._start_agent(pod, self._phase_base(pod) + timedelta(seconds=at))
            return
        if self.config.setup == "none" or not is_hangar_pod(pod.env):
            return
        running_at = self._phase_base(pod) + timedelta(seconds=at)
        plan = plan_for(pod.env, self.hub, self.model_files(pod.id))
        config = self.config
        run = setup_run(plan, running_at, config.simulated_setup_s, config.download_bytes_per_s)
        for ts, line in run.lines:
            pod.logs.schedule(ts, "container", line)
        pod.pending_model_files = run.files
        pod.comfyui_at = run.comfyui_at

    def _stop_comfyui(self, pod: Pod, *, wipe_container: bool, wipe_volume: bool) -> None:
        """The container stops (or restarts): so does its ComfyUI; the disks it gives up are
        deleted once this is committed."""
        pod.comfyui_at = None
        self.comfyui.discard(pod.id)
        if wipe_container or wipe_volume:
            self._wipe_pods.append((pod, wipe_volume))

    def model_files(self, pod_id: str) -> ModelFiles:
        """The model files on the disk a pod's models go to, as its simulated runs left it:
        its network volume's, its volume's, or (no volume under /workspace) its container
        disk's. `folder/name` -> {"size", "sha256"}; edit it to damage a file."""
        pod = self._pods[pod_id]
        self._settle_model_files(pod, self.clock.now())
        return self._model_disk(pod)

    def workspace_disk(self, pod: Pod) -> tuple[str, str]:
        """Which disk holds the pod's `/workspace` (the agent's root, where ComfyUI and its
        models, inputs and outputs are): ("network", volume id), ("volume", pod id) or
        ("container", pod id)."""

        def holds_root(path: str) -> bool:
            mount = path.rstrip("/") or "/"
            return mount == POD_ROOT or POD_ROOT.startswith(mount.rstrip("/") + "/")

        network = pod.mounts.get("network")
        if network and holds_root(str(network[0].get("path", ""))):
            return "network", pod.network_volume_id or ""
        persistent = pod.mounts.get("persistent")
        if persistent and holds_root(str(persistent.get("path", ""))):
            return "volume", pod.id
        return "container", pod.id

    def _model_disk(self, pod: Pod) -> ModelFiles:
        kind, owner = self.workspace_disk(pod)
        if kind == "network":
            return self._volumes[owner].model_files
        return pod.volume_model_files if kind == "volume" else pod.container_model_files

    def _settle_model_files(self, pod: Pod, now: datetime, *, end_run: bool = False) -> None:
        """Write the files of the run in progress that are complete by `now`; with `end_run`
        (stop, restart, terminate, error) drop the rest: they download again next time."""
        due = [f for f in pod.pending_model_files if f[0] <= now]
        if not pod.pending_model_files:
            return
        pod.pending_model_files = (
            [] if end_run else [f for f in pod.pending_model_files if f[0] > now]
        )
        self._store.stage_pod(pod)
        disk = self._model_disk(pod)
        for _, relpath, size, sha256 in due:
            disk[relpath] = {"size": size, "sha256": sha256}
        if due and pod.network_volume_id is not None:
            self._store.stage_volume(self._volumes[pod.network_volume_id])

    def _start_agent(self, pod: Pod, running_at: datetime) -> None:
        assert self._agents is not None  # noqa: S101 - agent mode only

        def still_wanted() -> bool:
            return pod.status(self.clock.now()) == "RUNNING"

        self._agents.start(
            pod.id,
            {**pod.env, **self.pod_env(pod.id)},
            pod.args,
            lambda: self.clock.real_seconds_until(running_at),
            still_wanted,
        )

    def pod_ids(self) -> list[str]:
        return list(self._pods)

    def pod_key(self, pod_id: str) -> str:
        """The pod-scoped API key RunPod puts in a pod's env as `RUNPOD_API_KEY`: it opens
        that pod's own routes and nothing else (`asgi.py`). Derived from the account's
        seed, so it stays the same across restarts without being stored."""
        digest = hmac.new(f"pod-key:{self.seed_text}".encode(), pod_id.encode(), "sha256")
        return POD_KEY_PREFIX + digest.hexdigest()[:40]

    def pod_env(self, pod_id: str) -> dict[str, str]:
        """What RunPod adds to every pod's container env (not shown in the pod's `env`)."""
        return {"RUNPOD_POD_ID": pod_id, "RUNPOD_API_KEY": self.pod_key(pod_id)}

    def _stop_agent(self, pod: Pod, *, discard: bool = False) -> None:
        if self._agents is not None:
            self._agents.stop(pod.id, discard=discard)

    @_persisted
    def _agent_line(self, pod_id: str, source: str, line: str) -> None:
        pod = self._pods.get(pod_id)
        if pod is not None:
            pod.logs.append(self.clock.now(), source, line)
            self._store.stage_logs(pod)
            self.notify()

    def agent_run(self, pod_id: str) -> AgentRun | None:
        """Agent mode: the pod's latest agent run (sandbox, ports, pid, exit code), or None."""
        return self._agents.run_of(pod_id) if self._agents is not None else None

    async def aclose(self) -> None:
        """End every agent process (agent mode; SIGTERM, then SIGKILL after the grace), then
        release the state file."""
        if self._agents is not None:
            await self._agents.aclose()
        await self.comfyui.aclose()
        self.close()

    def _schedule(self, pod: Pod, delay: float, source: str, line: str) -> None:
        """Schedule a line `delay` simulated seconds after the pod's latest phase change."""
        pod.logs.schedule(self._phase_base(pod) + timedelta(seconds=delay), source, line)

    def _phase_base(self, pod: Pod) -> datetime:
        """When the pod's latest phase change (at or before now) happened."""
        return max(p.at for p in pod.phases if p.at <= self.clock.now())

    def _hold(self, pod: Pod) -> None:
        pod.holds_gpus = True
        self._held[pod.id] = self._holding(pod)
        self._store.stage_pod(pod)

    def _release(self, pod: Pod) -> None:
        pod.holds_gpus = False
        self._held.pop(pod.id, None)
        self._store.stage_pod(pod)

    @staticmethod
    def _holding(pod: Pod) -> tuple[StockKey, int]:
        return (pod.gpu_id, pod.data_center_id, pod.cloud), pod.gpu_count

    # ---- network volumes ------------------------------------------------------------------

    @_persisted
    def create_network_volume(
        self, name: str, size: int, data_center: str, type: str | None = None
    ) -> NetworkVolume:
        """Create a network volume (as `POST /v2/network-volumes` does after validation)."""
        dc = DCS_BY_ID.get(data_center)
        if dc is None:
            raise bad_request(f"unknown data center {data_center!r}")
        if not dc.volume_types:
            raise bad_request(f"data center {data_center} offers no network volumes")
        kind = type or dc.volume_types[0]
        if kind not in dc.volume_types:
            raise bad_request(f"data center {data_center} offers no {kind} network volumes")
        now = self.clock.now()
        volume = NetworkVolume(self.new_id(10), name, data_center, kind, now, [(now, size)])
        self._volumes[volume.id] = volume
        self._store.stage_volume(volume)
        return volume

    @_persisted
    def update_network_volume(self, volume_id: str, changes: dict[str, Any]) -> NetworkVolume:
        """Rename or grow a network volume (400 when it would shrink)."""
        volume = self.volume(volume_id)
        if "size" in changes:
            if changes["size"] < volume.size:
                raise bad_request("network volume size can only grow")
            if changes["size"] != volume.size:
                volume.sizes.append((self.clock.now(), int(changes["size"])))
        volume.name = changes.get("name", volume.name)
        self._store.stage_volume(volume)
        return volume

    @_persisted
    def delete_network_volume(self, volume_id: str) -> None:
        """Delete a network volume (400 while a pod mounts it); its billing stops."""
        volume = self.volume(volume_id)
        users = [p.id for p in self.visible_pods() if p.network_volume_id == volume_id]
        if users:
            raise bad_request(f"network volume {volume_id} is attached to pod {users[0]}")
        volume.deleted_at = self.clock.now()
        self._store.stage_volume(volume)
        self._wipe_volumes.append(volume_id)

    # ---- templates ------------------------------------------------------------------------

    @_persisted
    def save_template(self, template: dict[str, Any]) -> dict[str, Any]:
        """Store an account template (created or updated)."""
        self._templates[template["id"]] = template
        self._owned.add(template["id"])
        self._store.stage_template(template["id"], template)
        return template

    @_persisted
    def delete_template(self, template_id: str) -> None:
        """Delete one of the account's templates (public ones are 404)."""
        self.own_template(template_id)
        del self._templates[template_id]
        self._owned.discard(template_id)
        self._store.stage_template(template_id, None)

    # ---- live streams ---------------------------------------------------------------------

    def waiter(self) -> asyncio.Event:
        """An event set at the next change (new log line, transition, clock jump)."""
        event = asyncio.Event()
        self._waiters.add(event)
        return event

    def forget(self, event: asyncio.Event) -> None:
        """Stop waking `event` (its stream has moved on or closed)."""
        self._waiters.discard(event)

    def notify(self) -> None:
        """Wake every waiting log stream."""
        for event in list(self._waiters):
            event.set()

    def now(self) -> datetime:
        """The simulated current time."""
        return self.clock.now()
