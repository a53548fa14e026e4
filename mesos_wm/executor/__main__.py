"""``python -m mesos_wm.executor``: the same program as ``mesos-wm executor``."""

from __future__ import annotations

from mesos_wm.cli.executor_command import executor

if __name__ == "__main__":
    executor(prog_name="python -m mesos_wm.executor")
