"""Test helpers for users of mesos_wm: the embedded master fixtures, fakes and builders."""
