"""Turn the benchmarks' JSON output into the tables and plots of the benchmarks page.

Every ``benchmarks/bench_*.py`` ends by printing one JSON line with its figures. Recording a
run means appending that line to ``docs/benchmarks/<benchmark>.json`` (one JSON object per
line, oldest first)::

    python benchmarks/bench_matcher.py | tail -n 1 >> docs/benchmarks/bench_matcher.json

A line may also carry ``recorded_at`` (a date) and ``machine`` (free text) to label the run.
For each file this module renders the latest run as a table (with the target the project set
for each figure, where it set one) and, when matplotlib is installed, an SVG plot of every
numeric figure over the recorded runs. Without matplotlib the page keeps its tables.

Run ``python docs/plot_benchmarks.py [DIR]`` to print the Markdown that the docs build
inserts into ``benchmarks.md``.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LABEL_KEYS = ("recorded_at", "machine")
NUMERIC_TARGET = re.compile(r"(<=|>=|==) (-?[0-9.]+)")

TARGETS: dict[str, dict[str, str]] = {
    "bench_local_master": {
        "updates_vs_ceiling": "reported next to the loopback HTTP ceiling",
    },
    "bench_queue": {
        "submit_vs_huey": ">= 1.5",
        "batched_vs_raw": ">= 0.5",
        "bytes_per_task": "<= 300",
        "recovery_vs_raw_select": "<= 1.2",
    },
    "bench_matcher": {
        "p99_ms": "<= 30",
        "speedup_vs_naive": ">= 200",
        "placed_vs_naive": ">= 1",
        "util_gap_vs_bfd": "within 2 % of best-fit-decreasing",
        "p99_ms_1m_x_10k": "<= 400",
    },
    "bench_e2e": {
        "fraction_of_ceiling": ">= 0.7",
        "speedup_vs_naive": ">= 10",
        "p99_ready_to_running_ms": "<= one allocation interval + 100 ms",
    },
    "bench_recovery": {
        "first_accept_after_rebuild_s": "<= 1 s after the queue is rebuilt",
        "lost": "== 0",
        "duplicated": "== 0",
    },
}


@dataclass(frozen=True)
class Benchmark:
    """The recorded runs of one benchmark.

    Attributes:
        name: the file name without ``.json`` (``bench_matcher``).
        runs: one flattened mapping of figure name to number per run, oldest first.
        labels: a label per run (its ``recorded_at``/``machine``, else ``run N``).
    """

    name: str
    runs: tuple[Mapping[str, float], ...]
    labels: tuple[str, ...]

    def figures(self) -> list[str]:
        """Return the names of the figures in any run, in first-seen order."""
        seen: dict[str, None] = {}
        for run in self.runs:
            seen.update(dict.fromkeys(run))
        return list(seen)


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Return the numeric leaves of a JSON object, nested keys joined with dots.

    Args:
        obj: one parsed JSON line.
        prefix: the dotted path of ``obj`` inside the line.

    Returns:
        ``{"p99_ms": 12.5, "sweep.1m_x_10k": 310.0}``; booleans, strings, lists, nulls and
        non-finite numbers are left out.
    """
    out: dict[str, float] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        ):
            out[name] = float(value)
    return out


def load(directory: Path) -> list[Benchmark]:
    """Read every ``*.json`` file of ``directory``.

    Args:
        directory: the folder holding the recorded runs.

    Returns:
        One Benchmark per file that holds at least one run, sorted by name.

    Raises:
        ValueError: a line is not a JSON object; the message names the file and line.
    """
    benchmarks = []
    for path in sorted(directory.glob("*.json")):
        runs: list[Mapping[str, float]] = []
        labels: list[str] = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from exc
            if not isinstance(obj, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            runs.append(flatten({k: v for k, v in obj.items() if k not in LABEL_KEYS}))
            label = " ".join(str(obj[k]) for k in LABEL_KEYS if obj.get(k))
            labels.append(label or f"run {len(runs)}")
        if runs:
            benchmarks.append(Benchmark(path.stem, tuple(runs), tuple(labels)))
    return benchmarks


def format_number(value: float) -> str:
    """Format a figure with about four significant digits and no exponent for usual sizes."""
    if value == 0 or 1e-3 <= abs(value) < 1e9:
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:.3e}"


def markdown_table(benchmark: Benchmark) -> str:
    """Return a Markdown table of the latest run, with the targets of the benchmark."""
    targets = TARGETS.get(benchmark.name, {})
    latest = benchmark.runs[-1]
    rows = ["| figure | latest | target |", "|---|---:|---|"]
    for name in benchmark.figures():
        value = format_number(latest[name]) if name in latest else "-"
        rows.append(f"| `{name}` | {value} | {targets.get(name, '')} |")
    return "\n".join(rows)


def svg_plot(benchmark: Benchmark) -> str:
    """Return an SVG document plotting every figure over the recorded runs.

    A numeric target (``<= 30``) is drawn as a dashed line.

    Raises:
        ImportError: matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = benchmark.figures()
    targets = TARGETS.get(benchmark.name, {})
    columns = min(3, len(figures))
    rows = math.ceil(len(figures) / columns)
    with matplotlib.rc_context({"svg.hashsalt": benchmark.name, "svg.fonttype": "none"}):
        fig, axes = plt.subplots(
            rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False
        )
        positions = range(len(benchmark.runs))
        for ax, name in zip(axes.flat, figures, strict=False):
            values = [run.get(name, math.nan) for run in benchmark.runs]
            ax.bar(positions, values, color="#3b7dd8")
            target = NUMERIC_TARGET.fullmatch(targets.get(name, ""))
            if target:
                ax.axhline(float(target.group(2)), color="#d62728", linestyle="--", linewidth=1)
            ax.set_title(name, fontsize=9)
            ax.set_xticks(list(positions), benchmark.labels, fontsize=7, rotation=20)
            ax.tick_params(axis="y", labelsize=7)
        for ax in axes.flat[len(figures) :]:
            ax.set_visible(False)
        fig.suptitle(benchmark.name, fontsize=10)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
        plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def render_markdown(directory: Path, *, plots: bool = True) -> str:
    """Return the Markdown for all recorded runs in ``directory``.

    Args:
        directory: the folder holding ``bench_*.json``.
        plots: add an inline SVG plot per benchmark (needs matplotlib).

    Returns:
        A section per benchmark, or a sentence saying that no run is recorded yet.

    Raises:
        ValueError: a recorded line is not a JSON object.
    """
    benchmarks = load(directory)
    if not benchmarks:
        return (
            "No benchmark run is recorded yet: `docs/benchmarks/` holds no `*.json` file "
            "with a run in it."
        )
    parts = []
    for benchmark in benchmarks:
        parts.append(f"### {benchmark.name}\n")
        parts.append(
            f"{len(benchmark.runs)} recorded run(s); latest: {benchmark.labels[-1]}.\n"
        )
        parts.append(markdown_table(benchmark) + "\n")
        if plots and benchmark.figures():
            parts.append("```{raw} html\n<div class=\"benchmark-plot\" style=\"overflow-x: auto\">\n"
                         f"{svg_plot(benchmark)}</div>\n```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    """Print the Markdown for the directory given (default: ``docs/benchmarks``)."""
    directory = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "benchmarks"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        plots = False
    else:
        plots = True
    sys.stdout.write(render_markdown(directory, plots=plots) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
