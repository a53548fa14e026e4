"""How the framework starts this executor: its id and its ``ExecutorInfo``.

One executor runs per workflow per agent, so the executor id is derived from the workflow
id; the tasks of a workflow launched with the same ``ExecutorInfo`` on the same agent reach
the same executor process and share its working directory.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mesos_wm.executor.paths import safe_name
from mesos_wm.wire.messages import command_info, executor_info

EXECUTOR_ID_PREFIX = "mesos_wm."


def executor_id_for(workflow_id: str) -> str:
    """The executor id of a workflow: ``mesos_wm.<workflow id>``.

    Characters Mesos does not allow in ids (``/``, whitespace, ...) are replaced, and a
    short hash of the original id is appended whenever that changed anything, so distinct
    workflows never share an executor.

    Args:
        workflow_id: the workflow's id.

    Returns:
        a valid Mesos ``ExecutorID`` value.
    """
    name = safe_name(workflow_id, "workflow")
    if name != workflow_id:
        name += "-" + hashlib.sha256(workflow_id.encode()).hexdigest()[:10]
    return EXECUTOR_ID_PREFIX + name


def executor_argv(
    *,
    python: str = sys.executable,
    storage_roots: Iterable[str | Path] = (),
    max_download_bytes: int | None = None,
    ssh_identity_files: Iterable[str | Path] = (),
    ssh_known_hosts: str | Path | None = None,
    verbose: bool = False,
) -> list[str]:
    """The command line that starts the executor on an agent.

    Args:
        python: the interpreter on the agent that has mesos_wm installed.
        storage_roots: directories ``file://`` staging may read and write.
        max_download_bytes: the executor-wide cap for one staged input.
        ssh_identity_files: private keys (paths on the agent) for ``sftp://`` staging.
        ssh_known_hosts: known_hosts file (path on the agent) for ``sftp://`` servers.
        verbose: log at INFO level (to the sandbox's stderr).

    Returns:
        ``[python, "-m", "mesos_wm.executor", ...options]``.
    """
    argv = [python, "-m", "mesos_wm.executor"]
    for root in storage_roots:
        argv += ["--storage-root", str(root)]
    if max_download_bytes is not None:
        argv += ["--max-download-bytes", str(max_download_bytes)]
    for key in ssh_identity_files:
        argv += ["--ssh-identity", str(key)]
    if ssh_known_hosts is not None:
        argv += ["--ssh-known-hosts", str(ssh_known_hosts)]
    if verbose:
        argv.append("--verbose")
    return argv


def executor_info_for(
    workflow_id: str,
    *,
    argv: Iterable[str] | None = None,
    framework_id: str | None = None,
    resources: Iterable[Mapping[str, Any]] = (),
    environment: Mapping[str, str] | None = None,
    shutdown_grace_period_seconds: float | None = None,
) -> dict[str, Any]:
    """The ``ExecutorInfo`` of a workflow's executor.

    Args:
        workflow_id: the workflow.
        argv: the executor command line (default :func:`executor_argv` with no options).
        framework_id: the framework's id.
        resources: what the executor itself uses (beyond its tasks).
        environment: extra environment variables for the executor.
        shutdown_grace_period_seconds: time between SHUTDOWN and the agent killing it.

    Returns:
        the ``ExecutorInfo`` dict (type CUSTOM, command with ``shell: false``).
    """
    args = list(argv) if argv is not None else executor_argv()
    return executor_info(
        executor_id=executor_id_for(workflow_id),
        command=command_info(args[0], shell=False, arguments=args, environment=environment),
        framework_id=framework_id,
        resources=resources,
        name=f"mesos_wm executor for {workflow_id}",
        shutdown_grace_period_seconds=shutdown_grace_period_seconds,
        labels={"mesos_wm.workflow_id": workflow_id},
    )
