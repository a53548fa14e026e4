"""Compatibility layers for code written against other Mesos libraries.

:mod:`mesos_wm.compat.pymesos` keeps pymesos's names, so a pymesos framework runs on
mesos_wm (and Python 3.11+) by changing its imports.
"""
