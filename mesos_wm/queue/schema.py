"""The queue's tables, written once for SQLite and PostgreSQL.

``{int}``, ``{real}``, ``{blob}`` and ``{serial}`` are replaced by each backend's types.
Row ids of workflows and tasks are allocated by the queue (so a whole workflow is inserted
with ``executemany``); history and change rows number themselves.

- ``workflows``: one row per workflow with the counters its state is rolled up from.
- ``tasks``: one row per task (``spec``: what the executor needs, as JSON; ``deps``: the
  ids it depends on, comma-separated); ``deps_left`` counts parents that have not settled, and
  ``parents_bad``/``parents_none`` how the settled ones came out (for ``run_on``).
  ``tasks_queued`` holds every QUEUED task in matching order with all the ready index needs,
  so recovery is one ordered index-only scan; ``tasks_timed`` the tasks waiting for a time.
- ``edges``: parent -> child, so a settling task releases its children in O(edges).
- ``shapes``: interned resources/constraints/retry policies shared by many tasks.
- ``attempts``: one row per launch, keyed by the Mesos task id too.
- ``history``: timestamped state changes of workflows and tasks.
- ``changes``: one row per submit/cancel/retry, so other processes can refresh their
  ready index; ``meta``: framework id and other scheduler metadata.
- ``intake``: single submissions waiting to be expanded into the tables above, one row
  each (see :mod:`~mesos_wm.queue.intake`): the workflow's document, its digest, first
  state, submission time and an ordering stamp; one B-tree (``WITHOUT ROWID`` on SQLite).
  An SQLite file keeps single submissions in its journal instead
  (:mod:`~mesos_wm.queue.submissions`) and notes in ``meta`` (``journal_folded``) how far
  the journal has been folded into the tables.

Version 2 added ``intake``, replaced the ``tasks_ready`` index and changed how digests
are computed; a version 1 store is
upgraded in place (its workflows keep their version 1 digests, so submitting one of them
again reports a conflict instead of a no-op).
"""

from __future__ import annotations

SCHEMA_VERSION = "2"
UPGRADABLE = frozenset({"1"})
"""Older schema versions that creating the current tables (then :data:`UPGRADE`) upgrades."""
UPGRADE = ["DROP INDEX IF EXISTS tasks_ready"]

TABLES = [
    """CREATE TABLE IF NOT EXISTS meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS workflows (
        id {int} PRIMARY KEY,
        workflow_id TEXT NOT NULL UNIQUE,
        name TEXT,
        owner TEXT NOT NULL,
        priority {int} NOT NULL,
        labels TEXT NOT NULL,
        not_before {real},
        directory TEXT NOT NULL,
        state TEXT NOT NULL,
        digest TEXT NOT NULL,
        total {int} NOT NULL,
        settled {int} NOT NULL DEFAULT 0,
        unsuccessful {int} NOT NULL DEFAULT 0,
        queued_ever {int} NOT NULL DEFAULT 0,
        launched_ever {int} NOT NULL DEFAULT 0,
        cancel_requested {int} NOT NULL DEFAULT 0,
        created_at {real} NOT NULL,
        updated_at {real} NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS workflows_state ON workflows (state)",
    "CREATE INDEX IF NOT EXISTS workflows_owner ON workflows (owner)",
    "CREATE INDEX IF NOT EXISTS workflows_created ON workflows (created_at)",
    """CREATE TABLE IF NOT EXISTS labels (
        wf {int} NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (wf, key))""",
    "CREATE INDEX IF NOT EXISTS labels_key_value ON labels (key, value)",
    """CREATE TABLE IF NOT EXISTS shapes (
        id {int} PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tasks (
        id {int} PRIMARY KEY,
        wf {int} NOT NULL,
        task_id TEXT NOT NULL,
        state TEXT NOT NULL,
        run_on TEXT NOT NULL,
        priority {int} NOT NULL,
        shape {int} NOT NULL,
        spec TEXT NOT NULL,
        deps TEXT,
        deps_left {int} NOT NULL,
        parents_bad {int} NOT NULL DEFAULT 0,
        parents_none {int} NOT NULL DEFAULT 0,
        upstream_failed {int} NOT NULL DEFAULT 0,
        attempts {int} NOT NULL DEFAULT 0,
        retries_used {int} NOT NULL DEFAULT 0,
        infra_used {int} NOT NULL DEFAULT 0,
        not_before {real},
        queued_at {real},
        cancel_requested {int} NOT NULL DEFAULT 0,
        reason TEXT,
        updated_at {real} NOT NULL,
        UNIQUE (wf, task_id))""",
    """CREATE INDEX IF NOT EXISTS tasks_queued
        ON tasks (priority DESC, queued_at, id, wf, task_id, shape, attempts)
        WHERE state = 'QUEUED'""",
    """CREATE INDEX IF NOT EXISTS tasks_timed ON tasks (not_before)
        WHERE deps_left = 0 AND state = 'PENDING'""",
    """CREATE TABLE IF NOT EXISTS edges (
        parent {int} NOT NULL,
        child {int} NOT NULL,
        PRIMARY KEY (parent, child)){without_rowid}""",
    """CREATE TABLE IF NOT EXISTS attempts (
        task {int} NOT NULL,
        number {int} NOT NULL,
        mesos_task_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        agent_id TEXT,
        executor_id TEXT,
        launched_at {real} NOT NULL,
        updated_at {real} NOT NULL,
        finished_at {real},
        reason TEXT,
        message TEXT,
        exit_code {int},
        infra {int} NOT NULL DEFAULT 0,
        result {blob},
        PRIMARY KEY (task, number))""",
    "CREATE INDEX IF NOT EXISTS attempts_active ON attempts (task) WHERE finished_at IS NULL",
    """CREATE TABLE IF NOT EXISTS history (
        id {serial},
        wf {int} NOT NULL,
        task {int},
        at {real} NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        message TEXT)""",
    "CREATE INDEX IF NOT EXISTS history_wf ON history (wf, id)",
    """CREATE TABLE IF NOT EXISTS changes (
        seq {serial},
        wf {int} NOT NULL,
        at {real} NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS intake (
        workflow_id TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        state TEXT NOT NULL,
        at {real} NOT NULL,
        seq {int} NOT NULL,
        doc TEXT NOT NULL){without_rowid}""",
]


def ddl(*, int_type: str, real: str, blob: str, serial: str, without_rowid: str) -> list[str]:
    """Return the CREATE statements with a backend's type names filled in.

    Args:
        int_type: 64-bit integer type.
        real: double precision type.
        blob: byte string type.
        serial: an auto-numbered primary key column type.
        without_rowid: table suffix for clustered primary keys (SQLite), or ``""``.

    Returns:
        The statements, in order.
    """
    return [
        sql.format(int=int_type, real=real, blob=blob, serial=serial, without_rowid=without_rowid)
        for sql in TABLES
    ]
