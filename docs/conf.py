"""Sphinx configuration of the mesos_wm documentation (MyST Markdown, furo, autodoc, sphinx-click).

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))
sys.path.insert(0, str(DOCS.parent))

import plot_benchmarks  # noqa: E402

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

html_theme = "furo"
html_title = f"mesos_wm {release}"

BENCHMARK_MARKER = "<!-- benchmark-figures -->"


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
    """Connect the benchmark figures to the build."""
    app.connect("source-read", _insert_benchmark_figures)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
