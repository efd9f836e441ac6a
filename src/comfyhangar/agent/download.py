"""Parallel, resumable, verified model downloads (step 4).

Every file is fetched into `<name>.hangar-part` next to its target, cut into segments that a
shared pool of connections downloads with HTTP Range requests, so parallelism runs across files
and within large ones. `<name>.hangar-part.json` records the bytes done in each segment; a killed
agent started again continues from there. Failed requests are retried with exponential backoff
and jitter. A finished file is checked (size, and sha256 when known), then renamed atomically into
place and recorded in a small registry, so the next run skips it without re-reading it.

What a file must be comes from the manifest and from its source (`published`): the size always
(the manifest's, else the source's, else the server's), the sha256 whenever either gives one.
A file already in place that the registry does not vouch for (changed since, or never checked)
is checked against the same values: kept if it matches, fetched again if not.

Servers differ, and change their minds. A server that ignores `Range` (a 200 with the whole
body) is read in one stream from the first byte; after a dropped connection the agent asks again
from where it stopped (`Range: bytes=N-`) and takes a 206 that starts there, or reads the whole
body again from the start on a 200. When a server that honoured ranges at the probe stops
honouring them, the file's segments are abandoned for one whole-file stream. A body of unknown
length (chunked, or ended by closing the connection) is complete when it ends cleanly; a reset
connection is retried like any other drop.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import re
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .diskstate import (
    flush_fd,
    read_json,
    sha256_of,
    stamp,
    stamp_matches,
    valid_segments,
    write_json,
)
from .httpget import HttpError, Response, host_key, open_url
from .manifest import ModelSpec
from .protocol import Reporter
from .published import (
    Expected,
    Mismatch,
    Published,
    expect,
    from_civitai_version,
    from_hf_headers,
    sha256_hex,
)
from .sources import Sources

CHUNK = 1 << 20
FILE_CHANGED = "the file changed on the server; its partial download was discarded"
PART = ".hangar-part"
METADATA_MAX_BYTES = 4 << 20
_T = TypeVar("_T")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


@dataclass
class DownloadOptions:
    """Tuning: connections in all, segment size, retries and backoff, and the http test switch."""

    connections: int = 16
    segment_size: int = 32 << 20
    retries: int = 6
    backoff_s: float = 1.0
    timeout_s: float = 60.0
    allow_http: bool = False
    state_every_s: float = 0.5


class DownloadFailed(Exception):
    """One file could not be downloaded; the message says why (already redacted upstream)."""


class _RangesIgnored(Exception):
    """A ranged request got the whole body (200): the server no longer honours ranges."""


class _Superseded(Exception):
    """The file switched to one whole-file stream: this segment's request is void."""


@dataclass
class _Job:
    spec: ModelSpec
    final: Path
    url: str
    size: int | None = None  # the size to reach (`expected.size` once known)
    expected: Expected = field(default_factory=Expected)
    kept: bool = False  # the file already in place is this file: nothing to fetch
    corrupt: bool = False  # arrived, failed its check, deleted (fetched once more)
    ranged: bool = False
    segments: list[list[int]] = field(default_factory=list)  # [start, end_excl, done]
    cdn_url: str | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    fd: int = -1
    remaining: int = 0

    @property
    def part(self) -> Path:
        return self.final.with_name(self.final.name + PART)

    @property
    def state(self) -> Path:
        return self.final.with_name(self.final.name + PART + ".json")

    def done_bytes(self) -> int:
        return sum(s[2] for s in self.segments)


class Downloader:
    """Downloads a list of models into `models_dir`, reporting on the `models` step."""

    def __init__(
        self, reporter: Reporter, sources: Sources, state_dir: Path, opts: DownloadOptions
    ) -> None:
        self.rep = reporter
        self.src = sources
        self.opts = opts
        self.registry_path = state_dir / "models.json"
        self._jobs: list[_Job] = []  # the files of this run, for the aggregated byte count
        self.fetched = 0  # files that needed a download in the last run

    def run(self, models: list[ModelSpec], models_dir: Path) -> list[str]:
        """Download what is missing; returns the names of files that failed (empty: success).

        `fetched` then says how many files needed a transfer (0: everything was in place)."""
        registry = self._load_registry()
        jobs: list[_Job] = []
        self.fetched = 0
        for spec in models:
            final = models_dir / spec.folder / spec.name
            if not final.resolve().is_relative_to(models_dir.resolve()):
                raise DownloadFailed(f"{spec.relpath}: leaves the models folder")
            job = _Job(spec, final, self.src.url_for(spec))
            if stamp_matches(registry.get(spec.relpath), final, job.url, spec.size, spec.sha256):
                self.rep.progress("models", "skipped", item=spec.name, message="already present")
                continue
            jobs.append(job)
        if not jobs:
            return []
        with ThreadPoolExecutor(min(8, len(jobs))) as pool:
            list(pool.map(self._plan, jobs))
        for job in (j for j in jobs if j.kept):
            registry[job.spec.relpath] = stamp(job.final, job.expected.sha256, job.url)
            self.rep.progress("models", "skipped", item=job.spec.name, message="already present")
        self._save_registry(registry)
        failed = [j for j in jobs if j.error]
        live = [j for j in jobs if not j.error and not j.kept]
        self.fetched = len(live)
        if live:
            self._fetch_all(live, models_dir)
            for job in live:
                if job.error is None and job.final.is_file():
                    registry[job.spec.relpath] = stamp(job.final, job.expected.sha256, job.url)
            self._save_registry(registry)
        for job in failed + [j for j in live if j.error]:
            self.rep.progress("models", "failed", item=job.spec.name, error=job.error)
        return [j.spec.name for j in failed + live if j.error]

    def _fetch_all(self, live: list[_Job], models_dir: Path) -> None:
        need = sum((j.size or 0) - j.done_bytes() for j in live)
        models_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(models_dir).free
        if need > free:
            raise DownloadFailed(f"not enough disk: {need} bytes to download, {free} free")
        total = sum(j.size or 0 for j in live)
        self._jobs = live
        self.rep.progress(
            "models", "running", force=True, bytes_done=self._done_bytes(), bytes_total=total,
            items_total=len(live), message=f"downloading {len(live)} file(s)",
        )  # fmt: skip
        self._download(live, total)
        redo = [j for j in live if j.corrupt]
        if redo:  # one more try for files that arrived corrupted
            self.rep.log(f"downloading again: {', '.join(j.spec.name for j in redo)}")
            for job in redo:
                job.error, job.corrupt, job.cdn_url = None, False, None
                self._prepare(job)
            self._download([j for j in redo if not j.error], total)

    # -- preparation -------------------------------------------------------------------

    def _plan(self, job: _Job) -> None:
        """Resume or probe the file, then decide whether a file already in place is kept."""
        if self._prepare(job) or not job.final.is_file():
            return
        name, expected = job.spec.name, job.expected
        if job.error:  # the source cannot be asked: the manifest's sha256 is enough to keep it
            if job.spec.sha256 and sha256_of(job.final) == job.spec.sha256:
                self.rep.log(f"{name}: {job.error}; the file in place has the manifest's sha256")
                job.error, job.kept = None, True
            return
        if not expected.checkable:
            self.rep.log(f"{name}: nothing gives its size or sha256; keeping the file in place")
            job.kept = True
            return
        problem = expected.problem(job.final.stat().st_size, lambda: sha256_of(job.final))
        if problem is None:
            job.kept = True
        else:
            self.rep.log(f"{name}: the file in place does not match ({problem}); fetching it")

    def _prepare(self, job: _Job) -> bool:
        """Resume from the state file (True), or probe the source and cut segments (False)."""
        state = read_json(job.state)
        if state and state.get("url") == job.url and job.part.is_file():
            size: Any = state.get("size")
            segments: Any = state.get("segments")
            sha = sha256_hex(state.get("sha256"))
            if (
                state.get("ranged") is True
                and type(size) is int
                and job.spec.size in (None, size)
                and (sha is None or job.spec.sha256 in (None, sha))
                and valid_segments(segments, size)
            ):
                job.size, job.ranged, job.segments = size, True, segments
                job.expected = Expected(size=size, sha256=job.spec.sha256 or sha)
                self.rep.log(f"{job.spec.name}: resuming at {job.done_bytes()} bytes")
                return True
        job.part.unlink(missing_ok=True)
        job.state.unlink(missing_ok=True)
        try:
            published = self._probe(job)
            job.expected = expect(job.spec, published, job.size)
        except (HttpError, DownloadFailed, Mismatch) as exc:
            job.error = self.rep.redact(str(exc))
            return False
        job.size = size = job.expected.size
        if job.ranged and size:
            step = max(self.opts.segment_size, 1 << 20)
            job.segments = [[s, min(s + step, size), 0] for s in range(0, size, step)]
        else:
            job.ranged = False
            job.segments = [[0, size or 0, 0]]
        return False

    def _probe(self, job: _Job) -> Published | None:
        """Size and range support from a one-byte request; what the source publishes."""
        headers = self._retrying(job, lambda: self._probe_once(job))
        published = from_hf_headers(headers)
        url = self.src.metadata_url(job.spec)
        if url is not None:
            published = self._metadata(job, url) or published
        return published

    def _probe_once(self, job: _Job) -> list[dict[str, str]]:
        """Set the server's size and range support; returns the headers of every hop."""
        resp = self._open(job, job.url, {"Range": "bytes=0-0"})
        try:
            self.src.check_response(resp, job.spec)
            match = _CONTENT_RANGE.match(resp.header("Content-Range") or "")
            if resp.status == 206 and match and match.group(3) != "*":
                job.size, job.ranged = int(match.group(3)), True
            else:
                length = resp.header("Content-Length")
                job.size = int(length) if length and length.isdigit() else None
            if job.ranged and host_key(resp.url) != host_key(job.url):
                job.cdn_url = resp.url  # a CDN needs no token; skip the redirect next time
            return [hop.headers for hop in resp.hops] + [resp.headers()]
        finally:
            resp.close()

    def _metadata(self, job: _Job, url: str) -> Published | None:
        """The source's own document about the file (Civitai); None, said in a log line, if
        it cannot be had: the download is then checked against what else is known."""

        def fetch() -> Published | None:
            resp = self._open(job, url, {"Accept": "application/json"})
            try:
                self.src.check_response(resp, job.spec)
                return from_civitai_version(json.loads(resp.resp.read(METADATA_MAX_BYTES)))
            finally:
                resp.close()

        try:
            return self._retrying(job, fetch)
        except (HttpError, ValueError, OSError, http.client.HTTPException) as exc:
            self.rep.log(f"{job.spec.name}: no size or sha256 from {host_key(url)} ({exc})")
            return None

    def _retrying(self, job: _Job, call: Callable[[], _T]) -> _T:
        """`call()`, again after a backoff while it fails with a retryable HttpError."""
        attempt = 0
        while True:
            try:
                return call()
            except HttpError as exc:
                attempt += 1
                if not exc.retryable or attempt > self.opts.retries:
                    raise
                self._backoff(job, exc, attempt)

    # -- transfer ----------------------------------------------------------------------

    def _download(self, jobs: list[_Job], total: int) -> None:
        tasks: queue.Queue[tuple[_Job, list[int]] | None] = queue.Queue()
        for job in jobs:
            job.part.parent.mkdir(parents=True, exist_ok=True)
            job.fd = os.open(job.part, os.O_RDWR | os.O_CREAT, 0o644)
            if job.ranged:
                os.ftruncate(job.fd, job.size or 0)
            self._save_state(job)
            todo = [s for s in job.segments if s[2] < s[1] - s[0] or not job.ranged]
            job.remaining = len(todo)
            self.rep.progress(
                "models", "started", item=job.spec.name, bytes_total=job.size,
                bytes_done=job.done_bytes(),
            )  # fmt: skip
            for seg in todo:
                tasks.put((job, seg))
            if not todo:
                tasks.put((job, []))  # everything on disk already: verify only
        workers = [
            threading.Thread(target=self._worker, args=(tasks,), daemon=True)
            for _ in range(max(1, min(self.opts.connections, tasks.qsize())))
        ]
        for _ in workers:
            tasks.put(None)
        stop = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(jobs, total, stop), daemon=True)
        ticker.start()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        stop.set()
        ticker.join()

    def _worker(self, tasks: queue.Queue[tuple[_Job, list[int]] | None]) -> None:
        while (task := tasks.get()) is not None:
            job, seg = task
            if seg and job.error is None:
                try:
                    self._fetch_segment(job, seg)
                except (HttpError, DownloadFailed, OSError) as exc:
                    with job.lock:
                        job.error = job.error or self.rep.redact(str(exc))
                except Exception as exc:  # noqa: BLE001 - a worker must never die silently
                    with job.lock:
                        job.error = job.error or self.rep.redact(f"{type(exc).__name__}: {exc}")
            with job.lock:
                job.remaining -= 1 if seg else 0
                last = job.remaining <= 0 and job.fd >= 0
                fd, job.fd = (job.fd, -1) if last else (job.fd, job.fd)
            if last:
                self._finish(job, fd)

    def _fetch_segment(self, job: _Job, seg: list[int] | None) -> None:
        """Fetch one segment, retrying drops; a file that stops honouring ranges continues in
        one whole-file stream, which the worker that noticed takes over."""
        failures = 0
        while seg is not None:
            with job.lock:
                if not any(s is seg for s in job.segments):
                    return  # superseded by a whole-file stream
                if job.ranged and seg[2] >= seg[1] - seg[0]:
                    return
                before = seg[2]
            try:
                if self._stream(job, seg):
                    return
                raise HttpError("connection closed early")
            except _Superseded:
                return
            except _RangesIgnored:
                seg, failures = self._whole_file(job), 0
            except HttpError as exc:
                if not exc.retryable:
                    raise
                failures = 0 if seg[2] > before else failures + 1
                if failures > self.opts.retries:
                    raise DownloadFailed(f"gave up after {failures} attempts: {exc}") from None
                job.cdn_url = None if exc.status in (401, 403, 404, 410) else job.cdn_url
                self._backoff(job, exc, failures)

    def _whole_file(self, job: _Job) -> list[int] | None:
        """Give up the file's segments for one stream from byte 0; None if another worker did."""
        with job.lock:
            if not job.ranged:
                return None
            job.ranged = False
            job.segments = [[0, job.size or 0, 0]]
        self.rep.log(f"{job.spec.name}: the server stopped honouring ranges; one stream from 0")
        return job.segments[0]

    def _backoff(self, job: _Job, exc: Exception, failures: int) -> None:
        delay = min(self.opts.backoff_s * 2 ** max(failures - 1, 0), 30.0)
        delay *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not crypto
        if isinstance(exc, HttpError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)  # the server said when
        self.rep.log(f"{job.spec.name}: {exc}; retry in {delay:.1f}s")
        time.sleep(delay)

    def _stream(self, job: _Job, seg: list[int]) -> bool:
        """One request for the rest of `seg`, written as it arrives; True once `seg` is complete.

        A ranged file asks for its segment and must get exactly it (206). A file without
        ranges asks for the rest of the body when some of it is on disk already; a 206 that
        starts there continues it, a 200 starts it again from byte 0.
        """
        with job.lock:
            segments, ranged, start = job.segments, job.ranged, seg[0] + seg[2]
        if ranged:
            headers = {"Range": f"bytes={start}-{seg[1] - 1}"}
        else:
            headers = {"Range": f"bytes={start}-"} if start > 0 else {}
        resp = self._open(job, job.cdn_url or job.url, headers)
        try:
            self.src.check_response(resp, job.spec)
            if resp.status == 206:
                first, total = self._content_range(resp, job)
                if first != start:
                    raise HttpError(f"asked for bytes {start}-, got {first}-", retryable=False)
                offset, end = start, seg[1] if ranged else total
            elif ranged:
                raise _RangesIgnored
            else:
                length = resp.header("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if None not in (job.size, total) and total != job.size:
                    raise HttpError(FILE_CHANGED, retryable=False)
                with job.lock:
                    if job.segments is not segments:
                        raise _Superseded
                    os.ftruncate(job.fd, 0)
                    seg[2] = 0
                offset, end = 0, job.size if job.size is not None else total
            if not ranged and end is not None:
                seg[1] = end
            offset = self._copy(job, segments, seg, resp, offset, end)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise HttpError(f"{type(exc).__name__}: {exc}") from None
        finally:
            resp.close()
        if end is None:  # no length known: a clean end of the body is its end
            seg[1] = offset
            return True
        if offset < end and not ranged:
            raise HttpError(f"body ended at {offset} of {end} bytes")
        return offset >= end

    def _content_range(self, resp: Response, job: _Job) -> tuple[int, int | None]:
        """The first byte and the total size of a 206; a total other than the file's is a
        changed file."""
        match = _CONTENT_RANGE.match(resp.header("Content-Range") or "")
        if not match:
            raise HttpError("a 206 without a valid Content-Range", retryable=False)
        total = None if match.group(3) == "*" else int(match.group(3))
        if job.size is not None and total != job.size:
            raise HttpError(FILE_CHANGED, retryable=False)
        return int(match.group(1)), total

    def _copy(
        self, job: _Job, segments: list[list[int]], seg: list[int], resp: Response,
        offset: int, end: int | None,
    ) -> int:  # fmt: skip
        """Write the body at `offset` on, up to `end` (exclusive) if known; returns the offset
        reached. Writes happen under the job's lock, so none lands after a switch to a
        whole-file stream."""
        view = memoryview(bytearray(CHUNK))
        while end is None or offset < end:
            n = resp.resp.readinto(view if end is None else view[: min(CHUNK, end - offset)])
            if not n:
                break
            with job.lock:
                if job.segments is not segments:
                    raise _Superseded
                os.pwrite(job.fd, view[:n], offset)
                offset += n
                seg[2] = offset - seg[0]
            if job.error:
                raise DownloadFailed(job.error)
        return offset

    def _finish(self, job: _Job, fd: int) -> None:
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if job.error == FILE_CHANGED:  # the partial bytes are worthless: start over next time
            job.part.unlink(missing_ok=True)
            job.state.unlink(missing_ok=True)
            return
        if job.error:
            self._save_state(job, force=True)
            return
        size = job.part.stat().st_size
        problem = job.expected.problem(size, lambda: sha256_of(job.part))
        if problem is not None:
            job.error, job.corrupt = f"the download failed its check ({problem}); deleted", True
            job.part.unlink(missing_ok=True)
            job.state.unlink(missing_ok=True)
            return
        os.replace(job.part, job.final)
        job.state.unlink(missing_ok=True)
        self.rep.progress("models", "done", item=job.spec.name, bytes_done=size, bytes_total=size)

    def _tick(self, jobs: list[_Job], total: int, stop: threading.Event) -> None:
        """Every 0.5 s: one aggregated `running` line, and the state files saved."""
        first_t, first_b = time.monotonic(), self._done_bytes()
        last_t, last_b, speed, saved = first_t, first_b, 0.0, first_t
        while not stop.wait(0.5):
            now, done = time.monotonic(), self._done_bytes()
            inst = (done - last_b) / max(now - last_t, 1e-6)
            speed = inst if speed == 0 else 0.7 * speed + 0.3 * inst
            last_t, last_b = now, done
            eta = (total - done) / speed if speed > 0 and total >= done else None
            active = [j.spec.name for j in jobs if j.fd >= 0]
            self.rep.progress(
                "models", "running", bytes_done=done, bytes_total=total, speed_bps=round(speed),
                eta_s=round(eta, 1) if eta is not None else None,
                item=active[0] if active else None,
            )  # fmt: skip
            if now - saved >= self.opts.state_every_s:
                saved = now
                for job in jobs:
                    self._save_state(job)
        elapsed, done = time.monotonic() - first_t, self._done_bytes()
        self.rep.progress(
            "models", "running", force=True, bytes_done=done, bytes_total=total,
            speed_bps=round((done - first_b) / max(elapsed, 1e-6)), eta_s=0,
        )  # fmt: skip

    def _done_bytes(self) -> int:
        """Bytes on disk over the files of this run (what `running` lines report)."""
        return sum(j.done_bytes() for j in self._jobs)

    def _open(self, job: _Job, url: str, headers: dict[str, str]) -> Response:
        kind = job.spec.kind
        return open_url(
            url, headers, auth=lambda hop: self.src.auth_for(hop, kind),
            allow_http=self.opts.allow_http,
            timeout=self.opts.timeout_s,
        )  # fmt: skip

    def _save_state(self, job: _Job, *, force: bool = False) -> None:
        """Record segment progress; never claims bytes that are not on disk yet.

        The progress is copied first and the data flushed after, so every byte the state file
        counts was written before the flush: a kill, or a crash of the machine, resumes safely.
        """
        with job.lock:
            if job.fd < 0 and not force:
                return  # finished (or never opened): the state file is gone or about to go
            body = {"url": job.url, "size": job.size, "ranged": job.ranged,
                    "sha256": job.expected.sha256,
                    "segments": [list(s) for s in job.segments]}  # fmt: skip
            if job.fd >= 0:
                flush_fd(job.fd)
            write_json(job.state, body)

    def _load_registry(self) -> dict[str, Any]:
        return read_json(self.registry_path) or {}

    def _save_registry(self, registry: dict[str, Any]) -> None:
        self.registry_path.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.registry_path, registry)
