"""On-disk bookkeeping for downloads: state files, the registry stamp, hashing.

State and registry files are written to a temporary name and renamed, so a kill never leaves
half a JSON document behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def valid_segments(segments: Any, size: int) -> bool:
    """True if `segments` is a list of [start, end, done] that tiles 0..size."""
    if not isinstance(segments, list) or not segments:
        return False
    expected = 0
    for seg in segments:
        if not (isinstance(seg, list) and len(seg) == 3 and all(type(v) is int for v in seg)):
            return False
        start, end, done = seg
        if start != expected or not (start < end <= size) or not (0 <= done <= end - start):
            return False
        expected = end
    return expected == size


def stamp(path: Path, sha: str | None, url: str) -> dict[str, Any]:
    """What the registry remembers of a checked file: size, mtime, the sha256 it was checked
    against (None if nothing published one) and the URL it came from."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha, "url": url}


def stamp_matches(entry: Any, path: Path, url: str, size: int | None, sha: str | None) -> bool:
    """True if the registry `entry` still describes `path` (same size and mtime, same URL) and
    agrees with the manifest's `size` and `sha` where it gives them; a file changed since it was
    checked, or asked for from elsewhere, is checked again. Entries written before the URL was
    recorded match any URL."""
    if not isinstance(entry, dict) or not path.is_file():
        return False
    st = path.stat()
    return (
        entry.get("size") == st.st_size
        and entry.get("mtime_ns") == st.st_mtime_ns
        and entry.get("url", url) == url
        and sha in (None, entry.get("sha256"))
        and size in (None, st.st_size)
    )


def sha256_of(path: Path) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 * CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None if it is missing or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, body: dict[str, Any]) -> None:
    """Write `body` to `path` atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, path)


def flush_fd(fd: int) -> None:
    """Flush a file's data to disk (a file system without fsync is tolerated)."""
    with contextlib.suppress(OSError):
        getattr(os, "fdatasync", os.fsync)(fd)
