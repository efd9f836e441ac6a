"""How an emulator instance behaves: keys, timings, quotas, money, randomness."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from comfyhangar.emulators.runpod.agent_runs import AgentSandbox
from comfyhangar.emulators.runpod.pod_comfyui import NodePacks

#: How a pod of ours sets up once RUNNING: `simulated` (env `HANGAR_DEPLOYMENT_ID`) schedules
#: the log lines an agent run would print; `none` prints nothing; `agent` (env
#: `HANGAR_AGENT_BUNDLE`) runs the real agent from the pod's bundle in a sandbox
#: (`agent_runs.py`; real-time tests).
SetupMode = Literal["simulated", "none", "agent"]
SETUP_MODES: tuple[SetupMode, ...] = ("simulated", "none", "agent")


# Pod-scoped API keys (`RUNPOD_API_KEY` inside a pod) start with this.
POD_KEY_PREFIX = "rpa_pod_"


@dataclass(frozen=True)
class EmulatorConfig:
    """Settings of one `RunPodEmulator`.

    - `api_key`: the only bearer token accepted; None accepts any non-empty token.
    - `read_only_key`: a second accepted key, scoped to reads: any write answers 403.
    - `speed`: simulated seconds per real second (pods, billing and log times follow it).
    - `provisioning_s`, `starting_s`, `restart_s`: simulated seconds spent in PROVISIONING and
      STARTING after a create, and in STARTING after a start (`starting_s`) or restart.
    - `page_size`: pods per page of `GET /v2/pods`.
    - `balance`: starting account balance in USD.
    - `rate_limit_per_*`: request quotas per key (fixed real-time windows).
    - `seed`: makes ids, utilisation and fault draws deterministic.
    - `keepalive_s`: real seconds between `:` keepalive comments on idle log streams.
    - `setup`: what a pod carrying `HANGAR_DEPLOYMENT_ID` does after each entry into RUNNING
      (see `SetupMode`); `simulated_setup_s`: simulated seconds its simulated agent run takes
      from RUNNING to `ready`, downloads aside; `download_bytes_per_s`: the simulated bandwidth
      of those downloads (500 MB/s, a fast data-center link: a 23.8 GB FLUX file takes 48 s).
    - `agent_sandbox`: where and how `setup="agent"` runs the agent (required by that mode).
    - `state_path`: a SQLite file that keeps the account (pods, logs, volumes, templates,
      money, stock, clock) across restarts (`store.py`); None (the default) keeps it in memory.
      When the file holds an account, it wins over `balance` and `seed`.
    - `disks_path`: where the simulated pods' disks keep their ComfyUI files (`input/`,
      `output/`; `pod_comfyui.py`); None (the default) a temporary directory, deleted by
      `close()`. Put it beside `state_path` to keep them across restarts.
    - `node_packs`: custom node packs the pods' ComfyUI can run (repo URL -> `NodeType`s);
      other packs are installed but add no node class.
    """

    api_key: str | None = None
    read_only_key: str | None = None
    speed: float = 1.0
    provisioning_s: float = 3.0
    starting_s: float = 5.0
    restart_s: float = 3.0
    page_size: int = 100
    balance: float = 500.0
    rate_limit_per_minute: int = 6000
    rate_limit_per_hour: int = 100_000
    rate_limit_per_day: int = 1_000_000
    seed: int | None = None
    keepalive_s: float = 5.0
    setup: SetupMode = "simulated"
    simulated_setup_s: float = 15.0
    download_bytes_per_s: float = 500e6
    agent_sandbox: AgentSandbox | None = None
    state_path: Path | None = None
    disks_path: Path | None = None
    node_packs: NodePacks = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.setup not in SETUP_MODES:
            raise ValueError(f"setup must be one of {', '.join(SETUP_MODES)}")
        if self.simulated_setup_s < 0:
            raise ValueError("simulated_setup_s must be >= 0")
        if self.download_bytes_per_s <= 0:
            raise ValueError("download_bytes_per_s must be > 0")
        if self.setup == "agent" and self.agent_sandbox is None:
            raise ValueError("setup 'agent' needs agent_sandbox")
