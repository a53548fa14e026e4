"""``mesos-wm executor``: the executor process that Mesos agents start (not run by hand)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import click

from mesos_wm.executor.context import GiB


@click.command("executor")
@click.option(
    "--storage-root",
    "storage_roots",
    multiple=True,
    metavar="DIR",
    help="A directory file:// staging may read and write (repeatable; also "
    "MESOS_WM_STORAGE_ROOTS, separated by ':'). Without one, file:// URIs are refused.",
)
@click.option(
    "--max-download-bytes",
    type=click.IntRange(min=1),
    default=10 * GiB,
    show_default=True,
    help="Hard cap for one staged input, whatever a task spec allows.",
)
@click.option(
    "--kill-grace",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Seconds from SIGTERM to SIGKILL when neither the task nor the KILL gives one.",
)
@click.option(
    "--ssh-identity",
    "ssh_identities",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A private key for sftp:// staging (repeatable; default: the SSH agent and ~/.ssh).",
)
@click.option(
    "--ssh-known-hosts",
    type=click.Path(exists=True, dir_okay=False),
    help="The known_hosts file sftp:// servers must be in (default: ~/.ssh/known_hosts).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level (to stderr).")
def executor(
    *,
    storage_roots: tuple[str, ...],
    max_download_bytes: int,
    kill_grace: float,
    ssh_identities: tuple[str, ...],
    ssh_known_hosts: str | None,
    verbose: bool,
) -> None:
    """Run the mesos_wm executor (started by a Mesos agent through ExecutorInfo.command).

    It reads the MESOS_* environment the agent sets, subscribes to the agent, and carries
    out the Airavata tasks of one workflow in the sandbox: ENV_SETUP, DATA_STAGING,
    JOB_SUBMISSION, MONITORING, OUTPUT_FETCHING, ENV_CLEANUP, COMMAND and plug-in types.
    The same program is `python -m mesos_wm.executor`.
    """
    from mesos_wm.drivers.executor_env import ExecutorEnvironment
    from mesos_wm.executor.main import run_executor, settings_from, storage_roots_from

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    try:
        environment = ExecutorEnvironment.from_environ()
        roots = storage_roots_from(storage_roots, dict(os.environ))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    settings = settings_from(
        environment,
        storage_roots=roots,
        max_download_bytes=max_download_bytes,
        kill_grace_seconds=kill_grace,
        ssh_identity_files=tuple(Path(p).resolve() for p in ssh_identities),
        ssh_known_hosts=Path(ssh_known_hosts).resolve() if ssh_known_hosts else None,
    )
    sys.exit(asyncio.run(run_executor(environment, settings)))
