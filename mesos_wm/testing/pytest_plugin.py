"""The mesos_wm pytest plugin (registered through the ``pytest11`` entry point)."""
