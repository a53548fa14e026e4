"""mesos_wm: run Apache Airavata workflows on Apache Mesos from one durable central queue."""

__version__ = "0.1.0"

__all__ = ["__version__"]
