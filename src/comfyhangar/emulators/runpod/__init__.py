"""A faithful RunPod REST v2 emulator (pods, logs, catalog, volumes, templates, billing).

Usage::

    emu = RunPodEmulator(EmulatorConfig(api_key="secret", speed=10))
    uvicorn.run(emu.app, port=9100)   # serves /v2/...

See `RunPodEmulator`, `EmulatorConfig` and `Faults` for the knobs tests turn; with
`EmulatorConfig(state_path=...)` the account outlives the process (`store.py`).
"""

from comfyhangar.emulators.runpod.agent_runs import AgentSandbox
from comfyhangar.emulators.runpod.config import EmulatorConfig
from comfyhangar.emulators.runpod.emulator import RunPodEmulator
from comfyhangar.emulators.runpod.faults import Faults
from comfyhangar.emulators.runpod.store import StateFileError

__all__ = ["AgentSandbox", "EmulatorConfig", "Faults", "RunPodEmulator", "StateFileError"]
