"""``mesos-wm local-master``: run the embedded Mesos master and agents until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from mesos_wm.local.config import DEFAULT_RESOURCES, AgentConfig, MasterConfig, parse_attributes
from mesos_wm.resources import parse_resource_string

__all__ = ["local_master"]


def _credentials(values: tuple[str, ...]) -> dict[str, str] | None:
    result: dict[str, str] = {}
    for value in values:
        principal, sep, secret = value.partition(":")
        if not sep or not principal:
            raise click.BadParameter(
                f"{value!r} is not PRINCIPAL:SECRET", param_hint="--credential"
            )
        result[principal] = secret
    return result or None


@click.command("local-master")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=5050,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind (0 = any free port).",
)
@click.option(
    "--agents", default=1, show_default=True, type=click.IntRange(0), help="Number of agents."
)
@click.option(
    "--resources",
    default=DEFAULT_RESOURCES,
    show_default=True,
    help="Resources of each agent, Mesos --resources syntax.",
)
@click.option("--attributes", default="", help="Attributes of each agent, e.g. 'rack:r1;zone:z2'.")
@click.option(
    "--hostname",
    default="localhost",
    show_default=True,
    help="Hostname the agents and the master advertise.",
)
@click.option(
    "--simulated",
    is_flag=True,
    help="Simulated agents: no processes, tasks finish after --task-duration.",
)
@click.option(
    "--task-duration",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds a simulated task runs.",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for agent sandboxes (default: a temporary directory).",
)
@click.option(
    "--heartbeat-interval",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds between HEARTBEATs.",
)
@click.option(
    "--allocation-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds between offer rounds.",
)
@click.option(
    "--offer-timeout",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Rescind offers unused for this many seconds (default: never).",
)
@click.option(
    "--credential",
    "credentials",
    multiple=True,
    metavar="PRINCIPAL:SECRET",
    help="Require HTTP Basic framework authentication (repeatable).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow binding an address other than loopback (no access control!).",
)
def local_master(  # click passes every option by name
    *,
    host: str,
    port: int,
    agents: int,
    resources: str,
    attributes: str,
    hostname: str,
    simulated: bool,
    task_duration: float,
    work_dir: str | None,
    heartbeat_interval: float,
    allocation_interval: float,
    offer_timeout: float | None,
    credentials: tuple[str, ...],
    allow_remote: bool,
) -> None:
    """Run an embedded Mesos master with agents on this machine until interrupted.

    It speaks the real Mesos v1 HTTP APIs (scheduler, executor, operator) and serves the
    legacy endpoints (/state, /slaves, /tasks, ...), so schedulers and Mesos tools can be
    pointed at the URL it prints.  Without --simulated, command tasks and executors run as
    real processes in sandboxes under --work-dir.
    """
    try:
        parse_resource_string(resources)
        parse_attributes(attributes)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    from mesos_wm.local.master import LocalMaster, is_loopback

    if not allow_remote and not is_loopback(host):
        raise click.BadParameter(
            f"{host} is not a loopback address; add --allow-remote to listen on it",
            param_hint="--host",
        )
    agent = AgentConfig(
        resources=resources,
        attributes=attributes,
        hostname=hostname,
        simulated=simulated,
        task_duration=task_duration,
    )
    config = MasterConfig(
        heartbeat_interval=heartbeat_interval,
        allocation_interval=allocation_interval,
        offer_timeout=offer_timeout,
        credentials=_credentials(credentials),
        hostname=hostname,
    )
    master = LocalMaster(
        host=host,
        port=port,
        agents=[agent] * agents,
        config=config,
        work_dir=work_dir,
        allow_remote=allow_remote,
    )
    asyncio.run(_serve(master))


async def _serve(master: object) -> None:
    from mesos_wm.local.master import LocalMaster

    assert isinstance(master, LocalMaster)
    try:
        await master.start()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {master.host}:{master.requested_port}: {exc}"
        ) from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    click.echo(f"mesos-wm local master listening on {master.url}", err=False)
    click.echo(f"  agents: {len(master.state.agents)}  work dir: {master.work_dir}")
    click.echo("  press Ctrl-C to stop")
    try:
        await stop.wait()
    finally:
        await master.stop()
