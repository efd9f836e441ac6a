"""Saving outputs into a directory never overwrites a different image of the same name."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, cast

from comfyhangar.cli.client import HangarClient
from comfyhangar.cli.outputs import save_output


class Downloads:
    """Stands for the API client: "downloads" each output's bytes by URL."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.fetched: list[str] = []

    def download(self, url: str, destination: Path) -> None:
        self.fetched.append(url)
        destination.write_bytes(self.files[url])


def output(output_id: str, data: bytes) -> dict[str, Any]:
    return {
        "id": output_id,
        "filename": "invert_00001_.png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "url": f"/api/v1/outputs/{output_id}/content",
    }


def test_same_name_other_bytes_get_their_own_file_same_bytes_are_kept(tmp_path: Path) -> None:
    red, blue = b"red-image-bytes!", b"blu-image-bytes!"  # same size, other bytes
    first, second, again = output("a" * 32, red), output("b" * 32, blue), output("c" * 32, red)
    fake = Downloads({o["url"]: d for o, d in ((first, red), (second, blue), (again, red))})
    client = cast(HangarClient, fake)

    kept = save_output(client, first, tmp_path)
    other = save_output(client, second, tmp_path)
    same = save_output(client, again, tmp_path)

    assert kept.read_bytes() == red
    assert other != kept
    assert other.read_bytes() == blue, "a different image is never written over the first"
    assert same == kept, "the same bytes under the same name are not saved twice"
    assert fake.fetched == [first["url"], second["url"]]
