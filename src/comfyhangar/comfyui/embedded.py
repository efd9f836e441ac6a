"""Read the workflow and prompt that ComfyUI embeds in the images it saves.

- PNG (SaveImage, PreviewImage): text chunks `prompt` (API JSON) and one per `extra_pnginfo`
  key, usually `workflow` (UI JSON); read from `tEXt`, `zTXt` and `iTXt` chunks alike.
- WebP (SaveAnimatedWEBP, SaveWEBM's stills, V3 nodes): the EXIF chunk, whose first IFD holds
  ASCII values `"prompt:{...}"` (tag 0x0110, Model) and `"workflow:{...}"` (0x010F, Make, then
  downwards for further keys), as ComfyUI writes them with Pillow.

Pure functions over bytes with limits on sizes: a file over `MAX_FILE_BYTES`, a text over
`MAX_TEXT_BYTES` once inflated, or more than `MAX_CHUNKS` chunks is refused, never read whole.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from comfyhangar.comfyui.errors import EmbeddedMetadataError

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TEXT_BYTES = 16 * 1024 * 1024
MAX_CHUNKS = 10_000
MAX_IFD_ENTRIES = 1_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYS = ("prompt", "workflow")


@dataclass(frozen=True, slots=True)
class EmbeddedWorkflow:
    """What an image carries; either may be None (an image saved with --disable-metadata)."""

    image_format: str
    prompt: dict[str, Any] | None
    workflow: dict[str, Any] | None


def read_embedded(data: bytes) -> EmbeddedWorkflow:
    """The `prompt` and `workflow` embedded in a PNG or WebP file written by ComfyUI."""
    if len(data) > MAX_FILE_BYTES:
        raise EmbeddedMetadataError("too_large", f"images over {MAX_FILE_BYTES} bytes are refused")
    if data.startswith(PNG_SIGNATURE):
        return _parsed("png", _png_texts(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _parsed("webp", _webp_texts(data))
    raise EmbeddedMetadataError("not_an_image", "not a PNG or WebP file")


def _parsed(image_format: str, texts: dict[str, str]) -> EmbeddedWorkflow:
    found: dict[str, dict[str, Any] | None] = {}
    for key in KEYS:
        text = texts.get(key)
        if text is None:
            found[key] = None
            continue
        try:
            value = json.loads(text)
        except ValueError:
            raise EmbeddedMetadataError(
                "invalid_json", f"the {image_format.upper()}'s `{key}` is not JSON"
            ) from None
        if not isinstance(value, dict):
            raise EmbeddedMetadataError(
                "invalid_json", f"the {image_format.upper()}'s `{key}` is not a JSON object"
            )
        found[key] = value
    return EmbeddedWorkflow(image_format, found["prompt"], found["workflow"])


def _corrupt(what: str) -> EmbeddedMetadataError:
    return EmbeddedMetadataError("corrupt_image", what)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error:
        raise _corrupt("a compressed PNG text chunk does not inflate") from None
    if inflater.unconsumed_tail:
        raise EmbeddedMetadataError(
            "too_large", f"an embedded text inflates past {MAX_TEXT_BYTES} bytes"
        )
    return out


def _png_texts(data: bytes) -> dict[str, str]:
    texts: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    for _ in range(MAX_CHUNKS):
        if pos + 12 > len(data):
            raise _corrupt("the PNG ends inside a chunk (no IEND)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        if end + 4 > len(data):
            raise _corrupt(f"the PNG chunk {kind!r} runs past the end of the file")
        body = data[pos + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            if zlib.crc32(kind + body) != crc:
                raise _corrupt(f"the PNG chunk {kind.decode()} fails its checksum")
            key, text = _png_text(kind, body)
            if key in KEYS and key not in texts:
                texts[key] = text
        if kind == b"IEND":
            return texts
        pos = end + 4
    raise EmbeddedMetadataError("too_large", f"more than {MAX_CHUNKS} PNG chunks")


def _png_text(kind: bytes, body: bytes) -> tuple[str, str]:
    keyword, sep, rest = body.partition(b"\0")
    if not sep:
        raise _corrupt(f"a PNG {kind.decode()} chunk has no keyword")
    key = keyword.decode("latin-1")
    if kind == b"tEXt":
        return key, _limited(rest).decode("latin-1")
    if kind == b"zTXt":
        if len(rest) < 1:
            raise _corrupt("a PNG zTXt chunk is truncated")
        return key, _inflate(rest[1:]).decode("latin-1")
    if len(rest) < 2:
        raise _corrupt("a PNG iTXt chunk is truncated")
    compressed, remainder = rest[0], rest[2:]
    _language, _, remainder = remainder.partition(b"\0")
    _translated, _, text = remainder.partition(b"\0")
    raw = _inflate(text) if compressed else _limited(text)
    try:
        return key, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _corrupt("a PNG iTXt chunk is not UTF-8") from None


def _limited(raw: bytes) -> bytes:
    if len(raw) > MAX_TEXT_BYTES:
        raise EmbeddedMetadataError("too_large", f"an embedded text is over {MAX_TEXT_BYTES} bytes")
    return raw


def _webp_texts(data: bytes) -> dict[str, str]:
    (riff_size,) = struct.unpack("<I", data[4:8])
    end_of_file = min(len(data), 8 + riff_size)
    pos = 12
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end_of_file:
            return {}
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise _corrupt(f"the WebP chunk {kind!r} runs past the end of the file")
        if kind == b"EXIF":
            return _exif_texts(body)
        pos += 8 + length + (length & 1)
    raise EmbeddedMetadataError("too_large", f"more than {MAX_CHUNKS} WebP chunks")


_TIFF_TEXT_TYPES = {2, 7, 129}  # ASCII, UNDEFINED, UTF-8


def _exif_texts(exif: bytes) -> dict[str, str]:
    tiff = exif[6:] if exif.startswith(b"Exif\0\0") else exif
    if tiff[:4] not in (b"II*\0", b"MM\0*"):
        raise _corrupt("the WebP EXIF chunk is not TIFF data")
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        raise _corrupt("the WebP EXIF directory lies outside the chunk")
    (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
    if count > MAX_IFD_ENTRIES:
        raise EmbeddedMetadataError("too_large", "the WebP EXIF directory has too many entries")
    texts: dict[str, str] = {}
    for index in range(count):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(tiff):
            raise _corrupt("the WebP EXIF directory is truncated")
        _tag, kind, size = struct.unpack(order + "HHI", tiff[entry : entry + 8])
        if kind not in _TIFF_TEXT_TYPES:
            continue
        if size <= 4:
            raw = tiff[entry + 8 : entry + 8 + size]
        else:
            (offset,) = struct.unpack(order + "I", tiff[entry + 8 : entry + 12])
            raw = tiff[offset : offset + size]
            if len(raw) != size:
                raise _corrupt("a WebP EXIF value lies outside the chunk")
        text = _limited(raw).rstrip(b"\0").decode("utf-8", errors="replace")
        key, sep, value = text.partition(":")
        if sep and key in KEYS and key not in texts:
            texts[key] = value
    return texts
