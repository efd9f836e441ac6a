"""Simulated pods and network volumes, and how they look on the wire.

A pod's life is a list of `Phase`s (status from a moment on, with the disk sizes billed from
then). Future phases are scheduled at once (PROVISIONING -> STARTING -> RUNNING), so the status
at any simulated moment is a lookup: no background task moves pods along.
"""

from __future__ import annotations

import copy
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from comfyhangar.core.pricing import HOLDS_MACHINE_STATUSES, PodRate, pod_rate_per_hour
from comfyhangar.emulators.runpod.codec import STORED_APART
from comfyhangar.emulators.runpod.logs import LogBook, rfc3339

ACTIONS = {
    "RUNNING": ["stop", "restart", "terminate"],
    "EXITED": ["start", "terminate"],
    "ERROR": ["start", "terminate"],
    "PROVISIONING": ["stop", "terminate"],
    "STARTING": ["stop", "terminate"],
    "TERMINATED": [],
}


@dataclass(frozen=True)
class Phase:
    """From `at` on (until the next phase) the pod is in `status`, billed with these disks."""

    at: datetime
    status: str
    disk: int
    volume_gb: int


@dataclass
class Pod:
    """One simulated GPU pod, with its whole history (kept after termination for billing).

    Persisted field by field (`codec.py`): a new field needs only a default value to be stored
    and restored.
    """

    id: str
    seq: int
    name: str
    image: str
    args: str
    disk: int
    ports: list[str]
    env: dict[str, str]
    registry: str | None
    mounts: dict[str, Any]
    cloud: str
    data_center_id: str
    gpu_id: str
    gpu_count: int
    gpu_price: Decimal
    cuda_version: str | None
    global_networking: bool
    created_at: datetime
    ssh_token: str
    locked: bool = False
    global_networking_next: bool | None = None  # a PATCH waiting for the next (re)start
    holds_gpus: bool = False  # its GPUs are taken from the stock (from create or start on)
    # Stored as rows of their own (append-mostly), so a commit does not rewrite the history.
    phases: list[Phase] = field(default_factory=list, metadata=STORED_APART)
    logs: LogBook = field(default_factory=LogBook, metadata=STORED_APART)
    # Model files the simulated setup left, `folder/name` -> {"size": int, "sha256": str|None}:
    # on the pod's volume (survives stop and start) and on its container disk (wiped when the
    # pod gives up its machine: stop or error; kept across a restart). A network volume's are
    # the volume's (`NetworkVolume.model_files`).
    volume_model_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    container_model_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The run in progress: (moment complete, folder/name, size, sha256) of each file it fetches;
    # the ones due are written at the next action, the rest dropped with the run.
    pending_model_files: list[tuple[datetime, str, int, str | None]] = field(default_factory=list)
    # When the current simulated run's ComfyUI answers behind the token proxy (None: no run
    # of this container start got that far); cleared by every action and failure.
    comfyui_at: datetime | None = None

    @property
    def volume_gb(self) -> int:
        persistent = self.mounts.get("persistent")
        return int(persistent["size"]) if persistent else 0

    @property
    def network_volume_id(self) -> str | None:
        network = self.mounts.get("network")
        return str(network[0]["volumeId"]) if network else None

    def phase_at(self, moment: datetime) -> Phase:
        current = self.phases[0]
        for phase in self.phases:
            if phase.at > moment:
                break
            current = phase
        return current

    def status(self, now: datetime) -> str:
        return self.phase_at(now).status

    def rate(self, phase: Phase) -> PodRate:
        return pod_rate_per_hour(
            phase.status,
            gpu_price_per_hour=self.gpu_price,
            gpu_count=self.gpu_count,
            container_disk_gb=phase.disk,
            volume_gb=phase.volume_gb,
        )

    def plan(self, now: datetime, steps: list[tuple[float, str]]) -> None:
        """Drop the phases still to come and schedule `steps` (seconds from now, status)."""
        self.phases = [p for p in self.phases if p.at <= now]
        for delay, status in steps:
            at = now + timedelta(seconds=delay)
            self.phases.append(Phase(at, status, self.disk, self.volume_gb))

    def resize(self, now: datetime) -> None:
        """Re-bill from `now` on with the pod's current disk sizes."""
        current = self.phase_at(now)
        past = [p for p in self.phases if p.at < now]
        future = [p for p in self.phases if p.at > now]
        self.phases = [
            *past,
            Phase(now, current.status, self.disk, self.volume_gb),
            *(Phase(p.at, p.status, self.disk, self.volume_gb) for p in future),
        ]

    def started_at(self, now: datetime) -> datetime | None:
        """When the container last started (entered RUNNING), or None if it never has."""
        running = [i for i, p in enumerate(self.phases) if p.status == "RUNNING" and p.at <= now]
        return self.phases[running[-1]].at if running else None

    def to_api(self, now: datetime, seed: str) -> dict[str, Any]:
        """The pod as `GET /v2/pods/{id}` returns it at simulated time `now`."""
        status = self.status(now)
        started = self.started_at(now)
        cost = self.gpu_price * self.gpu_count if status in HOLDS_MACHINE_STATUSES else Decimal(0)
        runtime = self._runtime(now, started, seed) if status == "RUNNING" and started else None
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": status,
            "actions": list(ACTIONS[status]),
            "image": self.image,
            "args": self.args,
            "disk": self.disk,
            "mounts": copy.deepcopy(self.mounts),
            "ports": list(self.ports),
            "env": dict(self.env),
            "registry": self.registry,
            "cloud": self.cloud,
            "dataCenterId": self.data_center_id,
            "cudaVersion": self.cuda_version,
            "ssh": self._ssh(runtime),
            "template": None,
            "cost": float(round(cost, 6)),
            "locked": self.locked,
            "runtime": runtime,
            "createdAt": rfc3339(self.created_at),
            "startedAt": rfc3339(started) if started else None,
            "globalNetworking": self._global_networking(),
            "gpu": {"id": self.gpu_id, "count": self.gpu_count},
        }
        return body

    def public_ip(self) -> str:
        h = zlib.crc32(f"{self.data_center_id}/{self.id}".encode())
        return f"{194 + h % 20}.{(h >> 8) % 256}.{(h >> 16) % 256}.{1 + (h >> 24) % 254}"

    def _runtime(self, now: datetime, started: datetime, seed: str) -> dict[str, Any]:
        # Utilisation changes once per simulated minute; port mappings on every (re)start.
        sample = random.Random(f"{seed}:{self.id}:{int(now.timestamp()) // 60}")
        mapping = random.Random(f"{seed}:{self.id}:ports:{started.isoformat()}")
        ports = []
        for spec in self.ports:
            number, _, kind = spec.partition("/")
            tcp = kind == "tcp"
            ports.append(
                {
                    "private": int(number),
                    "public": mapping.randint(10000, 60000) if tcp else None,
                    "type": kind,
                    "ip": self.public_ip() if tcp else None,
                }
            )
        return {
            "uptime": int((now - started).total_seconds()),
            "gpus": [
                {"util": sample.randint(0, 100), "memoryUtil": sample.randint(5, 95)}
                for _ in range(self.gpu_count)
            ],
            "cpu": {"util": sample.randint(1, 60)},
            "memory": {"util": sample.randint(10, 70)},
            "ports": ports,
        }

    def _ssh(self, runtime: dict[str, Any] | None) -> dict[str, Any]:
        user = f"{self.id}-{self.ssh_token}"
        proxy = {
            "host": "ssh.runpod.io",
            "port": 22,
            "username": user,
            "command": f"ssh {user}@ssh.runpod.io",
        }
        direct = None
        if runtime is not None:
            for port in runtime["ports"]:
                if port["private"] == 22 and port["type"] == "tcp":
                    ip, public = port["ip"], port["public"]
                    direct = {
                        "host": ip,
                        "port": public,
                        "username": "root",
                        "command": f"ssh root@{ip} -p {public}",
                    }
        return {"proxy": proxy, "direct": direct}

    def _global_networking(self) -> dict[str, Any]:
        if not self.global_networking:
            return {"enabled": False}
        h = zlib.crc32(self.id.encode())
        return {
            "enabled": True,
            "ip": f"10.{h % 256}.{(h >> 8) % 256}.{1 + (h >> 16) % 254}",
            "internalDns": f"{self.id}.runpod.internal",
        }


@dataclass
class NetworkVolume:
    """A network volume; `sizes` is its size history for billing, `deleted_at` ends it.

    Persisted field by field (`codec.py`): a new field needs only a default value.
    """

    id: str
    name: str
    data_center: str
    type: str
    created_at: datetime
    sizes: list[tuple[datetime, int]]
    deleted_at: datetime | None = None
    # Model files on the volume, `folder/name` -> {"size": int, "sha256": str | None}.
    model_files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.sizes[-1][1]

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "dataCenter": self.data_center,
            "type": self.type,
        }
