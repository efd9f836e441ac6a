"""An emulated ComfyUI 0.3.64: its HTTP API and WebSocket, as a client sees them.

```python
from comfyhangar.emulators.comfyui import ComfyUIConfig, ComfyUIEmulator
emu = ComfyUIEmulator(ComfyUIConfig(root=Path("pod"), models={"checkpoints": ["sd15.safetensors"]}))
uvicorn.run(emu.app, port=8188)
```

See docs/comfyui-emulator.md for what it emulates, its node set and its faults.
"""

from comfyhangar.emulators.comfyui.config import ComfyUIConfig, Device
from comfyhangar.emulators.comfyui.emulator import COMFYUI_VERSION, ComfyUIEmulator
from comfyhangar.emulators.comfyui.faults import Faults
from comfyhangar.emulators.comfyui.nodes import NodeOutput, NodeType, RunContext, Timing, core_nodes

__all__ = [
    "COMFYUI_VERSION",
    "ComfyUIConfig",
    "ComfyUIEmulator",
    "Device",
    "Faults",
    "NodeOutput",
    "NodeType",
    "RunContext",
    "Timing",
    "core_nodes",
]
