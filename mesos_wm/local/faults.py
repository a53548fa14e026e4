"""Fault injection on a running :class:`~mesos_wm.local.master.LocalMaster`.

Every method takes effect at once and returns after the master has acted; the resulting
events (RESCIND, UPDATE, FAILURE, ERROR...) reach the affected streams as they would on a
real cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mesos_wm.local.master import LocalMaster

__all__ = ["Faults"]


class Faults:
    """The fault API of one master (``master.faults``)."""

    def __init__(self, master: LocalMaster) -> None:
        self._master = master

    def drop_stream(self, framework_id: str) -> None:
        """Break a framework's subscription stream as a network failure would.

        The framework is disconnected (calls get 403) and is removed when its
        ``failover_timeout`` passes without a resubscription.
        """
        master = self._master
        master.dispatch(master.state.disconnect_framework(framework_id, master.clock()))

    def remove_agent(self, agent_id: str, how: str = "unreachable") -> None:
        """Remove an agent as the Mesos master does.

        ``how`` = ``"unreachable"`` (health check timed out: TASK_UNREACHABLE, TASK_LOST
        without PARTITION_AWARE), ``"gone"`` (marked gone, also after ``"unreachable"``:
        TASK_GONE_BY_OPERATOR, TASK_LOST without PARTITION_AWARE) or ``"removed"`` (the
        agent unregistered: TASK_LOST for everyone).

        Raises:
            ValueError: an unknown ``how``.
        """
        master = self._master
        master.dispatch(master.state.remove_agent(agent_id, master.clock(), how))
        runtime = master.runtimes.pop(agent_id, None)
        if runtime is not None:
            for key in list(runtime.executors):
                runtime.executors[key].reported = True
            master.spawn_background(runtime.stop())

    def restart_agent(self, agent_id: str) -> None:
        """Restart an agent: executor connections break; tasks of frameworks without
        ``checkpoint`` are lost (TASK_LOST with REASON_AGENT_DISCONNECTED, also for
        PARTITION_AWARE) and their processes killed; executors of checkpointing
        frameworks must subscribe again within the re-registration timeout."""
        master = self._master
        master.dispatch(master.state.restart_agent(agent_id, master.clock()))
        runtime = master.runtimes.get(agent_id)
        if runtime is not None:
            runtime.restart()

    def crash_executor(self, agent_id: str, framework_id: str, executor_id: str) -> bool:
        """SIGKILL an executor (or a command task's process); True when one was found."""
        runtime = self._master.runtimes.get(agent_id)
        return runtime.crash_executor(framework_id, executor_id) if runtime else False

    def rescind_offers(self, framework_id: str | None = None) -> None:
        """Rescind outstanding offers (all, or one framework's) with RESCIND events."""
        master = self._master
        master.dispatch(master.state.rescind_offers(framework_id))

    def drop_acknowledgements(self, count: int = 1) -> None:
        """Silently drop the next ``count`` ACKNOWLEDGE calls (answered 202 all the same)."""
        self._master.state.drop_acks += count

    def delay_acknowledgements(self, seconds: float) -> None:
        """Apply ACKNOWLEDGE calls only ``seconds`` after they arrive (0 = no delay)."""
        self._master.state.ack_delay = seconds

    def finish_simulated_tasks(
        self, state: str = "TASK_FINISHED", framework_id: str | None = None
    ) -> None:
        """End every live task on simulated agents now with ``state`` (for scale tests)."""
        master = self._master
        master.dispatch(master.state.finish_simulated_tasks(master.clock(), state, framework_id))

    def refuse_calls(self, seconds: float) -> None:
        """Answer 503 to scheduler and operator calls for ``seconds``."""
        master = self._master
        master.state.unavailable_until = master.clock() + seconds
