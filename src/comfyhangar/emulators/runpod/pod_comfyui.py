"""The ComfyUI of simulated pods: one emulated ComfyUI per pod, with its files on the pod's disk.

A simulated pod of ours whose setup run has started ComfyUI (`Pod.comfyui_at`, reached while
it is RUNNING) serves a `ComfyUIEmulator` of its own, behind the same token check as the real
agent's proxy (`pod_proxy.py`), at `/simulated-pods/{pod_id}/comfyui/` of whatever serves
`PodComfyUIs.app` (the ComfyHangar server's own port, and a loopback port for the server's
own clients). Each instance is built from the pod:

- its model lists are the model files the pod's simulated setup left on its disk
  (`RunPodEmulator.model_files`), read again at every request, as ComfyUI rescans its folders;
- its custom nodes are those of the pod's manifest: each is installed (listed by
  `GET /models/custom_nodes` as `<folder>/__init__.py`, the one file every importable pack
  has), and the node classes of the packs in `node_packs` (repo URL -> `NodeType`s, empty by
  default: the emulator knows no third-party pack) appear in `/object_info`;
- its `input/` and `output/` live on the disk under `/workspace`: a network volume's folder,
  the pod volume's (kept across stop and start, deleted with terminate), or the container
  disk's (wiped when the pod gives up its machine); all under `root`, so they survive a
  restart of the emulator when `root` is in the data directory.

Its queue and history are in memory, as ComfyUI's are: a stop, restart or failure ends the
instance (a prompt in progress stops); the next start of ComfyUI is a fresh instance on the
same files. A pod that is not serving answers 502 without any token check, as RunPod's proxy
does for a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from comfyhangar.emulators.runpod.catalog import GPUS_BY_ID
from comfyhangar.emulators.runpod.model import Pod
from comfyhangar.emulators.runpod.simulated_setup import (
    COMFYUI_PORT,
    custom_nodes,
    read_manifest,
)

if TYPE_CHECKING:
    # Imported where used at run time: the ComfyUI emulator imports this package's clock, so
    # importing it here would make a cycle when `emulators.comfyui` is imported first.
    from comfyhangar.emulators.comfyui import ComfyUIEmulator, NodeType
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator

#: Where the pods' ComfyUI answers: `/simulated-pods/{pod_id}/comfyui/...`.
PATH_PREFIX = "/simulated-pods"
#: ComfyUI's directory on the pod (the agent's `--root` is /workspace).
COMFYUI_DIR = "/workspace/ComfyUI"
#: Node packs the emulator can run: normalised repo URL -> node classes (see `pack_key`).
NodePacks = Mapping[str, Sequence["NodeType"]]


def comfyui_path(pod_id: str) -> str:
    """The path (no trailing slash) under which a simulated pod's ComfyUI answers."""
    return f"{PATH_PREFIX}/{pod_id}/comfyui"


def pack_key(repo: str) -> str:
    """A repo URL as `host/owner/name` (lower case; no scheme, `.git` or trailing slash)."""
    key = repo.strip().lower().split("://", 1)[-1].rstrip("/")
    return key.removesuffix(".git")


@dataclass
class _Serving:
    """A running instance, the start of ComfyUI it belongs to, and its custom node folders
    (the pod's env, hence its manifest, changes only with a new start of its container)."""

    emu: ComfyUIEmulator
    started_at: datetime  # the pod's `comfyui_at` when it was made
    node_folders: tuple[str, ...]


class PodComfyUIs:
    """The simulated pods' ComfyUI instances and their disks, for one `RunPodEmulator`.

    `root` holds the disks (`network-volumes/<id>/`, `pods/<id>/volume/`,
    `pods/<id>/container/`); None makes a temporary directory, deleted by `close()`.
    """

    def __init__(
        self, emu: RunPodEmulator, root: Path | None, node_packs: NodePacks | None = None
    ) -> None:
        from comfyhangar.emulators.runpod.pod_proxy import PodProxyApp

        self._emu = emu
        self._root = root
        self._temporary: Path | None = None
        self.node_packs = {pack_key(k): tuple(v) for k, v in (node_packs or {}).items()}
        self._serving: dict[str, _Serving] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.app = PodProxyApp(self)

    # ---- disks --------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        if self._root is not None:
            return self._root
        if self._temporary is None:
            self._temporary = Path(tempfile.mkdtemp(prefix="hangar-simulated-pods-"))
        return self._temporary

    def workspace(self, pod: Pod) -> Path:
        """The folder that holds the pod's `/workspace` (its ComfyUI is `<it>/ComfyUI`)."""
        kind, owner = self._emu.workspace_disk(pod)
        if kind == "network":
            return self.root / "network-volumes" / owner
        return self.root / "pods" / owner / kind

    def wipe_pod(self, pod: Pod, *, volume: bool) -> None:
        """Delete the pod's container disk (stop, error) and, with `volume`, its pod volume
        (terminate). A network volume's folder goes with the volume (`wipe_volume`)."""
        shutil.rmtree(self.root / "pods" / pod.id / "container", ignore_errors=True)
        if volume:
            shutil.rmtree(self.root / "pods" / pod.id, ignore_errors=True)

    def wipe_volume(self, volume_id: str) -> None:
        """Delete a network volume's folder (the volume was deleted)."""
        shutil.rmtree(self.root / "network-volumes" / volume_id, ignore_errors=True)

    def sweep(self, pods: Sequence[Pod], deleted_volumes: Sequence[str]) -> None:
        """After a restart: delete what a crash between a commit and its wipe left behind
        (disks of terminated pods, container disks of pods not on a machine, deleted
        volumes' folders)."""
        now = self._emu.clock.now()
        for pod in pods:
            status = pod.status(now)
            if status == "TERMINATED":
                self.wipe_pod(pod, volume=True)
            elif status in ("EXITED", "ERROR"):
                self.wipe_pod(pod, volume=False)
        for volume_id in deleted_volumes:
            self.wipe_volume(volume_id)

    # ---- instances ----------------------------------------------------------------------

    def serving(self, pod_id: str) -> ComfyUIEmulator | None:
        """The pod's ComfyUI if it answers now (RUNNING, and its setup started ComfyUI), with
        today's model files; None otherwise (unknown pod, stopped, still setting up)."""
        pod = self._emu.find_pod(pod_id)
        now = self._emu.clock.now()
        if pod is None or pod.comfyui_at is None or pod.comfyui_at > now:
            self.discard(pod_id)
            return None
        if pod.status(now) != "RUNNING":
            self.discard(pod_id)
            return None
        current = self._serving.get(pod_id)
        if current is None or current.started_at != pod.comfyui_at:
            self.discard(pod_id)
            current = self._new_instance(pod, pod.comfyui_at)
            self._serving[pod_id] = current
        self._refresh_models(current, pod)
        return current.emu

    def token(self, pod_id: str) -> str | None:
        """The pod token its agent's proxy checks (`HANGAR_POD_TOKEN` in the pod's env)."""
        pod = self._emu.find_pod(pod_id)
        return pod.env.get("HANGAR_POD_TOKEN") if pod is not None else None

    def discard(self, pod_id: str) -> None:
        """End the pod's instance, if it has one (ComfyUI stopped with its container)."""
        current = self._serving.pop(pod_id, None)
        if current is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: its tasks never started
            return
        task = loop.create_task(current.emu.aclose())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """End every instance."""
        for pod_id in list(self._serving):
            self.discard(pod_id)
        for task in list(self._closing):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Delete the temporary disks (a no-op with a `root`)."""
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    def _new_instance(self, pod: Pod, started_at: datetime) -> _Serving:
        from comfyhangar.emulators.comfyui import ComfyUIConfig, ComfyUIEmulator, Device

        nodes = custom_nodes(read_manifest(pod.env) or {})
        extra: list[NodeType] = []
        for folder, repo, _ in nodes:
            for node in self.node_packs.get(pack_key(repo), ()):
                definition = {**node.definition, "python_module": f"custom_nodes.{folder}"}
                extra.append(replace(node, definition=definition))
        gpu = GPUS_BY_ID.get(pod.gpu_id)
        device = Device()
        if gpu is not None:
            name = f"cuda:0 {gpu.id} : cudaMallocAsync"
            device = Device(name=name, vram_total=gpu.memory * 1024**3)
        config = ComfyUIConfig(
            root=self.workspace(pod) / "ComfyUI",
            extra_nodes=extra,
            speed=self._emu.clock.speed,
            comfyui_dir=COMFYUI_DIR,
            # As the agent starts it (agent/service.py), behind its proxy on PROXY_PORT; no
            # `--preview-method`, so no previews, as on a real pod of ours.
            argv=("main.py", "--listen", "127.0.0.1", "--port", str(COMFYUI_PORT)),
            device=device,
        )
        emu = ComfyUIEmulator(config, clock=self._emu.clock)
        return _Serving(emu, started_at, tuple(folder for folder, _, _ in nodes))

    def _refresh_models(self, serving: _Serving, pod: Pod) -> None:
        """The model lists of what is on the pod's disk now (ComfyUI rescans its folders)."""
        by_folder: dict[str, list[str]] = {}
        for relpath in self._emu.model_files(pod.id):
            folder, _, name = relpath.partition("/")
            by_folder.setdefault(folder, []).append(name)
        by_folder["custom_nodes"] = [f"{folder}/__init__.py" for folder in serving.node_folders]
        serving.emu.models.clear()
        for folder, names in by_folder.items():
            serving.emu.set_models(folder, names)
