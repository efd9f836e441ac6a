"""Where run outputs live once copied home: a directory under the data dir by default, or an
S3-compatible bucket (`HANGAR_OUTPUT_S3_BUCKET`).

A store writes a stream under a key atomically (a reader never sees half a file; a copy that
was cut off leaves nothing under the key) and reports its size and sha256. Keys are
`runs/<run id>/<node id>/<subfolder>/<file name>` with every part checked, so no key names a
path outside the store.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from comfyhangar.server.settings import Settings

CHUNK = 1 << 20
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Stored:
    size: int
    sha256: str
    width: int | None
    height: int | None


class OutputStore(Protocol):
    """What the dispatcher and the output routes need of a store."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> Stored: ...

    def read(self, key: str) -> AsyncIterator[bytes]: ...

    def path(self, key: str) -> Path | None:
        """A local file of the key, when the store has one (served directly)."""


def store_for(settings: Settings) -> OutputStore:
    """The store the settings ask for."""
    if settings.output_s3_bucket:
        return S3Store(
            settings.output_s3_bucket,
            prefix=settings.output_s3_prefix,
            endpoint_url=settings.output_s3_endpoint_url,
            region=settings.output_s3_region,
            spool_dir=settings.data_dir / "spool",
        )
    return LocalStore(settings.effective_output_dir)


def output_key(run_id: str, node_id: str, subfolder: str, filename: str) -> str:
    """The key of one output; refuses names that would escape their folder."""
    parts = [run_id, node_id, *[p for p in subfolder.split("/") if p], filename]
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise ValueError(f"unsafe output name part {part!r}")
    return "runs/" + "/".join(parts)


def content_type(filename: str) -> str:
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


def image_size(head: bytes) -> tuple[int | None, int | None]:
    """Width and height from the first bytes of a PNG, WebP, JPEG or GIF (None if unknown)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24 and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        chunk = head[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(head[24:27], "little")
            height = 1 + int.from_bytes(head[27:30], "little")
            return width, height
        if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
            width, height = struct.unpack("<HH", head[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
        if chunk == b"VP8L" and head[20] == 0x2F:
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if head[:2] == b"\xff\xd8":
        return _jpeg_size(head)
    return None, None


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            return None, None
        marker = head[at + 1]
        length = int.from_bytes(head[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return int(width), int(height)
        at += 2 + length
    return None, None


class LocalStore:
    """Outputs as files under `root` (by default `<data dir>/outputs`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _file(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key {key!r} is outside the store")
        return path

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> Stored:
        """Write the stream under `key`. Each chunk is hashed and written in a worker thread
        while the next one is read (one in flight, in order), so the socket keeps flowing."""
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        size = 0
        head = b""
        pending: asyncio.Future[None] | None = None
        try:
            with partial.open("wb") as out:

                def absorb(chunk: bytes) -> None:
                    out.write(chunk)
                    digest.update(chunk)

                try:
                    async for chunk in chunks:
                        if pending is not None:
                            await pending
                        pending = asyncio.ensure_future(asyncio.to_thread(absorb, chunk))
                        size += len(chunk)
                        if len(head) < HEAD_BYTES:
                            head += chunk[: HEAD_BYTES - len(head)]
                finally:
                    if pending is not None:  # never close the file under a running write
                        await asyncio.shield(pending)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        width, height = image_size(head)
        return Stored(size, digest.hexdigest(), width, height)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        with self._file(key).open("rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    def path(self, key: str) -> Path | None:
        path = self._file(key)
        return path if path.is_file() else None


class S3Store:
    """Outputs as objects of an S3-compatible bucket (AWS, MinIO, R2, ...), under `prefix`.

    Credentials come from the usual AWS chain (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`,
    a profile, an instance role), never from ComfyHangar's own settings. A file is spooled to
    `spool_dir` while its digest is taken, then uploaded (multipart when large): an object
    appears whole or not at all. boto3 blocks, so each call runs in a thread.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        spool_dir: Path,
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.spool_dir = spool_dir
        self._client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    def _object(self, key: str) -> str:
        return self.prefix + key

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> Stored:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        spool = LocalStore(self.spool_dir)
        name = f"{os.getpid()}-{hashlib.sha256(key.encode()).hexdigest()[:24]}"
        stored = await spool.put(name, chunks)
        path = self.spool_dir / name
        try:
            await asyncio.to_thread(
                self._client.upload_file,
                str(path),
                self.bucket,
                self._object(key),
                ExtraArgs={"ContentType": content_type(key.rsplit("/", 1)[-1])},
            )
        finally:
            path.unlink(missing_ok=True)
        return stored

    async def read(self, key: str) -> AsyncIterator[bytes]:
        answer = await asyncio.to_thread(
            self._client.get_object, Bucket=self.bucket, Key=self._object(key)
        )
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    def path(self, key: str) -> Path | None:
        return None
