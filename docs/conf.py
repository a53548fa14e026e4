"""Sphinx configuration of the mesos_wm documentation (MyST Markdown, furo, autodoc, sphinx-click).

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Set
from pathlib import Path

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))
sys.path.insert(0, str(DOCS.parent))

import build_status  # noqa: E402
import plot_benchmarks  # noqa: E402
import state_tables  # noqa: E402

from mesos_wm import __version__  # noqa: E402

project = "mesos_wm"
author = "The mesos_wm authors"
copyright = "The mesos_wm authors"
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "benchmarks/README.md"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
# ":ivar agent_id:" fields link their names; several classes having an ``agent_id`` makes
# that link ambiguous, which is harmless: do not fail the build on it.
suppress_warnings = ["ref.python"]

html_theme = "furo"
html_title = f"mesos_wm {release}"

BENCHMARK_MARKER = "<!-- benchmark-figures -->"
COMPONENTS_MARKER = "<!-- component-pages -->"
STATUS_MARKER = "<!-- build-status -->"
TRANSITIONS_MARKER = re.compile(r"<!-- transitions:(task|workflow) -->")
TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.S)


def component_pages(index_source: str) -> list[str]:
    """Return the top-level pages that no toctree of the index lists, sorted.

    Engineers of the components (queue, matcher, executor, ...) add their own pages; they
    appear under "Components" as soon as they exist, so a new page never leaves the build
    with an orphan warning.
    """
    listed = {
        line.strip()
        for block in TOCTREE.findall(index_source)
        for line in block.splitlines()
        if line.strip() and not line.lstrip().startswith(":")
    }
    return sorted(
        path.stem for path in DOCS.glob("*.md") if path.stem not in listed | {"index"}
    )


def _insert_component_pages(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname != "index" or COMPONENTS_MARKER not in source[0]:
        return
    pages = component_pages(source[0])
    toctree = (
        "```{toctree}\n:maxdepth: 1\n:caption: Components\n\n" + "\n".join(pages) + "\n```\n"
        if pages
        else ""
    )
    source[0] = source[0].replace(COMPONENTS_MARKER, toctree).replace(
        STATUS_MARKER, build_status.render_markdown()
    )


def _insert_transition_tables(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace ``<!-- transitions:task -->`` (or ``workflow``) with the queue's table."""
    source[0] = TRANSITIONS_MARKER.sub(
        lambda m: state_tables.render_markdown(m.group(1)), source[0]
    )


def _reread_index_when_pages_come_or_go(
    app: Sphinx, env: object, added: Set[str], changed: Set[str], removed: Set[str]
) -> list[str]:
    return ["index"] if added or removed else []


def _insert_benchmark_figures(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace the marker on the benchmarks page with tables (and plots) of the recorded runs."""
    if docname != "benchmarks" or BENCHMARK_MARKER not in source[0]:
        return
    directory = DOCS / "benchmarks"
    for path in sorted(directory.glob("*.json")):
        app.env.note_dependency(str(path))
    plots = importlib.util.find_spec("matplotlib") is not None
    source[0] = source[0].replace(
        BENCHMARK_MARKER, plot_benchmarks.render_markdown(directory, plots=plots)
    )


def setup(app: Sphinx) -> dict[str, object]:
    """Connect the generated parts (component pages, benchmark figures) to the build."""
    app.connect("source-read", _insert_component_pages)
    app.connect("source-read", _insert_benchmark_figures)
    app.connect("source-read", _insert_transition_tables)
    app.connect("env-get-outdated", _reread_index_when_pages_come_or_go)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
