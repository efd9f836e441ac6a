"""Record the transcripts in tests/comfyui/transcripts/ from a real ComfyUI 0.3.64.

    uv run python -m tests.comfyui.record_transcript --url http://127.0.0.1:8190 [SCENARIO ...]

The server needs what the emulator in the tests is given (tests/comfyui/support.py):
- the probe node: copy tests/comfyui/probe_nodes/hangar_probe.py into its `custom_nodes/`;
- model files (their content does not matter): `models/checkpoints/dummy-sd15.safetensors`,
  `models/checkpoints/notes.txt` (not listed: not a model extension) and
  `models/loras/style/dummy-lora.safetensors`; nothing else in `models/`;
- the default `--preview-method` (none) and `--cache-classic` (the default);
- an otherwise idle server: the scenarios watch its one queue.

For example, with ComfyUI checked out in ./ComfyUI and a venv that runs it:

    python main.py --cpu --port 8190 --base-directory DIR --output-directory DIR/output \\
        --input-directory DIR/input --temp-directory DIR/temp --user-directory DIR/user

Each scenario runs with a fresh run id (file names and prompt ids carry it, so counters start
at 1 and nothing clashes with what the server saw before) and is saved normalised.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

import httpx

from tests.comfyui.transcripts import SCENARIOS, RealTime, normalise, play, save_fixture


async def _check_server(url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        stats = (await http.get("/system_stats")).json()["system"]
        if stats["comfyui_version"] != "0.3.64":
            print(f"warning: ComfyUI {stats['comfyui_version']}, transcripts are of 0.3.64")
        if not (await http.get("/object_info/HangarProbeSampler")).json():
            raise SystemExit("the probe node is missing: copy probe_nodes/hangar_probe.py")
        if "dummy-sd15.safetensors" not in (await http.get("/models/checkpoints")).json():
            raise SystemExit("models/checkpoints/dummy-sd15.safetensors is missing")
        if (await http.get("/queue")).json() != {"queue_running": [], "queue_pending": []}:
            raise SystemExit("the server is busy; record on an idle server")
        await http.post("/free", json={"free_memory": True})  # start from an empty cache
        return {"comfyui_version": stats["comfyui_version"], "python": stats["python_version"]}


async def _main(url: str, names: list[str]) -> None:
    source = await _check_server(url)
    for name in names:
        run = secrets.token_hex(4)
        steps = await play(name, url, run, RealTime())
        path = save_fixture(name, normalise(name, steps, run), source)
        print(f"{name}: {len(steps)} steps -> {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--url", required=True, help="base URL of the real ComfyUI")
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], help="default: all")
    args = parser.parse_args()
    asyncio.run(_main(args.url.rstrip("/"), args.scenarios or list(SCENARIOS)))


if __name__ == "__main__":
    sys.exit(main())
