"""Outputs copied to an S3-compatible bucket (moto's server mode on a real port)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.comfyui.support import emulator_server
from tests.runs.conftest import SPEED, World, pod_config, txt2img
from tests.server.conftest import fast_settings, running_hangar
from tests.support.servers import free_port

BUCKET = "hangar-outputs"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.stop()


async def test_outputs_go_to_the_bucket_and_are_served_from_it(s3: str, tmp_path: Path) -> None:
    settings = fast_settings(
        tmp_path / "hangar",
        output_s3_bucket=BUCKET,
        output_s3_endpoint_url=s3,
        output_s3_prefix="team-a",
    )
    async with (
        emulator_server(pod_config(tmp_path / "pod"), speed=SPEED) as comfy,
        running_hangar(settings) as hangar,
    ):
        created = await hangar.http.post(
            "/api/v1/comfyui-servers", json={"name": "emu", "url": comfy.base_url}
        )
        world = World(hangar, comfy, created.json()["id"])
        batch = await world.run(prompt=txt2img(steps=2))
        [view] = await world.wait_runs([r["id"] for r in batch["runs"]])
        assert view["state"] == "succeeded"
        outputs = (await hangar.http.get("/api/v1/outputs")).json()["items"]
        served = {o["id"]: (await hangar.http.get(o["url"])).content for o in outputs}

    assert len(outputs) == 2
    assert not (tmp_path / "hangar" / "outputs").exists()  # nothing went to the local store
    listed = boto3.client("s3", endpoint_url=s3).list_objects_v2(Bucket=BUCKET)
    keys = sorted(item["Key"] for item in listed["Contents"])
    assert len(keys) == 2
    assert all(k.startswith(f"team-a/runs/{view['id']}/9/") for k in keys)
    for output in outputs:
        key = f"team-a/runs/{view['id']}/9/{output['filename']}"
        body = boto3.client("s3", endpoint_url=s3).get_object(Bucket=BUCKET, Key=key)
        data = body["Body"].read()
        assert body["ContentType"] == "image/png"
        assert hashlib.sha256(data).hexdigest() == output["sha256"]
        assert served[output["id"]] == data
        on_pod = (tmp_path / "pod" / "output" / output["filename"]).read_bytes()
        assert data == on_pod
