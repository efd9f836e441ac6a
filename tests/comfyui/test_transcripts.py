"""The emulator against transcripts recorded from a real ComfyUI 0.3.64 (record_transcript.py).

Each scenario is played against the emulator and must normalise to exactly what the real server
gave. With `HANGAR_TEST_COMFYUI_URL` pointing at a real ComfyUI set up as the recorder says, the
same scenarios are played against it too, which checks that the recordings still hold.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.comfyui.support import emulator_server, recorded_pod_config
from tests.comfyui.transcripts import SCENARIOS, RealTime, load_fixture, normalise, play

RUN = "5eed0001"


def first_difference(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str:
    """Where two transcripts part, for a readable failure."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return f"step {index} ({want.get('label')}):\n real: {want}\n emulator: {got}"
    return f"{len(expected)} steps recorded, {len(actual)} played"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_emulator_gives_what_the_real_server_gave(name: str, tmp_path: Path) -> None:
    recorded = load_fixture(name)["steps"]
    async with emulator_server(recorded_pod_config(tmp_path)) as running:
        played = normalise(name, await play(name, running.base_url, RUN, running.driver), RUN)
    assert played == recorded, first_difference(recorded, played)


REAL_URL = os.environ.get("HANGAR_TEST_COMFYUI_URL", "").rstrip("/")


@pytest.mark.slow
@pytest.mark.real_comfyui
@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_real_server_still_gives_the_recorded_transcript(name: str) -> None:
    async with httpx.AsyncClient(base_url=REAL_URL, timeout=30) as http:
        if not (await http.get("/object_info/HangarProbeSampler")).json():
            pytest.skip("the real server lacks the probe node (see record_transcript.py)")
    recorded = load_fixture(name)["steps"]
    run = os.urandom(4).hex()
    played = normalise(name, await play(name, REAL_URL, run, RealTime()), run)
    assert played == recorded, first_difference(recorded, played)
