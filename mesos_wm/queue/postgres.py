"""The PostgreSQL backend (psycopg 3), for a queue shared by several hosts.

Transactions run at READ COMMITTED and lock the rows they change (``SELECT ... FOR
UPDATE``); batch launch claims use ``FOR UPDATE SKIP LOCKED`` so two schedulers never
block on, or both claim, the same task.  Row ids come from sequences.  Submits, cancels and
retries ``NOTIFY mesos_wm_queue``; :meth:`PostgresTaskQueue.wait_for_change` LISTENs on a
second connection.  psycopg is imported only here (``pip install mesos_wm[postgres]``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mesos_wm.errors import StoreError
from mesos_wm.queue.db import Tx
from mesos_wm.queue.schema import SCHEMA_VERSION, UPGRADABLE, UPGRADE, ddl
from mesos_wm.queue.store import TaskQueue

if TYPE_CHECKING:
    import psycopg

CHANNEL = "mesos_wm_queue"
_SEQUENCES = ("workflows", "tasks", "shapes")
_LOCK_KEY = 0x6D65736F73776D  # advisory lock held while creating the schema
_NAME_LOCKS = 0x6D77  # first key of the per-workflow-id advisory locks of submits
# serialization failure, deadlock, lock timeout, and a unique key taken by a concurrent
# transaction (two submits of one new workflow id): running again sees the winner's rows.
_TRANSIENT = frozenset({"40001", "40P01", "55P03", "23505"})
CONNECT_TIMEOUT = 10


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ValueError(
            "a postgresql:// queue needs psycopg 3: pip install 'mesos_wm[postgres]'"
        ) from exc
    return psycopg


def _convert(sql: str, cache: dict[str, str]) -> str:
    converted = cache.get(sql)
    if converted is None:
        converted = cache[sql] = sql.replace("%", "%%").replace("?", "%s")
    return converted


class _PostgresTx:
    serialized = False

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._cache: dict[str, str] = {}

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(_convert(sql, self._cache), params)
            return cur.fetchall() if cur.description is not None else []

    def columns(self, sql: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        return [list(column) for column in zip(*self.all(sql, params), strict=True)]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._conn.cursor() as cur:
            cur.execute(_convert(sql, self._cache), params)
            return cur.rowcount

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            with self._conn.cursor() as cur:
                cur.executemany(_convert(sql, self._cache), batch)

    def new_ids(self, counts: Mapping[str, int]) -> dict[str, list[int]]:
        if not set(counts) <= set(_SEQUENCES):
            raise ValueError(list(counts))
        return {
            table: [
                int(r[0])
                for r in self.all(
                    f"SELECT nextval('{table}_seq') FROM generate_series(1, ?)", (count,)
                )
            ]
            for table, count in counts.items()
        }

    def for_update(self, alias: str, *, skip_locked: bool = False) -> str:
        return f" FOR UPDATE OF {alias}" + (" SKIP LOCKED" if skip_locked else "")

    def notify(self, payload: str) -> None:
        self.all("SELECT pg_notify(?, ?)", (CHANNEL, payload))

    def lock_names(self, workflow_ids: Sequence[str]) -> None:
        if len(workflow_ids) == 1:
            self.all("SELECT pg_advisory_xact_lock(?, hashtext(?))", (_NAME_LOCKS, workflow_ids[0]))
        elif workflow_ids:
            self.all(
                "SELECT pg_advisory_xact_lock(?, h) FROM (SELECT DISTINCT hashtext(x) AS h"
                " FROM unnest(?::text[]) AS x) AS s ORDER BY h",
                (_NAME_LOCKS, list(workflow_ids)),
            )


class PostgresTaskQueue(TaskQueue):
    """A :class:`TaskQueue` in a PostgreSQL database.

    Args:
        conninfo: a ``postgresql://`` URL or libpq connection string.
        rng: jitter source for retry backoffs.

    Raises:
        ValueError: psycopg is not installed.
        StoreError: the server cannot be reached or the schema is incompatible.
    """

    skip_locked = True
    reads_can_write = True

    def __init__(self, conninfo: str, *, rng: random.Random | None = None) -> None:
        super().__init__(rng=rng)
        self._psycopg = _import_psycopg()
        self._conninfo = conninfo
        self._listener: psycopg.Connection[Any] | None = None
        self._conn = self._connect()
        try:
            self._setup()
        except self._psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot set up the PostgreSQL queue: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise
        self._tx = _PostgresTx(self._conn)

    def _connect(self) -> psycopg.Connection[Any]:
        options = {} if "connect_timeout" in self._conninfo else {
            "connect_timeout": CONNECT_TIMEOUT}
        try:
            conn: psycopg.Connection[Any] = self._psycopg.connect(
                self._conninfo, autocommit=True, **options)
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot connect to the PostgreSQL queue: {exc}") from exc
        return conn

    @classmethod
    def from_url(cls, url: str, *, rng: random.Random | None = None) -> PostgresTaskQueue:
        """Open the store named by a ``postgresql://`` URL."""
        if url.lower().startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        return cls(url, rng=rng)

    def _setup(self) -> None:
        statements = ddl(int_type="BIGINT", real="DOUBLE PRECISION", blob="BYTEA",
                         serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                         without_rowid="")
        statements += [f"CREATE SEQUENCE IF NOT EXISTS {name}_seq" for name in _SEQUENCES]
        if self._stored_version() == SCHEMA_VERSION:
            return
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            version = self._stored_version()
            if version is None or version in UPGRADABLE:
                for statement in statements + (UPGRADE if version is not None else []):
                    cur.execute(statement.encode())
                cur.execute("INSERT INTO meta (key, value) VALUES ('schema_version', %s)"
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (SCHEMA_VERSION,))
                version = SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            raise StoreError(f"the queue's schema version is {version}, this mesos_wm "
                             f"needs {SCHEMA_VERSION}")

    def _stored_version(self) -> str | None:
        with self._conn.cursor() as cur:
            cur.execute("SELECT to_regclass('meta') IS NOT NULL")
            row = cur.fetchone()
            if not row or not row[0]:
                return None
            cur.execute("SELECT value FROM meta WHERE key = 'schema_version'")
            row = cur.fetchone()
        return None if row is None else str(row[0])

    def _begin(self, write: bool) -> Tx:
        tx = self._outside()
        self._conn.execute("BEGIN")
        return tx

    def _outside(self) -> Tx:
        if self._conn.closed:
            self._conn = self._connect()
            self._tx = _PostgresTx(self._conn)
        return self._tx

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        try:
            if not self._conn.closed:
                self._conn.execute("ROLLBACK")
        except self._psycopg.Error:
            pass

    def _is_db_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.Error)

    def _is_transient(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) in _TRANSIENT or self._conn.closed

    def _changed_elsewhere(self) -> bool:
        return True

    def _wait(self, timeout: float) -> bool:
        try:
            if self._listener is None or self._listener.closed:
                self._listener = self._connect()
                self._listener.execute(f"LISTEN {CHANNEL}")
                return True  # changes made before we listened were not seen: refresh now
            return any(True for _ in self._listener.notifies(timeout=timeout, stop_after=1))
        except self._psycopg.Error as exc:
            if self._listener is not None:
                self._listener.close()
            raise StoreError(f"waiting for queue notifications failed: {exc}") from exc

    def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._conn.close()
