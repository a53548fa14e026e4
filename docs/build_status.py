"""Which of the documented features the code being documented actually contains.

The pages describe mesos_wm as its issues specify it, and parts of it are written in
parallel. So that the site never claims more than the build it comes with, the docs build
checks each feature below by importing the name that provides it, and renders the result
as a table on the front page: "available" or "planned (issue N)".

Run ``python docs/build_status.py`` to print the table.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    """One documented feature and the name that provides it.

    Attributes:
        title: what the docs call it.
        provider: ``module`` or ``module:attribute`` (dotted attributes allowed), or
            ``cli:COMMAND`` for a ``mesos-wm`` subcommand.
        issue: the issue that specifies it.
    """

    title: str
    provider: str
    issue: int


FEATURES = (
    Feature("Mesos v1 wire protocol (RecordIO, calls, events)", "mesos_wm.wire.scheduler_calls", 2),
    Feature("asyncio scheduler driver", "mesos_wm.drivers.scheduler:SchedulerDriver", 2),
    Feature("asyncio executor driver", "mesos_wm.drivers.executor", 2),
    Feature("pymesos compatibility layer", "mesos_wm.compat.pymesos:MesosSchedulerDriver", 2),
    Feature("embedded Mesos master (mesos-wm local-master)", "cli:local-master", 3),
    Feature("pytest plugin fixture mesos_master", "mesos_wm.testing.pytest_plugin:mesos_master", 3),
    Feature("durable task queue (TaskQueue)", "mesos_wm.queue:TaskQueue", 4),
    Feature("workflow files (mesos-wm submit)", "cli:submit", 4),
    Feature("offer matcher", "mesos_wm.matcher:Matcher", 5),
    Feature("why-pending reasons (mesos-wm why)", "cli:why", 5),
    Feature("executor and task handlers", "mesos_wm.executor:execute", 6),
    Feature("the framework (mesos_wm.Framework)", "mesos_wm:Framework", 7),
    Feature("the main job (mesos-wm run)", "cli:run", 7),
)


def provided(provider: str) -> bool:
    """Return whether ``provider`` can be imported (and the attribute or command exists)."""
    module_name, _, attribute = provider.partition(":")
    try:
        if module_name == "cli":
            from mesos_wm.cli.main import cli

            return attribute in getattr(cli, "commands", {})
        obj: object = importlib.import_module(module_name)
    except Exception:
        return False
    for part in filter(None, attribute.split(".")):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def render_markdown(features: tuple[Feature, ...] = FEATURES) -> str:
    """Return a Markdown table of the features and whether this build provides them."""
    rows = ["| feature | in this build |", "|---|---|"]
    for feature in features:
        status = "available" if provided(feature.provider) else f"planned (issue {feature.issue})"
        rows.append(f"| {feature.title} | {status} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(render_markdown() + "\n")
