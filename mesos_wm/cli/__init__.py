"""The ``mesos-wm`` command line: thin click commands over the library's layers."""
