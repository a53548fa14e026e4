"""The environment a Mesos agent gives an executor (``MESOS_*`` variables).

The agent starts an executor with its identity (framework and executor ids), the agent's
HTTP endpoint, its sandbox, whether the framework checkpoints, and durations written the
way Mesos writes them (``5secs``, ``15mins``).  :class:`ExecutorEnvironment` reads them
once, checks them, and hands the executor driver plain values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_RECOVERY_TIMEOUT",
    "DEFAULT_SUBSCRIPTION_BACKOFF_MAX",
    "DURATION_UNITS",
    "ExecutorEnvironment",
    "parse_duration",
]

DURATION_UNITS: Mapping[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "ms": 1e-3,
    "secs": 1.0,
    "mins": 60.0,
    "hrs": 3600.0,
    "days": 86400.0,
    "weeks": 604800.0,
}
"""Stout's duration units, in seconds."""

DEFAULT_RECOVERY_TIMEOUT = 15 * 60.0
"""The agent's default ``--recovery_timeout``."""

DEFAULT_SUBSCRIPTION_BACKOFF_MAX = 2.0
"""The longest random wait between resubscription attempts when the agent names none."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*$")
_TRUE = frozenset({"1", "true", "yes"})


def parse_duration(text: str) -> float:
    """Parse a Mesos duration such as ``5secs``, ``1.5mins`` or ``100ms``.

    Args:
        text: a non-negative number followed by ns, us, ms, secs, mins, hrs, days, weeks.

    Returns:
        The duration in seconds.

    Raises:
        ValueError: the text is not a number with one of those units.
    """
    match = _DURATION.match(text)
    if match is None or match.group(2) not in DURATION_UNITS:
        units = ", ".join(DURATION_UNITS)
        raise ValueError(f"invalid duration {text!r}; expected a number and one of {units}")
    return float(match.group(1)) * DURATION_UNITS[match.group(2)]


@dataclass(frozen=True)
class ExecutorEnvironment:
    """What the agent told the executor through its environment.

    Attributes:
        framework_id: ``MESOS_FRAMEWORK_ID``.
        executor_id: ``MESOS_EXECUTOR_ID``.
        agent_endpoint: ``MESOS_AGENT_ENDPOINT``, ``host:port`` without a scheme.
        agent_id: ``MESOS_SLAVE_ID`` (the agent names it so), if set.
        directory: ``MESOS_DIRECTORY``, the sandbox path on the agent.
        sandbox: ``MESOS_SANDBOX``, the sandbox path as seen inside the container.
        checkpoint: ``MESOS_CHECKPOINT == "1"``: the executor survives agent restarts.
        shutdown_grace_period: ``MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`` in seconds.
        recovery_timeout: ``MESOS_RECOVERY_TIMEOUT`` in seconds (checkpointing only).
        subscription_backoff_max: ``MESOS_SUBSCRIPTION_BACKOFF_MAX`` in seconds.
        authentication_token: ``MESOS_EXECUTOR_AUTHENTICATION_TOKEN``, sent as Bearer.
        tls: the agent serves HTTPS (``LIBPROCESS_SSL_ENABLED``).
        ca_file: ``LIBPROCESS_SSL_CA_FILE``, to verify the agent's certificate.
    """

    framework_id: str
    executor_id: str
    agent_endpoint: str
    agent_id: str | None = None
    directory: str | None = None
    sandbox: str | None = None
    checkpoint: bool = False
    shutdown_grace_period: float = 5.0
    recovery_timeout: float = DEFAULT_RECOVERY_TIMEOUT
    subscription_backoff_max: float = DEFAULT_SUBSCRIPTION_BACKOFF_MAX
    authentication_token: str | None = None
    tls: bool = False
    ca_file: str | None = None

    @property
    def agent_url(self) -> str:
        """``http(s)://host:port`` of the agent."""
        return f"{'https' if self.tls else 'http'}://{self.agent_endpoint}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ExecutorEnvironment:
        """Read the executor's environment.

        Args:
            environ: the variables (default ``os.environ``).

        Returns:
            The parsed environment.

        Raises:
            ValueError: a required variable is missing or a value is malformed; the
                message names the variable.
        """
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ValueError(
                    f"{name} is not set; the executor must be started by a Mesos agent "
                    "(or a test that sets the MESOS_* environment)"
                )
            return value

        def duration(name: str, default: float) -> float:
            value = env.get(name)
            if not value:
                return default
            try:
                return parse_duration(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from exc

        endpoint = required("MESOS_AGENT_ENDPOINT")
        if "://" in endpoint or ":" not in endpoint:
            raise ValueError(f"MESOS_AGENT_ENDPOINT must be host:port, got {endpoint!r}")
        return cls(
            framework_id=required("MESOS_FRAMEWORK_ID"),
            executor_id=required("MESOS_EXECUTOR_ID"),
            agent_endpoint=endpoint,
            agent_id=env.get("MESOS_SLAVE_ID") or env.get("MESOS_AGENT_ID") or None,
            directory=env.get("MESOS_DIRECTORY") or None,
            sandbox=env.get("MESOS_SANDBOX") or None,
            checkpoint=env.get("MESOS_CHECKPOINT", "0").strip().lower() in _TRUE,
            shutdown_grace_period=duration("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", 5.0),
            recovery_timeout=duration("MESOS_RECOVERY_TIMEOUT", DEFAULT_RECOVERY_TIMEOUT),
            subscription_backoff_max=duration(
                "MESOS_SUBSCRIPTION_BACKOFF_MAX", DEFAULT_SUBSCRIPTION_BACKOFF_MAX
            ),
            authentication_token=env.get("MESOS_EXECUTOR_AUTHENTICATION_TOKEN") or None,
            tls=env.get("LIBPROCESS_SSL_ENABLED", "").strip().lower() in _TRUE,
            ca_file=env.get("LIBPROCESS_SSL_CA_FILE") or None,
        )
