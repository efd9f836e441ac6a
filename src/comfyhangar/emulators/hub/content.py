"""File content the stand-ins serve: real bytes (tests), or synthesized deterministically.

Model files are tens of GB, so the default catalog never stores them: `Synthetic` content is a
function of a seed and an offset. Block `i` (1 MiB) is the block index as 8 big-endian bytes
followed by the tail of one pseudo-random 1 MiB block derived from the seed (SHAKE-256), so any
byte range is cheap to produce, every block differs from every other, and the sha256 the hubs
publish is the sha256 of exactly these bytes (`hashes.py` keeps it for the big default files;
`sha256_of` computes it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

BLOCK = 1 << 20
#: Bump when the construction changes: every synthetic sha256 changes with it.
SCHEME = "comfyhangar-hub-synthetic-v1"


@lru_cache(maxsize=8)
def _base_block(seed: str) -> bytes:
    return hashlib.shake_256(f"{SCHEME}:{seed}".encode()).digest(BLOCK)


@dataclass(frozen=True)
class Synthetic:
    """`size` bytes derived from `seed`; never held in memory whole."""

    seed: str
    size: int

    def block(self, index: int) -> bytes:
        """Block `index` (the last one is cut at `size`)."""
        start = index * BLOCK
        data = index.to_bytes(8, "big") + _base_block(self.seed)[8:]
        return data[: max(0, min(BLOCK, self.size - start))]

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes `[start, end)` in pieces of at most one block."""
        pos = start
        while pos < end:
            index, offset = divmod(pos, BLOCK)
            piece = self.block(index)[offset : offset + (end - pos)]
            yield piece
            pos += len(piece)


@dataclass(frozen=True)
class Stored:
    """Real bytes (files that tests add)."""

    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes `[start, end)` in pieces of at most one block."""
        for pos in range(start, end, BLOCK):
            yield self.data[pos : min(end, pos + BLOCK)]


Content = Synthetic | Stored


def sha256_of(content: Content) -> str:
    """The sha256 (hex) of the whole content (reads it all: seconds per GB when synthetic)."""
    digest = hashlib.sha256()
    for piece in content.chunks(0, content.size):
        digest.update(piece)
    return digest.hexdigest()


def git_blob_sha1(content: Content) -> str:
    """The git blob id of the content (Hugging Face's ETag for a file not in LFS)."""
    digest = hashlib.sha1(f"blob {content.size}\0".encode(), usedforsecurity=False)
    for piece in content.chunks(0, content.size):
        digest.update(piece)
    return digest.hexdigest()
