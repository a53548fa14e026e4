"""Which modules are compiled with mypyc, whether the compiled ones are in use, and the
switch back to their source.

``setup.py`` compiles the modules in :data:`COMPILED` when it can (see its docstring);
they share one runtime library, so they are used all together or not at all.  The source
is used instead when ``MESOS_WM_PURE_PYTHON=1``, and — with a warning — when a compiled
module was built from another version of its ``.py`` file (a development checkout edited
after ``pip install -e .``), so an edit is never silently shadowed by a stale build.  The
build records the digest of each source it compiled in :data:`MANIFEST`, beside the
compiled modules.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

COMPILED: tuple[str, ...] = tuple(
    f"mesos_wm.matcher.{leaf}" for leaf in (
        "_cycle", "_discrete", "_dynamic", "_full", "_needs", "_never", "_placers", "_queue",
        "_state", "_usage", "_walk", "cluster", "explain", "fairness", "index", "matcher",
        "offers", "request", "result", "running",
    )
)
PURE_ENV = "MESOS_WM_PURE_PYTHON"
MANIFEST = "_compiled_sources.json"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the listed modules as ``.py`` files even where a compiled one sits beside."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        leaf = fullname.rpartition(".")[2]
        for entry in path or ():
            source = Path(entry, leaf + ".py")
            if source.is_file():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def source_digests(package_dir: Path, names: Sequence[str] = COMPILED) -> dict[str, str]:
    """SHA-256 of the source of each module of ``names`` that lives in ``package_dir``."""
    out = {}
    for name in names:
        source = package_dir / (name.rpartition(".")[2] + ".py")
        if source.is_file():
            out[name] = hashlib.sha256(source.read_bytes()).hexdigest()
    return out


def stale_modules(package_dir: Path, names: Sequence[str] = COMPILED) -> list[str]:
    """The compiled modules of ``package_dir`` not built from the source beside them.

    The build records the digest of every source it compiled in :data:`MANIFEST`; a
    compiled module without a record counts as stale.
    """
    built = [n for n in names if any(
        (package_dir / (n.rpartition(".")[2] + suffix)).is_file()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES)]
    if not built:
        return []
    try:
        recorded = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        recorded = {}
    current = source_digests(package_dir, built)
    return [n for n in built if recorded.get(n) != current.get(n)]


def choose_source(package: str, package_dir: Path) -> None:
    """Make the compiled modules of ``package`` load from source when asked or when stale.

    Call from the package's ``__init__`` before it imports any of them.
    """
    names = [n for n in COMPILED if n.rpartition(".")[0] == package]
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    if os.environ.get(PURE_ENV, "") not in {"", "0"}:
        sys.meta_path.insert(0, _SourceFinder(names))
        return
    stale = stale_modules(package_dir, names)
    if stale:
        warnings.warn(
            f"the compiled {', '.join(stale)} {'was' if len(stale) == 1 else 'were'} built "
            f"from another version of the source; running {package} interpreted (rebuild with "
            f"`pip install -e .`, or set MESOS_WM_COMPILE=never when installing)",
            RuntimeWarning, stacklevel=3)
        sys.meta_path.insert(0, _SourceFinder(names))


def is_compiled(module: ModuleType) -> bool:
    """True when ``module`` was loaded from a compiled extension."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)
