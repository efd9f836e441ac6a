"""Reading the workflow and prompt ComfyUI embeds in PNG and WebP files.

The two files under fixtures/embedded/ were written by a real ComfyUI 0.3.64 (SaveImage and
SaveAnimatedWEBP, with `extra_pnginfo.workflow`); the others are built here, chunk by chunk.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from comfyhangar.comfyui import embedded
from comfyhangar.comfyui.embedded import read_embedded
from comfyhangar.comfyui.errors import EmbeddedMetadataError

FIXTURES = Path(__file__).parent / "fixtures" / "embedded"
PROMPT = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8}}}
WORKFLOW = {"nodes": [{"id": 1, "type": "EmptyImage"}], "links": [], "extra": {"é": "✓"}}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(*chunks: bytes) -> bytes:
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    return embedded.PNG_SIGNATURE + header + b"".join(chunks) + _chunk(b"IEND", b"")


def _text(key: str, value: object) -> bytes:
    return _chunk(b"tEXt", key.encode() + b"\0" + json.dumps(value).encode("latin-1"))


def _webp_with_exif(exif: bytes) -> bytes:
    body = b"WEBP" + b"VP8L" + struct.pack("<I", 1) + b"\0\0" + b"EXIF"
    body += struct.pack("<I", len(exif)) + exif + (b"\0" if len(exif) & 1 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _tiff(order: str, values: dict[int, str]) -> bytes:
    mark = b"II*\0" if order == "<" else b"MM\0*"
    entries, heap = b"", b""
    heap_start = 8 + 2 + 12 * len(values) + 4
    for tag, text in sorted(values.items()):
        raw = text.encode() + b"\0"
        entries += struct.pack(order + "HHII", tag, 2, len(raw), heap_start + len(heap))
        heap += raw
    ifd = struct.pack(order + "H", len(values)) + entries + struct.pack(order + "I", 0)
    return mark + struct.pack(order + "I", 8) + ifd + heap


def test_reads_a_png_written_by_comfyui() -> None:
    found = read_embedded((FIXTURES / "comfyui-0.3.64-saveimage.png").read_bytes())
    assert found.image_format == "png"
    assert found.prompt is not None
    assert found.prompt["2"]["class_type"] == "SaveImage"
    assert found.workflow is not None
    assert found.workflow["extra"] == {"note": "ünïcødé ✓"}


def test_reads_a_webp_written_by_comfyui() -> None:
    found = read_embedded((FIXTURES / "comfyui-0.3.64-saveanimatedwebp.webp").read_bytes())
    assert found.image_format == "webp"
    assert found.prompt is not None
    assert found.prompt["2"]["class_type"] == "SaveAnimatedWEBP"
    assert found.workflow is not None
    assert found.workflow["nodes"][0]["type"] == "EmptyImage"


def test_reads_compressed_and_international_png_text() -> None:
    ztxt = b"prompt\0\0" + zlib.compress(json.dumps(PROMPT).encode())
    itxt = b"workflow\0\1\0en\0\0" + zlib.compress(json.dumps(WORKFLOW).encode())
    found = read_embedded(_png(_chunk(b"zTXt", ztxt), _chunk(b"iTXt", itxt)))
    assert (found.prompt, found.workflow) == (PROMPT, WORKFLOW)
    plain = b"workflow\0\0\0\0\0" + json.dumps(WORKFLOW, ensure_ascii=False).encode()
    assert read_embedded(_png(_chunk(b"iTXt", plain))).workflow == WORKFLOW


@pytest.mark.parametrize("order", ["<", ">"])
def test_reads_webp_exif_in_either_byte_order(order: str) -> None:
    exif = _tiff(order, {0x0110: f"prompt:{json.dumps(PROMPT)}", 0x010F: "workflow:{}"})
    found = read_embedded(_webp_with_exif(b"Exif\0\0" + exif))
    assert (found.prompt, found.workflow) == (PROMPT, {})


def test_an_image_without_metadata_carries_nothing() -> None:
    assert read_embedded(_png(_text("parameters", "a1111 style"))).workflow is None
    found = read_embedded(_webp_with_exif(_tiff("<", {0x010E: "a description"})))
    assert (found.prompt, found.workflow) == (None, None)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a....", "not_an_image"),
        (b"", "not_an_image"),
        (embedded.PNG_SIGNATURE + b"\0\0\0\x0dIHDR", "corrupt_image"),
        (_png(_text("prompt", PROMPT))[:-20], "corrupt_image"),
        (
            _png(_chunk(b"tEXt", b"prompt\0{}")).replace(b"prompt\0{}", b"prompt\0[]"),
            "corrupt_image",
        ),
        (_png(_chunk(b"zTXt", b"prompt\0\0not zlib")), "corrupt_image"),
        (_png(_chunk(b"tEXt", b"workflow\0{not json")), "invalid_json"),
        (_png(_text("prompt", [1, 2])), "invalid_json"),
        (_webp_with_exif(b"Exif\0\0garbage!"), "corrupt_image"),
    ],
)
def test_broken_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(EmbeddedMetadataError) as caught:
        read_embedded(data)
    assert caught.value.reason == reason
    assert caught.value.http_status == 422


def test_a_compressed_text_past_the_limit_is_not_inflated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "MAX_TEXT_BYTES", 1000)
    bomb = b"workflow\0\0" + zlib.compress(b"{" + b" " * 10_000_000 + b"}")
    with pytest.raises(EmbeddedMetadataError) as caught:
        read_embedded(_png(_chunk(b"zTXt", bomb)))
    assert caught.value.reason == "too_large"


def test_a_file_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "MAX_FILE_BYTES", 100)
    with pytest.raises(EmbeddedMetadataError) as caught:
        read_embedded(_png(_text("workflow", WORKFLOW)))
    assert caught.value.reason == "too_large"
