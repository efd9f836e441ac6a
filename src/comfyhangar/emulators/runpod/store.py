"""Where an emulator keeps its account: nowhere (`Store`, the default) or a SQLite file.

The emulator stages what an operation changed (`stage_pod`, `stage_logs`, `stage_volume`,
`stage_template`, `stage_account`) and calls `commit()` once, before it answers the request.
`SqliteStore` writes the staged changes in one transaction: a pod's record only when the pod
changed, its phases from the first changed one on, its new log lines (append-only, never the
old ones again), its scheduled lines when they changed, and the clock anchor on every commit. So the cost of a commit follows what changed,
not what the account holds.

The file (`STATE_VERSION` 1):

| table | rows |
| --- | --- |
| `meta(key, value)` | `format`, `version`, `account` (JSON), `clock` (JSON) |
| `pods(id, seq, record)` | one pod each: its record (`codec.py`) without phases and log |
| `phases(pod_id, position, record)` | each pod's status timeline, rewritten from the first change |
| `log_lines(pod_id, seq, ts, source, line)` | numbered lines, as the log stream sent them |
| `pending_lines(pod_id, position, ts, source, line)` | lines scheduled for later |
| `volumes(id, record)`, `templates(id, record)` | network volumes; the account's own templates |

Durability: WAL with `synchronous=NORMAL`, as the server's own SQLite database (decisions.md
D2): a commit has reached the operating system before the emulator answers, so it survives the
process being killed at any moment (SIGKILL, OOM); a torn transaction is rolled back by SQLite
at the next open, so the file is always readable. An OS crash or power cut may lose the last
commits (no fsync per commit, which would block the server's event loop on every log batch).
The file is opened in EXCLUSIVE locking mode: a second process on the same file is refused. A file
of another format, of an unknown (newer) version, or damaged stops the start with a
`StateFileError` that names the file: nothing is ever silently started afresh.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from comfyhangar.emulators.runpod.clock import ClockAnchor
from comfyhangar.emulators.runpod.codec import PlainError, from_plain, to_plain
from comfyhangar.emulators.runpod.logs import LogLine
from comfyhangar.emulators.runpod.model import NetworkVolume, Phase, Pod

STATE_FORMAT: Final = "comfyhangar-runpod-emulator"
STATE_VERSION: Final = 1
LOCK_WAIT_S: Final = 0.2

StockKey = tuple[str, str, str]
Pending = tuple[datetime, str, str]

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE pods (id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE TABLE phases (
    pod_id TEXT NOT NULL, position INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (pod_id, position)
) WITHOUT ROWID;
CREATE TABLE log_lines (
    pod_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL,
    source TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (pod_id, seq)
) WITHOUT ROWID;
CREATE TABLE pending_lines (
    pod_id TEXT NOT NULL, position INTEGER NOT NULL, ts TEXT NOT NULL,
    source TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (pod_id, position)
) WITHOUT ROWID;
CREATE TABLE volumes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE templates (id TEXT PRIMARY KEY, record TEXT NOT NULL);
"""
_TABLES = frozenset(
    {"meta", "pods", "phases", "log_lines", "pending_lines", "volumes", "templates"}
)
_FRESH_START = "move the file away to start a fresh simulated cloud (its pods are then lost)"


class StateFileError(Exception):
    """The state file cannot be used; the message names it and says what to do."""

    def __init__(self, path: Path, problem: str, advice: str = _FRESH_START) -> None:
        super().__init__(f"simulated cloud state {path}: {problem}; {advice}")
        self.path = path


@dataclass
class AccountRecord:
    """The account apart from its pods, volumes and templates.

    `stock` lists the GPU capacities set away from `locations.default_stock()` (by `set_stock`
    and `clear_stock`; the others follow the code's default; what pods hold of them is in the
    pods, `Pod.holds_gpus`); `rng_state` is the id generator's (`random.Random.getstate()`), so
    ids and secrets never repeat.
    """

    credit: Decimal
    seed_text: str
    rng_state: tuple[int, tuple[int, ...], float | None]
    stock: list[tuple[StockKey, int]] = field(default_factory=list)


@dataclass
class StoredState:
    """Everything a state file holds, as the emulator's own records."""

    clock: ClockAnchor
    account: AccountRecord
    pods: list[Pod]
    volumes: list[NetworkVolume]
    templates: list[dict[str, Any]]


class Store:
    """The store of an emulator that keeps its account in memory only: staging is a no-op."""

    def stage_pod(self, pod: Pod) -> None:
        """The pod's record changed (and maybe its log)."""

    def stage_logs(self, pod: Pod) -> None:
        """Only the pod's log changed (new lines, or scheduled lines added or due)."""

    def stage_volume(self, volume: NetworkVolume) -> None:
        """A network volume was created or changed."""

    def stage_template(self, template_id: str, template: dict[str, Any] | None) -> None:
        """An account template was saved, or deleted (`None`)."""

    def stage_account(self) -> None:
        """Credit, stock or the id generator changed."""

    def stage_clock(self) -> None:
        """The simulated clock jumped (`SimClock.advance`)."""

    def commit(self, clock: ClockAnchor, account: Callable[[], AccountRecord]) -> None:
        """Write everything staged since the last commit, in one transaction."""

    def close(self) -> None:
        """Release the file (a no-op in memory)."""


def open_store(path: Path | None) -> tuple[Store, StoredState | None]:
    """The store for `path` (memory only when None) and the state it holds (None when new)."""
    if path is None:
        return Store(), None
    store = SqliteStore(path)
    try:
        return store, store.load()
    except BaseException:
        store.close()
        raise


def check_state_file(path: Path) -> None:
    """Raise `StateFileError` when `path` exists and cannot be opened as a state file (another
    format, a newer version, damaged, or in use); a missing file is fine (a new account)."""
    if path.exists():
        SqliteStore(path).close()


class SqliteStore(Store):
    """The account in one SQLite file, written on every commit (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pods: dict[str, Pod] = {}
        self._logs: dict[str, Pod] = {}
        self._volumes: dict[str, NetworkVolume] = {}
        self._templates: dict[str, dict[str, Any] | None] = {}
        self._account = False
        self._clock = False
        self._saved_lines: dict[str, int] = {}
        self._saved_phases: dict[str, list[Phase]] = {}
        self._saved_pending: dict[str, list[Pending]] = {}
        self._fresh = False
        self._db = self._open()

    # ---- opening ------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        wal = self.path.with_name(self.path.name + "-wal")
        if not self.path.exists() and wal.exists():
            # SQLite would replay a deleted file's log into the new one.
            raise StateFileError(
                self.path, f"{wal} is left from a deleted state file", "delete it too"
            )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                # Pods' env can hold tokens: owner only (SQLite gives the -wal the same mode).
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            db = sqlite3.connect(self.path, timeout=LOCK_WAIT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateFileError(self.path, f"cannot be opened ({exc})", "check the path") from None
        try:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            empty = self._check(db)  # reads only: a file that is not ours stays as it was
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")  # takes the file: EXCLUSIVE mode keeps it until close
            if empty:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("format", STATE_FORMAT), ("version", str(STATE_VERSION))],
                )
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc):
                raise StateFileError(
                    self.path,
                    "in use by another process",
                    "stop the other `comfyhangar serve` or `comfyhangar emulator` using it",
                ) from None
            raise self._damaged(exc) from None
        except sqlite3.DatabaseError as exc:
            db.close()
            raise self._damaged(exc) from None
        except BaseException:
            db.close()
            raise
        return db

    def _check(self, db: sqlite3.Connection) -> bool:
        """Refuse a file that is not a readable state file of a known version; True when the
        file is empty (a new account: the schema is still to be written)."""
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            self._fresh = True
            return True
        meta = dict(db.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
        if meta.get("format") != STATE_FORMAT:
            raise StateFileError(
                self.path,
                "not a simulated cloud state file",
                "point the emulator at its own file (nothing was changed)",
            )
        version = meta.get("version", "")
        if not version.isdigit():
            raise self._damaged(f"state version {version!r} is not a number")
        if int(version) > STATE_VERSION:
            raise StateFileError(
                self.path,
                f"written by a newer ComfyHangar (state version {version}; this one reads "
                f"version {STATE_VERSION})",
                "upgrade ComfyHangar, or move the file away to start a fresh simulated cloud",
            )
        if int(version) < STATE_VERSION or not tables >= _TABLES:
            raise self._damaged(f"state version {version} has no reader here")
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise self._damaged("; ".join(problems[:3]))
        # The schema commits before the emulator's first account: a file killed in between
        # holds nothing that was ever acknowledged, and starts as a new account.
        self._fresh = "account" not in meta and not db.execute("SELECT 1 FROM pods").fetchone()
        return False

    def _damaged(self, problem: object) -> StateFileError:
        return StateFileError(self.path, f"damaged ({problem})")

    # ---- loading ------------------------------------------------------------------------

    def load(self) -> StoredState | None:
        """The state the file holds, or None when it was just created (a new account)."""
        if self._fresh:
            return None
        try:
            state = self._read()
        except (sqlite3.DatabaseError, ValueError, KeyError) as exc:
            raise self._damaged(exc) from None
        for pod in state.pods:
            self._saved_lines[pod.id] = len(pod.logs.lines)
            self._saved_phases[pod.id] = list(pod.phases)
            self._saved_pending[pod.id] = list(pod.logs.pending)
        return state

    def _read(self) -> StoredState:
        db = self._db
        meta = dict(db.execute("SELECT key, value FROM meta"))
        pods = [
            from_plain(Pod, json.loads(record), f"pod {pod_id}")
            for pod_id, record in db.execute("SELECT id, record FROM pods ORDER BY seq")
        ]
        by_id = {pod.id: pod for pod in pods}
        for pod_id, position, record in db.execute(
            "SELECT pod_id, position, record FROM phases ORDER BY pod_id, position"
        ):
            phases = by_id[pod_id].phases
            where = f"pod {pod_id} phase {position}"
            if position != len(phases):
                raise PlainError(where, f"phase {len(phases)} is missing")
            phases.append(from_plain(Phase, json.loads(record), where))
        if not all(pod.phases for pod in pods):
            raise PlainError("pods", "a pod has no status timeline")
        lines: list[LogLine] = []
        current = None
        for pod_id, seq, ts, source, line in db.execute(
            "SELECT pod_id, seq, ts, source, line FROM log_lines ORDER BY pod_id, seq"
        ):
            if pod_id != current:  # rows come grouped by pod: one lookup per pod
                current, lines = pod_id, by_id[pod_id].logs.lines
            lines.append(LogLine(seq, datetime.fromisoformat(ts), source, line))
        for pod in pods:
            numbered = pod.logs.lines
            if numbered and (numbered[-1].seq != len(numbered) or numbered[0].ts.tzinfo is None):
                raise PlainError(f"log of pod {pod.id}", "lines are missing or malformed")
        for pod_id, ts, source, line in db.execute(
            "SELECT pod_id, ts, source, line FROM pending_lines ORDER BY pod_id, position"
        ):
            by_id[pod_id].logs.pending.append((_moment(ts), source, line))
        return StoredState(
            clock=from_plain(ClockAnchor, json.loads(meta["clock"]), "clock"),
            account=from_plain(AccountRecord, json.loads(meta["account"]), "account"),
            pods=pods,
            volumes=[
                from_plain(NetworkVolume, json.loads(record), f"network volume {volume_id}")
                for volume_id, record in db.execute("SELECT id, record FROM volumes ORDER BY rowid")
            ],
            templates=[
                _template(template_id, record)
                for template_id, record in db.execute(
                    "SELECT id, record FROM templates ORDER BY rowid"
                )
            ],
        )

    # ---- writing ------------------------------------------------------------------------

    def stage_pod(self, pod: Pod) -> None:
        self._pods[pod.id] = pod
        self._logs[pod.id] = pod

    def stage_logs(self, pod: Pod) -> None:
        self._logs[pod.id] = pod

    def stage_volume(self, volume: NetworkVolume) -> None:
        self._volumes[volume.id] = volume

    def stage_template(self, template_id: str, template: dict[str, Any] | None) -> None:
        self._templates[template_id] = template

    def stage_account(self) -> None:
        self._account = True

    def stage_clock(self) -> None:
        self._clock = True

    def commit(self, clock: ClockAnchor, account: Callable[[], AccountRecord]) -> None:
        staged = self._pods or self._logs or self._volumes or self._templates
        if not (staged or self._account or self._clock):
            return
        db = self._db
        saved_lines: dict[str, int] = {}
        saved_pending: dict[str, list[Pending]] = {}
        saved_phases: dict[str, list[Phase]] = {}
        db.execute("BEGIN IMMEDIATE")
        try:
            for pod in self._pods.values():
                db.execute(
                    "INSERT INTO pods(id, seq, record) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                    (pod.id, pod.seq, _json(pod)),
                )
                saved_phases[pod.id] = self._write_phases(pod)
            for pod in self._logs.values():
                lines = pod.logs.lines
                db.executemany(
                    "INSERT INTO log_lines(pod_id, seq, ts, source, line) VALUES (?, ?, ?, ?, ?)",
                    _line_rows(pod.id, lines[self._saved_lines.get(pod.id, 0) :]),
                )
                saved_lines[pod.id] = len(lines)
                pending = list(pod.logs.pending)
                if pending != self._saved_pending.get(pod.id, []):
                    db.execute("DELETE FROM pending_lines WHERE pod_id = ?", (pod.id,))
                    db.executemany(
                        "INSERT INTO pending_lines(pod_id, position, ts, source, line) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [
                            (pod.id, i, ts.isoformat(), s, ln)
                            for i, (ts, s, ln) in enumerate(pending)
                        ],
                    )
                    saved_pending[pod.id] = pending
            for volume in self._volumes.values():
                _upsert(db, "volumes", volume.id, _json(volume))
            for template_id, template in self._templates.items():
                if template is None:
                    db.execute("DELETE FROM templates WHERE id = ?", (template_id,))
                else:
                    _upsert(db, "templates", template_id, json.dumps(template))
            if self._account:
                _upsert(db, "meta", "account", _json(account()), key="key")
            _upsert(db, "meta", "clock", _json(clock), key="key")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._saved_lines.update(saved_lines)
        self._saved_phases.update(saved_phases)
        self._saved_pending.update(saved_pending)
        self._pods.clear()
        self._logs.clear()
        self._volumes.clear()
        self._templates.clear()
        self._account = self._clock = False

    def _write_phases(self, pod: Pod) -> list[Phase]:
        """Rewrite the pod's timeline from its first changed phase on (usually the last few)."""
        saved, phases = self._saved_phases.get(pod.id, []), pod.phases
        keep = next(
            (i for i, (old, new) in enumerate(zip(saved, phases, strict=False)) if old != new),
            min(len(saved), len(phases)),
        )
        if keep < len(saved):
            self._db.execute(
                "DELETE FROM phases WHERE pod_id = ? AND position >= ?", (pod.id, keep)
            )
        self._db.executemany(
            "INSERT INTO phases(pod_id, position, record) VALUES (?, ?, ?)",
            [(pod.id, i, _json(phases[i])) for i in range(keep, len(phases))],
        )
        return list(phases)

    def close(self) -> None:
        self._db.close()


def _json(record: object) -> str:
    return json.dumps(to_plain(record), separators=(",", ":"))


def _upsert(db: sqlite3.Connection, table: str, row_id: str, value: str, key: str = "id") -> None:
    column = "value" if table == "meta" else "record"
    db.execute(
        f"INSERT INTO {table}({key}, {column}) VALUES (?, ?) "  # noqa: S608 - fixed names
        f"ON CONFLICT({key}) DO UPDATE SET {column} = excluded.{column}",
        (row_id, value),
    )


def _line_rows(pod_id: str, lines: Iterable[LogLine]) -> list[tuple[str, int, str, str, str]]:
    return [(pod_id, ln.seq, ln.ts.isoformat(), ln.source, ln.line) for ln in lines]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise PlainError("log", f"time {text!r} has no offset")
    return moment


def _template(template_id: str, record: str) -> dict[str, Any]:
    template = json.loads(record)
    if not isinstance(template, dict) or template.get("id") != template_id:
        raise PlainError(f"template {template_id}", "not a template record")
    return template
