"""Build script: the metadata is in setup.cfg; this file only adds the compiled matcher.

The matcher's modules (``mesos_wm._compiled.COMPILED``) are compiled to C extensions
with mypyc when a C compiler is available, which makes a matching cycle about 1.5-2x
faster.  The same source runs interpreted when they are not built.  ``MESOS_WM_COMPILE``
chooses:

* ``auto`` (default): compile; if that fails, warn and install the pure-Python package;
* ``never``: do not compile;
* ``required``: compile, and fail the build if that is not possible.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
MODE = os.environ.get("MESOS_WM_COMPILE", "auto").strip().lower() or "auto"
GROUP = "mesos_wm_matcher"
# The commands that build extensions; the metadata steps pip runs first need none, and
# translating the matcher (a full mypy run) for each of them would be wasted.
BUILDING = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"}


def _compiled_module() -> dict[str, Any]:
    """mesos_wm/_compiled.py's names, read without importing the package."""
    namespace: dict[str, Any] = {"__name__": "mesos_wm_compiled_for_setup"}
    exec((HERE / "mesos_wm" / "_compiled.py").read_text(), namespace)  # noqa: S102
    return namespace


COMPILED_MODULE = _compiled_module()
MATCHER_DIR = Path("mesos_wm", "matcher")


def _compiled_sources() -> list[str]:
    return [name.replace(".", "/") + ".py" for name in COMPILED_MODULE["COMPILED"]]


def _warn(message: str) -> None:
    print(f"mesos_wm: {message}; installing the pure-Python matcher", file=sys.stderr)


def _extensions() -> list[Any]:
    if MODE not in {"auto", "never", "required"}:
        raise SystemExit(f"MESOS_WM_COMPILE must be auto, never or required, not {MODE!r}")
    if MODE == "never" or not BUILDING.intersection(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify

        options = ["--config-file=", "--ignore-missing-imports", "--follow-imports=silent"]
        return list(mypycify([*options, *_compiled_sources()], opt_level="3",
                             group_name=GROUP))
    except (Exception, SystemExit) as exc:
        if MODE == "required":
            raise
        _warn(f"mypyc could not translate the matcher ({exc})")
        return []


class OptionalBuildExt(build_ext):
    """``build_ext`` that falls back to no extensions when the C compiler fails (mode auto).

    All or nothing: the compiled modules share one runtime library, so a partial build
    would not import.
    """

    def run(self) -> None:
        try:
            super().run()
            if self.extensions:
                self._write_manifest()
        except Exception as exc:
            if MODE == "required":
                raise
            _warn(f"the C build of the matcher failed ({exc})")
            for output in self.get_outputs():
                Path(output).unlink(missing_ok=True)
            if self.inplace:
                for ext in self.extensions:
                    Path(self.get_ext_filename(ext.name)).unlink(missing_ok=True)
            self.extensions = []

    def _write_manifest(self) -> None:
        """Record the digest of every compiled source beside the compiled modules."""
        digests = COMPILED_MODULE["source_digests"](HERE / MATCHER_DIR)
        text = json.dumps(digests, indent=1, sort_keys=True) + "\n"
        targets = [HERE / MATCHER_DIR] if self.inplace else [Path(self.build_lib, MATCHER_DIR)]
        for target in targets:
            target.mkdir(parents=True, exist_ok=True)
            (target / COMPILED_MODULE["MANIFEST"]).write_text(text)


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
