"""The SQLite backend: one file in WAL mode, shared by the processes of one host.

Write transactions start with ``BEGIN IMMEDIATE`` (one writer at a time, others wait up to
``busy_timeout``), readers never block.  ``synchronous=FULL`` (the default) makes every
commit survive power loss; ``synchronous=normal`` survives process crashes only, and is
much faster on slow disks.  Other processes' commits are noticed through
``PRAGMA data_version``.

Single submissions do not commit to the database: they are appended to the submission
journal next to it, ``<file>-submits/`` (:mod:`~mesos_wm.queue.submissions`), and folded
into the tables by the next transaction that needs them.  The journal's records are
written with ``O_DSYNC`` whatever ``synchronous`` says.  A ``:memory:`` store has no
journal and keeps single submissions in its ``intake`` table.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mesos_wm.errors import StoreError
from mesos_wm.queue import intake
from mesos_wm.queue.db import Effects, Op, Tx
from mesos_wm.queue.journal import DEFAULT_SEGMENT_SIZE, Journal, RecordTooLarge
from mesos_wm.queue.ops_submit import conflict, initial_state
from mesos_wm.queue.prepare import Prepared
from mesos_wm.queue.records import SubmitResult
from mesos_wm.queue.schema import SCHEMA_VERSION, UPGRADABLE, UPGRADE, ddl
from mesos_wm.queue.states import WorkflowState
from mesos_wm.queue.store import TaskQueue
from mesos_wm.queue.submissions import FOLDED_KEY, Submissions, Taken

_SYNC = {"full": "FULL", "normal": "NORMAL", "extra": "EXTRA"}
_TABLES = frozenset({"workflows", "tasks", "shapes"})
_POLL = 0.05
_COLUMN_CHUNK = 256
JOURNAL_SUFFIX = "-submits"
_LOOKUP = (
    "SELECT digest, state FROM workflows WHERE workflow_id = ?"
    " UNION ALL SELECT digest, state FROM intake WHERE workflow_id = ?"
)


def parse_sqlite_url(url: str) -> tuple[str, dict[str, str]]:
    """Split ``sqlite:///path?opt=value`` into the path and options.

    ``sqlite:///relative.db`` is relative to the current directory,
    ``sqlite:////abs/path.db`` absolute, ``sqlite:///:memory:`` in memory.  Options:
    ``synchronous=full|normal|extra``, ``busy_timeout=<seconds>`` and
    ``journal_segment=<bytes>`` (the segment size of a new submission journal).

    Raises:
        ValueError: the URL is not of that form, or an option is unknown.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise ValueError(f"bad SQLite URL {url!r}: use sqlite:///relative/path.db or "
                         "sqlite:////absolute/path.db")
    path = unquote(parts.path[1:])
    if not path:
        raise ValueError(f"bad SQLite URL {url!r}: no file name")
    options = dict(parse_qsl(parts.query, strict_parsing=False))
    unknown = set(options) - {"synchronous", "busy_timeout", "journal_segment"}
    if unknown:
        raise ValueError(f"unknown SQLite URL options {sorted(unknown)} "
                         "(known: synchronous, busy_timeout, journal_segment)")
    segment = options.get("journal_segment", str(DEFAULT_SEGMENT_SIZE))
    if not segment.isdigit() or int(segment) < 4096 or int(segment) % 4096:
        raise ValueError("journal_segment must be a number of bytes, a multiple of 4096")
    if options.get("synchronous", "full").lower() not in _SYNC:
        raise ValueError("synchronous must be full, normal or extra")
    try:
        float(options.get("busy_timeout", "10"))
    except ValueError:
        raise ValueError("busy_timeout must be a number of seconds") from None
    return path, options


def _fsync_file(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _SqliteTx:
    serialized = True

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def columns(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        cursor = self._conn.execute(sql, params)
        part = cursor.fetchmany(_COLUMN_CHUNK)
        if not part:
            return []
        out: list[list[Any]] = [[] for _ in part[0]]
        while part:  # small pieces: their row tuples die young, so the cyclic GC stays idle
            for column, values in zip(out, zip(*part, strict=True), strict=True):
                column.extend(values)
            part = cursor.fetchmany(_COLUMN_CHUNK)
        return out

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def new_ids(self, counts: Mapping[str, int]) -> dict[str, list[int]]:
        tables = list(counts)
        if not set(tables) <= _TABLES:
            raise ValueError(tables)
        sql = ", ".join(f"(SELECT COALESCE(MAX(id), 0) FROM {t})" for t in tables)
        lasts = self._conn.execute(f"SELECT {sql}").fetchone()
        return {t: list(range(last + 1, last + 1 + counts[t]))
                for t, last in zip(tables, lasts, strict=True)}

    def for_update(self, alias: str, *, skip_locked: bool = False) -> str:
        return ""

    def notify(self, payload: str) -> None:
        return None

    def lock_names(self, workflow_ids: Sequence[str]) -> None:
        return None


class SqliteTaskQueue(TaskQueue):
    """A :class:`TaskQueue` in an SQLite file.

    Args:
        path: the database file (``:memory:`` for a private in-memory store).
        synchronous: ``full`` (durable through power loss) or ``normal`` (through process
            crashes).
        busy_timeout: seconds a writer waits for another process's write transaction.
        journal_segment: the segment size of a new submission journal, in bytes.
        rng: jitter source for retry backoffs.

    Raises:
        StoreError: the file cannot be opened or holds an incompatible schema.
    """

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "full",
        busy_timeout: float = 10.0,
        journal_segment: int = DEFAULT_SEGMENT_SIZE,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.path = path
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                         timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite queue {path!r}: {exc}") from exc
        try:
            self._setup(_SYNC[synchronous.lower()], busy_timeout)
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot open SQLite queue {path!r}: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise
        self._tx = _SqliteTx(self._conn)
        self._data_version = self._version()
        self._subs: Submissions | None = None
        self._hold: ExitStack | None = None
        self._journal_end = -1
        self._durable = synchronous.lower() != "normal"
        if path not in ("", ":memory:"):
            try:
                self._subs = self._open_journal(path + JOURNAL_SUFFIX, journal_segment)
            except BaseException:
                self._conn.close()
                raise

    def _open_journal(self, directory: str, segment_size: int) -> Submissions:
        journal = Journal(directory, segment_size=segment_size, durable=self._durable)
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?",
                                     (FOLDED_KEY,)).fetchone()
            journal.provide(journal.recover(int(row[0]) if row else 0))
        except (OSError, sqlite3.Error) as exc:
            journal.close()
            raise StoreError(f"cannot open the submission journal {directory!r}: {exc}") from exc
        except BaseException:
            journal.close()
            raise
        return Submissions(journal)

    @classmethod
    def from_url(cls, url: str, *, rng: random.Random | None = None) -> SqliteTaskQueue:
        """Open the store named by a ``sqlite:///`` URL (see :func:`parse_sqlite_url`)."""
        path, options = parse_sqlite_url(url)
        return cls(path, synchronous=options.get("synchronous", "full"),
                   busy_timeout=float(options.get("busy_timeout", "10")),
                   journal_segment=int(options.get("journal_segment", DEFAULT_SEGMENT_SIZE)),
                   rng=rng)

    def _setup(self, synchronous: str, busy_timeout: float) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(_POLL)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        if self._stored_version() == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = self._stored_version()
            if version is None and self.path not in ("", ":memory:"):
                # a new store: a journal left by a deleted one must not be folded into it
                shutil.rmtree(self.path + JOURNAL_SUFFIX, ignore_errors=True)
            if version is None or version in UPGRADABLE:
                for statement in ddl(int_type="INTEGER", real="REAL", blob="BLOB",
                                     serial="INTEGER PRIMARY KEY",
                                     without_rowid=" WITHOUT ROWID"):
                    conn.execute(statement)
                if version is not None:
                    for statement in UPGRADE:
                        conn.execute(statement)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                             " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             (SCHEMA_VERSION,))
                version = SCHEMA_VERSION
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if version != SCHEMA_VERSION:
            raise StoreError(f"the queue's schema version is {version}, this mesos_wm "
                             f"needs {SCHEMA_VERSION}")

    def _stored_version(self) -> str | None:
        try:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        return None if row is None else str(row[0])

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    # -- the submission journal ------------------------------------------------------------

    def _enqueue(self, p: Prepared, now: float | None) -> SubmitResult:
        subs = self._subs
        if subs is None:
            return super()._enqueue(p, now)
        with self._lock:
            if self._closed:
                raise StoreError("the queue is closed")
            if len(self._announced) >= self.announced_limit:
                self._sync()
            stamp = time.time() if now is None else now
            ready, state = initial_state(p, stamp)
            try:
                taken = subs.append(p, stamp, state, self._shape_ids, self._lookup)
            except RecordTooLarge:
                return self._submit_rows([p], now)[0]
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"cannot record the submission: {exc}") from exc
            if taken is not None:
                if taken[0] != p.digest:
                    raise conflict(p.workflow_id)
                return SubmitResult(p.workflow_id, False, 0, taken[1])
            self._announced[p.workflow_id] = ready  # as _apply does for an announcement
            if ready:
                self._notify(ready)
        return SubmitResult(p.workflow_id, True, ready, state)

    def _lookup(self, workflow_id: str) -> Taken | None:
        row = self._conn.execute(_LOOKUP, (workflow_id, workflow_id)).fetchone()
        return None if row is None else (str(row[0]), WorkflowState(row[1]))

    def _intake_waiting(self, tx: Tx) -> bool:
        subs = self._subs
        try:
            if subs is not None and subs.waiting():
                return True
        except OSError as exc:
            raise StoreError(f"cannot read the submission journal: {exc}") from exc
        return intake.waiting(tx)

    def _intake_expand(self, op: Op) -> None:
        intake.expand(op, self._shape_ids)
        if self._subs is not None:
            try:
                self._subs.fold(op, self._shape_ids)
            except OSError as exc:
                raise StoreError(f"cannot read the submission journal: {exc}") from exc

    def _waiting_submissions(self, op: Op) -> list[tuple[str, str, str]]:
        rows = super()._waiting_submissions(op)
        return rows if self._subs is None else rows + self._subs.waiting_ids(op)

    def _before_insert(self, op: Op) -> None:
        subs = self._subs
        if subs is None or self._hold is not None:
            return
        self._hold = ExitStack()
        self._hold.enter_context(subs.journal.locked())
        self._intake_expand(op)

    def _release(self) -> None:
        if self._hold is not None:
            hold, self._hold = self._hold, None
            hold.close()

    def _apply(self, fx: Effects) -> int:
        news = super()._apply(fx)
        if fx.folded is not None and self._subs is not None:
            try:
                if not self._durable:  # the fold's commit must be durable before recycling
                    _fsync_file(self.path + "-wal")
                self._subs.journal.set_folded(fx.folded)
            except OSError:
                pass  # a hint: the next fold writes it again
        return news

    def _journal_moved(self, *, remember: bool) -> bool:
        if self._subs is None:
            return False
        try:
            end = self._subs.journal.hints()[0]
        except OSError as exc:
            raise StoreError(f"cannot read the submission journal: {exc}") from exc
        moved = end != self._journal_end
        if remember:
            self._journal_end = end
        return moved

    # -- transactions ----------------------------------------------------------------------

    def _begin(self, write: bool) -> Tx:
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        return self._tx

    def _outside(self) -> Tx:
        return self._tx

    def _commit(self) -> None:
        self._conn.execute("COMMIT")
        self._release()

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        finally:
            self._release()

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.Error)

    def _is_transient(self, exc: BaseException) -> bool:
        text = str(exc).lower()
        return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)

    def _changed_elsewhere(self) -> bool:
        try:
            version = self._version()
        except sqlite3.Error as exc:
            raise StoreError(f"queue database error: {exc}") from exc
        changed = version != self._data_version
        self._data_version = version
        return self._journal_moved(remember=True) or changed

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                try:
                    if self._version() != self._data_version:
                        return True
                    if self._journal_moved(remember=False):
                        return True
                except sqlite3.Error as exc:
                    raise StoreError(f"queue database error: {exc}") from exc
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_POLL, left))

    def _close(self) -> None:
        self._release()
        self._conn.close()
        if self._subs is not None:
            self._subs.journal.close()
