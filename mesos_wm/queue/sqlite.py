"""The SQLite backend: one file in WAL mode, shared by the processes of one host.

Write transactions start with ``BEGIN IMMEDIATE`` (one writer at a time, others wait up to
``busy_timeout``), readers never block.  ``synchronous=FULL`` (the default) makes every
commit survive power loss; ``synchronous=normal`` survives process crashes only, and is
much faster on slow disks.  Other processes' commits are noticed through
``PRAGMA data_version``.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mesos_wm.errors import StoreError
from mesos_wm.queue.db import Tx
from mesos_wm.queue.schema import SCHEMA_VERSION, UPGRADABLE, UPGRADE, ddl
from mesos_wm.queue.store import TaskQueue

_SYNC = {"full": "FULL", "normal": "NORMAL", "extra": "EXTRA"}
_TABLES = frozenset({"workflows", "tasks", "shapes"})
_POLL = 0.05


def parse_sqlite_url(url: str) -> tuple[str, dict[str, str]]:
    """Split ``sqlite:///path?opt=value`` into the path and options.

    ``sqlite:///relative.db`` is relative to the current directory,
    ``sqlite:////abs/path.db`` absolute, ``sqlite:///:memory:`` in memory.

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
    unknown = set(options) - {"synchronous", "busy_timeout"}
    if unknown:
        raise ValueError(f"unknown SQLite URL options {sorted(unknown)} "
                         "(known: synchronous, busy_timeout)")
    if options.get("synchronous", "full").lower() not in _SYNC:
        raise ValueError("synchronous must be full, normal or extra")
    try:
        float(options.get("busy_timeout", "10"))
    except ValueError:
        raise ValueError("busy_timeout must be a number of seconds") from None
    return path, options


class _SqliteTx:
    serialized = True

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

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

    @classmethod
    def from_url(cls, url: str, *, rng: random.Random | None = None) -> SqliteTaskQueue:
        """Open the store named by a ``sqlite:///`` URL (see :func:`parse_sqlite_url`)."""
        path, options = parse_sqlite_url(url)
        return cls(path, synchronous=options.get("synchronous", "full"),
                   busy_timeout=float(options.get("busy_timeout", "10")), rng=rng)

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

    def _begin(self, write: bool) -> Tx:
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        return self._tx

    def _outside(self) -> Tx:
        return self._tx

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

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
        return changed

    def _wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                try:
                    if self._version() != self._data_version:
                        return True
                except sqlite3.Error as exc:
                    raise StoreError(f"queue database error: {exc}") from exc
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_POLL, left))

    def _close(self) -> None:
        self._conn.close()
