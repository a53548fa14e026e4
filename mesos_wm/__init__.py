"""mesos_wm: run Apache Airavata workflows on Apache Mesos from one durable central queue."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mesos_wm.framework import Framework

__version__ = "0.1.0"

__all__ = ["Framework", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Framework":
        from mesos_wm.framework import Framework

        return Framework
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
