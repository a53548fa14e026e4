"""Which handler runs a task: the built-in Airavata types, plus plug-ins by entry point.

A plug-in is an installed distribution that declares, in the entry-point group
``mesos_wm.handlers``, a name and an object: either an async callable
``handler(spec, context) -> TaskOutcome`` or a class whose instances (made without
arguments) are such callables.  Tasks reach it with ``type = PLUGIN`` and
``plugin_type = <name>`` (in a workflow file: ``type: <name>``).  Plug-ins are loaded when a
task first asks for them, so a broken plug-in fails only its own tasks, with a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import EntryPoint, entry_points

from mesos_wm.errors import ExecutorError
from mesos_wm.executor.context import TaskContext
from mesos_wm.executor.handlers.data_staging import data_staging
from mesos_wm.executor.handlers.env_cleanup import env_cleanup
from mesos_wm.executor.handlers.env_setup import env_setup
from mesos_wm.executor.handlers.job import command, job_submission
from mesos_wm.executor.handlers.monitoring import monitoring
from mesos_wm.executor.handlers.output_fetching import output_fetching
from mesos_wm.executor.outcome import TaskOutcome
from mesos_wm.proto import taskspec_pb2
from mesos_wm.proto.taskspec_pb2 import TaskSpec

HANDLER_GROUP = "mesos_wm.handlers"

Handler = Callable[[TaskSpec, TaskContext], Awaitable[TaskOutcome]]

BUILTIN_HANDLERS: Mapping[int, Handler] = {
    taskspec_pb2.ENV_SETUP: env_setup,
    taskspec_pb2.DATA_STAGING: data_staging,
    taskspec_pb2.JOB_SUBMISSION: job_submission,
    taskspec_pb2.MONITORING: monitoring,
    taskspec_pb2.OUTPUT_FETCHING: output_fetching,
    taskspec_pb2.ENV_CLEANUP: env_cleanup,
    taskspec_pb2.COMMAND: command,
}


class UnknownTaskType(ExecutorError):
    """The spec names a task type (or plug-in) this executor does not have."""


def type_name(spec: TaskSpec) -> str:
    """The spec's task type as a word (``JOB_SUBMISSION``, the plug-in name, or a number)."""
    if spec.type == taskspec_pb2.PLUGIN:
        return spec.plugin_type or "PLUGIN"
    try:
        return str(taskspec_pb2.TaskType.Name(spec.type))
    except ValueError:
        return str(spec.type)


class HandlerRegistry:
    """Handlers for the built-in types and for plug-in names.

    Args:
        plugins: handlers (or entry points not yet loaded) by plug-in name; None reads the
            installed ``mesos_wm.handlers`` entry points.
        builtins: handlers by ``TaskType`` value.
    """

    def __init__(
        self,
        plugins: Mapping[str, Handler | EntryPoint] | None = None,
        builtins: Mapping[int, Handler] = BUILTIN_HANDLERS,
    ) -> None:
        self._builtins = dict(builtins)
        if plugins is None:
            plugins = {ep.name: ep for ep in entry_points(group=HANDLER_GROUP)}
        self._plugins: dict[str, Handler | EntryPoint] = dict(plugins)

    def plugin_names(self) -> list[str]:
        """The names of the plug-in handlers, sorted."""
        return sorted(self._plugins)

    def register(self, name: str, handler: Handler) -> None:
        """Add or replace the plug-in handler ``name``."""
        self._plugins[name] = handler

    def resolve(self, spec: TaskSpec) -> Handler:
        """The handler for ``spec``.

        Raises:
            UnknownTaskType: the type is unset or unknown, the plug-in is not installed,
                or it failed to load (the message says which and why).
        """
        if spec.type == taskspec_pb2.PLUGIN:
            return self._plugin(spec.plugin_type)
        handler = self._builtins.get(spec.type)
        if handler is None:
            raise UnknownTaskType(f"unknown task type {type_name(spec)}")
        return handler

    def _plugin(self, name: str) -> Handler:
        if not name:
            raise UnknownTaskType("task type PLUGIN needs plugin_type")
        entry = self._plugins.get(name)
        if entry is None:
            known = ", ".join(self.plugin_names()) or "none installed"
            raise UnknownTaskType(f"no handler plug-in named {name!r} (plug-ins: {known})")
        if not isinstance(entry, EntryPoint):
            return entry
        try:
            loaded = entry.load()
            handler = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:
            raise UnknownTaskType(
                f"handler plug-in {name!r} ({entry.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not callable(handler):
            raise UnknownTaskType(f"handler plug-in {name!r} ({entry.value}) is not callable")
        self._plugins[name] = handler
        return handler  # type: ignore[no-any-return]
