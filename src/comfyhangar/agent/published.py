"""What a model file must be: its size and sha256, from the manifest and from its source.

Sources publish what they serve:

- Hugging Face answers `/resolve/` for a file stored with LFS (or Xet) with a redirect to its
  CDN that carries `X-Linked-Size` and `X-Linked-Etag`, the size and the quoted sha256 of the
  file (`ETag` carries it too); `huggingface_hub` reads them the same way
  (`get_hf_file_metadata`: `X-Linked-Etag` or `ETag`, with `W/` and quotes removed). A small file
  kept in git is served by the hub itself; its ETag is the git blob's sha1 and says nothing of
  the sha256.
- Civitai lists the files of a model version in `GET /api/v1/model-versions/{id}`, each with
  `sizeKB` (rounded) and `hashes.SHA256` (upper case); `/api/download/models/{id}` serves the
  version's `primary` file.

The manifest's values win; where the manifest and the source disagree, the file is not
downloaded at all and the error names both. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .manifest import ModelSpec

HUGGING_FACE = "Hugging Face"
CIVITAI = "Civitai"
SIZE_KB_SLACK = 1024  # bytes: Civitai's sizeKB is rounded
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class Mismatch(ValueError):
    """The manifest, the source or the server disagree about a file; the message names both."""


@dataclass(frozen=True)
class Published:
    """What a source says about a file; `size_kb` is Civitai's approximate size."""

    source: str
    size: int | None = None
    size_kb: float | None = None
    sha256: str | None = None


def normalize_etag(value: str | None) -> str | None:
    """An ETag without its weak marker and quotes (`W/"abc"` -> `abc`)."""
    if value is None:
        return None
    value = value.strip()
    return value[2:].strip('"') if value.startswith("W/") else value.strip('"')


def sha256_hex(value: Any) -> str | None:
    """`value` as a lower-case sha256, or None if it is not 64 hex digits."""
    return value.lower() if isinstance(value, str) and _SHA256.fullmatch(value) else None


def from_hf_headers(responses: Iterable[dict[str, str]]) -> Published | None:
    """Hugging Face's size and sha256 from the headers of a download's responses, in order
    (names lower-case); None when no response is a hub answer about an LFS file."""
    for headers in responses:
        linked_size, linked_etag = headers.get("x-linked-size"), headers.get("x-linked-etag")
        if linked_size is None and linked_etag is None:
            continue
        etag = normalize_etag(linked_etag or headers.get("etag"))
        size = int(linked_size) if linked_size and linked_size.isdigit() else None
        return Published(HUGGING_FACE, size=size, sha256=sha256_hex(etag))
    return None


def from_civitai_version(doc: Any) -> Published | None:
    """The primary file of a Civitai model-version document (the file the download serves)."""
    files = doc.get("files") if isinstance(doc, dict) else None
    files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    chosen = next((f for f in files if f.get("primary") is True), None)
    chosen = chosen or next((f for f in files if f.get("type") == "Model"), None)
    if chosen is None:
        return None
    hashes = chosen.get("hashes")
    sha = sha256_hex(hashes.get("SHA256")) if isinstance(hashes, dict) else None
    size_kb = chosen.get("sizeKB")
    ok_kb = type(size_kb) in (int, float) and size_kb >= 0
    return Published(CIVITAI, size_kb=float(size_kb) if ok_kb else None, sha256=sha)


@dataclass(frozen=True)
class Expected:
    """What a file must be to be kept: `size` exactly, about `size_kb`, and `sha256`."""

    size: int | None = None
    sha256: str | None = None
    size_kb: float | None = None
    source: str = ""  # who published what is not from the manifest, for messages

    def problem(self, size: int, sha256: Callable[[], str]) -> str | None:
        """Why a file of `size` bytes (whose sha256 `sha256()` computes) is not this file."""
        if self.size is not None and size != self.size:
            return f"size {size} instead of {self.size}"
        if not _near(size, self.size_kb):
            return f"size {size} instead of about {self.size_kb} KB ({self.source})"
        if self.sha256 is not None and (actual := sha256()) != self.sha256:
            return f"sha256 {actual} instead of {self.sha256}"
        return None

    @property
    def checkable(self) -> bool:
        """True if a file can be told apart from this one at all."""
        return self.size is not None or self.size_kb is not None or self.sha256 is not None


def expect(spec: ModelSpec, published: Published | None, server_size: int | None) -> Expected:
    """Combine the manifest, the source and the server's size; raises Mismatch on a conflict.

    The size is the manifest's, else the source's, else the server's (Content-Range or
    Content-Length); the sha256 is the manifest's, else the source's.
    """
    pub = published or Published("")
    said = f"{pub.source} publishes"
    if spec.sha256 and pub.sha256 and spec.sha256 != pub.sha256:
        raise Mismatch(f"sha256 differs: the manifest says {spec.sha256}, {said} {pub.sha256}")
    if spec.size is not None and pub.size is not None and spec.size != pub.size:
        raise Mismatch(f"size differs: the manifest says {spec.size} bytes, {said} {pub.size}")
    if spec.size is not None and not _near(spec.size, pub.size_kb):
        raise Mismatch(
            f"size differs: the manifest says {spec.size} bytes, {said} about {pub.size_kb} KB"
        )
    size = spec.size if spec.size is not None else pub.size
    if size is not None and server_size is not None and server_size != size:
        by = "the manifest says" if spec.size is not None else said
        raise Mismatch(f"the server sends {server_size} bytes; {by} {size}")
    if server_size is not None and not _near(server_size, pub.size_kb):
        raise Mismatch(f"the server sends {server_size} bytes; {said} about {pub.size_kb} KB")
    return Expected(
        size=size if size is not None else server_size,
        sha256=spec.sha256 or pub.sha256,
        size_kb=pub.size_kb if size is None and server_size is None else None,
        source=pub.source,
    )


def _near(size: int, size_kb: float | None) -> bool:
    """True if `size` bytes is `size_kb` (rounded kilobytes), or nothing is known."""
    return size_kb is None or abs(size - size_kb * 1024) <= SIZE_KB_SLACK
