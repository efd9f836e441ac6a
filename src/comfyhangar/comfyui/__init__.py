"""The ComfyUI client (and, in `convert`/`formats`, the workflow conversion).

```python
async with ComfyUIClient(url, headers={"Authorization": f"Bearer {token}"}) as comfy:
    result = await comfy.run(prompt, prompt_id=recorded_id)   # idempotent by id
    for file in result.files:
        await comfy.download(file, out_dir / file.filename)
```

See docs/workflows.md for the client's contract.
"""

from comfyhangar.comfyui.client import ComfyUIClient, DownloadedFile, Retry
from comfyhangar.comfyui.errors import (
    ComfyUIError,
    ComfyUIHTTPError,
    ComfyUIUnreachable,
    PromptFailed,
    PromptInterrupted,
    PromptLost,
    PromptRejected,
)
from comfyhangar.comfyui.object_info import ObjectInfoCache
from comfyhangar.comfyui.stream import EventStream, PromptFinished
from comfyhangar.comfyui.wire import (
    OutputFile,
    PromptLocation,
    PromptResult,
    QueueState,
    Submission,
    UploadedFile,
)

__all__ = [
    "ComfyUIClient",
    "ComfyUIError",
    "ComfyUIHTTPError",
    "ComfyUIUnreachable",
    "DownloadedFile",
    "EventStream",
    "ObjectInfoCache",
    "OutputFile",
    "PromptFailed",
    "PromptFinished",
    "PromptInterrupted",
    "PromptLocation",
    "PromptLost",
    "PromptRejected",
    "PromptResult",
    "QueueState",
    "Retry",
    "Submission",
    "UploadedFile",
]
