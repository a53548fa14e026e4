"""The ``mesos-wm`` command group; each subcommand lives in its own module of this package."""

from __future__ import annotations

import logging

import click

from mesos_wm import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mesos-wm")
@click.option(
    "-v", "--verbose", count=True, help="More log output (-v for INFO, -vv for DEBUG)."
)
def cli(verbose: int) -> None:
    """Run Apache Airavata workflows on Apache Mesos from one durable central queue.

    mesos-wm is a native Mesos framework: it keeps every workflow in a durable queue
    (SQLite by default, PostgreSQL for several hosts), matches the queue against the
    resource offers of a Mesos master, and launches its own executor on the agents.
    With --master local (the default) it starts an embedded master on this machine,
    so nothing else needs to be installed.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


from mesos_wm.cli.executor_command import executor as executor_command  # noqa: E402

cli.add_command(executor_command)

from mesos_wm.cli.queue_commands import register as register_queue_commands  # noqa: E402

register_queue_commands(cli)

from mesos_wm.cli.run_command import run as run_command  # noqa: E402

cli.add_command(run_command)

from mesos_wm.cli.status_commands import status as status_command  # noqa: E402

cli.add_command(status_command)

from mesos_wm.cli.local_master import local_master  # noqa: E402

cli.add_command(local_master)


def main() -> None:
    """Entry point of the ``mesos-wm`` console script."""
    cli(prog_name="mesos-wm")


if __name__ == "__main__":
    main()
