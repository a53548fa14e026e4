"""What the framework sends to Mesos for one attempt: its ``TaskInfo`` (pure).

Three ways to run a task:

* **our executor** (the default, every Airavata type): one executor per workflow per agent,
  ``python -m mesos_wm.executor``, with an executor id derived from the workflow id
  (:func:`~mesos_wm.executor.launch.executor_id_for`), so the tasks of a workflow that land
  on one agent share its working directory.  The task's
  :class:`~mesos_wm.proto.TaskSpec` travels serialized in ``TaskInfo.data``.  The
  ``ExecutorInfo`` is the same for every task of a workflow, as Mesos requires for tasks
  of one running executor.
* **the Mesos command executor**, for plain ``COMMAND`` tasks when
  :attr:`FrameworkConfig.command_executor` is set: ``TaskInfo.command``, run in the task's
  own sandbox.
* **a Docker container**, for tasks that name an ``image``: a command task with a
  ``ContainerInfo`` of type ``DOCKER``, run by the agent's Docker containerizer.  Such a
  task runs in its own sandbox, not in the workflow's working directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mesos_wm import proto
from mesos_wm.executor.launch import executor_argv, executor_id_for, executor_info_for
from mesos_wm.framework.config import FrameworkConfig
from mesos_wm.queue.records import Launch
from mesos_wm.wire.messages import command_info, docker_container, task_info

__all__ = ["LABEL_ATTEMPT", "LABEL_TASK", "LABEL_WORKFLOW", "LaunchBuilder", "TaskKind",
           "kind_of"]

LABEL_WORKFLOW = "mesos_wm.workflow_id"
LABEL_TASK = "mesos_wm.task_id"
LABEL_ATTEMPT = "mesos_wm.attempt"
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class TaskKind:
    """How one attempt is run.

    Attributes:
        executor_id: our executor's id, or None for a command task.
        image: the Docker image of a containerized command task, or None.
    """

    executor_id: str | None
    image: str | None = None

    @property
    def custom_executor(self) -> bool:
        """True when the attempt runs under the workflow's mesos_wm executor."""
        return self.executor_id is not None


def _has_command(spec: proto.TaskSpec) -> bool:
    return bool(spec.command.shell or spec.command.argv)


def kind_of(launch: Launch, config: FrameworkConfig) -> TaskKind:
    """Decide how an attempt runs (see the module docstring).

    Args:
        launch: the recorded launch intent.
        config: the framework's settings.

    Returns:
        The kind.
    """
    image = launch.shape.image
    if image and _has_command(launch.spec):
        return TaskKind(None, image)
    if (config.command_executor and proto.task_type_name(launch.spec) == "COMMAND"
            and _has_command(launch.spec)):
        return TaskKind(None)
    return TaskKind(executor_id_for(launch.workflow_id))


def _command(spec: proto.TaskSpec) -> dict[str, Any]:
    env = dict(spec.env) or None
    if spec.command.shell:
        return command_info(spec.command.shell, shell=True, environment=env)  # noqa: S604
    argv = list(spec.command.argv)
    return command_info(argv[0], shell=False, arguments=argv, environment=env)


class LaunchBuilder:
    """Builds ``TaskInfo`` messages for launch intents; caches each workflow's
    ``ExecutorInfo``.

    Args:
        config: the framework's settings (interpreter, storage roots, environment).
        framework_id: our framework id (put into every ``ExecutorInfo``).
    """

    def __init__(self, config: FrameworkConfig, framework_id: str) -> None:
        self.config = config
        self.framework_id = framework_id
        self.argv = executor_argv(python=config.python, storage_roots=config.storage_roots)
        self._executors: dict[str, dict[str, Any]] = {}

    def executor_info(self, workflow_id: str) -> dict[str, Any]:
        """The ``ExecutorInfo`` of a workflow's executor (identical on every call)."""
        info = self._executors.get(workflow_id)
        if info is None:
            if len(self._executors) >= _CACHE_LIMIT:
                self._executors.clear()
            info = self._executors[workflow_id] = executor_info_for(
                workflow_id,
                argv=self.argv,
                framework_id=self.framework_id,
                environment=dict(self.config.executor_environment) or None,
                shutdown_grace_period_seconds=self.config.executor_shutdown_grace,
            )
        return info

    def task_info(self, launch: Launch, resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Build the ``TaskInfo`` of one attempt.

        Args:
            launch: the launch intent recorded in the queue.
            resources: the ``Resource`` list the matcher chose (with roles and ports).

        Returns:
            The ``TaskInfo`` dict.
        """
        spec = launch.spec
        kind = kind_of(launch, self.config)
        labels = {
            LABEL_WORKFLOW: launch.workflow_id,
            LABEL_TASK: launch.task_id,
            LABEL_ATTEMPT: str(launch.attempt),
        }
        common: dict[str, Any] = {
            "name": f"{launch.workflow_id}/{launch.task_id} #{launch.attempt}",
            "task_id": launch.mesos_task_id,
            "agent_id": launch.agent_id,
            "resources": resources,
            "labels": labels,
            "kill_grace_period_seconds": spec.kill_grace_period_seconds or None,
        }
        if kind.custom_executor:
            return task_info(executor=self.executor_info(launch.workflow_id),
                             data=proto.encode_task_spec(spec), **common)
        container = docker_container(kind.image) if kind.image else None
        return task_info(command=_command(spec), container=container, **common)
