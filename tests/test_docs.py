"""The documentation site builds without warnings and shows what the project promises."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import missing_service

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = (
    "index", "quickstart", "overview", "task-model", "workflows", "python-api", "cluster",
    "testing", "pymesos", "operations", "cli", "api", "api/errors", "benchmarks",
)
BUILD_PACKAGES = ("sphinx", "myst_parser", "furo", "sphinx_click")


def load_docs_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


plot_benchmarks = load_docs_module("plot_benchmarks")
build_status = load_docs_module("build_status")
state_tables = load_docs_module("state_tables")


def build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    missing = [name for name in BUILD_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        missing_service(f"docs build packages not installed: {', '.join(missing)}")
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         str(source), str(out)],
        capture_output=True, text=True, timeout=110, check=False,
    )


def text_of(html_file: Path) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", html_file.read_text(), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html")
    result = build(DOCS, out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_site_builds_with_warnings_as_errors_and_has_every_page(site: Path) -> None:
    for page in PAGES:
        assert (site / f"{page}.html").is_file(), page


def test_cli_reference_is_generated_from_the_click_group(site: Path) -> None:
    page = (site / "cli.html").read_text()
    text = text_of(site / "cli.html")
    assert "mesos-wm[OPTIONS]COMMAND[ARGS]" in re.sub(r"\s|<[^>]+>", "", page)
    assert 'id="cmdoption-mesos-wm-v"' in page
    assert ".. option::" not in text


def test_api_reference_documents_the_error_tree(site: Path) -> None:
    text = text_of(site / "api" / "errors.html")
    for name in ("MesosWmError", "MasterRejected", "SpecError", "QueueError"):
        assert name in text, name


def test_front_page_tells_which_features_this_build_contains(site: Path) -> None:
    text = text_of(site / "index.html")
    assert "in this build" in text
    row = re.search(r"Mesos v1 wire protocol \(RecordIO, calls, events\) (\S+)", text)
    assert row is not None and row.group(1) == "available"
    assert text.count("available") + text.count("planned (issue") >= len(build_status.FEATURES)


def test_build_status_imports_what_provides_each_feature() -> None:
    assert build_status.provided("mesos_wm.errors:MesosWmError")
    assert build_status.provided("mesos_wm.errors:MasterRejected.__init__")
    assert not build_status.provided("mesos_wm.errors:NoSuchError")
    assert not build_status.provided("mesos_wm.no_such_module")
    assert not build_status.provided("cli:no-such-command")
    feature = build_status.Feature("x", "mesos_wm.no_such_module", 99)
    assert "| x | planned (issue 99) |" in build_status.render_markdown((feature,))


@pytest.mark.parametrize(
    ("kind", "attribute"), [("task", "TASK_TRANSITIONS"), ("workflow", "WORKFLOW_TRANSITIONS")]
)
def test_transition_tables_on_the_task_model_page_are_the_queues(kind: str, attribute: str) -> None:
    from mesos_wm.queue import states

    table = getattr(states, attribute)
    rows = {}
    for line in state_tables.render_markdown(kind).splitlines()[2:]:
        source, targets = (cell.strip() for cell in line.strip("|").split("|"))
        rows[source.strip("`")] = {t.strip("` ") for t in targets.split(",")} - {"-"}
    assert rows == {str(s.value): {str(t.value) for t in table[s]} for s in table}
    assert f"<!-- transitions:{kind} -->" in (DOCS / "task-model.md").read_text()


EXAMPLE = re.compile(r"<!-- example: (test_\w+\.py) -->\n```python\n(.*?)```", re.S)


def test_example_tests_in_the_docs_pass(tmp_path: Path) -> None:
    examples = [m for page in sorted(DOCS.glob("*.md")) for m in EXAMPLE.finditer(page.read_text())]
    assert examples, "no <!-- example: test_*.py --> block found"
    for match in examples:
        (tmp_path / match.group(1)).write_text(match.group(2))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function",
         *[m.group(1) for m in examples]],
        cwd=tmp_path, capture_output=True, text=True, timeout=100, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(examples)} passed" in result.stdout


def test_quick_start_explains_the_readme_commands_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"<!-- ci:[a-z-]+ -->\n```(?:bash|sh)\n(.*?)\n```", readme)
    assert len(commands) == 2
    quickstart = (DOCS / "quickstart.md").read_text()
    for command in commands:
        assert command in quickstart, command


@pytest.fixture(scope="module")
def extended_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from a copy of docs/ with two component pages and recorded runs.

    The API reference is left out of the copy: autodoc makes most of a build's time, and
    the full site is built (with it) by the ``site`` fixture.
    """
    source = tmp_path_factory.mktemp("src") / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "*.json", "api"))
    (source / "api.md").write_text("# API reference\n\nLeft out of this build (autodoc is slow).\n")
    for stem in ("queue", "matcher", "executor"):
        (source / f"{stem}.md").unlink(missing_ok=True)
    (source / "queue.md").write_text("# The queue\n\nHow the queue works.\n")
    (source / "matcher.md").write_text("# The matcher\n\nHow offers are matched.\n")
    runs = [
        {"p99_ms": 41.5, "speedup_vs_naive": 150, "recorded_at": "2026-11-01"},
        {"p99_ms": 12.25, "speedup_vs_naive": 310, "recorded_at": "2026-11-20"},
    ]
    (source / "benchmarks" / "bench_matcher.json").write_text(
        "".join(json.dumps(run) + "\n" for run in runs)
    )
    out = tmp_path_factory.mktemp("html")
    result = build(source, out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_recorded_benchmark_runs_appear_on_the_page(extended_site: Path) -> None:
    page = (extended_site / "benchmarks.html").read_text()
    text = text_of(extended_site / "benchmarks.html")
    assert "bench_matcher" in text
    assert "2 recorded run(s); latest: 2026-11-20" in text
    assert "12.25" in text and "<= 30" in text
    has_plot = 'class="benchmark-plot"' in page
    assert has_plot == (importlib.util.find_spec("matplotlib") is not None)


def test_component_pages_join_the_navigation_when_they_appear(extended_site: Path) -> None:
    index = (extended_site / "index.html").read_text()
    assert 'href="queue.html"' in index and 'href="matcher.html"' in index
    assert "Components" in text_of(extended_site / "index.html")
    assert not (extended_site / "executor.html").exists()


def test_flatten_keeps_numeric_leaves_with_dotted_names() -> None:
    flat = plot_benchmarks.flatten(
        {"p99_ms": 3, "ok": True, "name": "x", "sweep": {"1m": 2.5, "runs": [1]},
         "bad": float("nan")}
    )
    assert flat == {"p99_ms": 3.0, "sweep.1m": 2.5}


def test_a_bad_line_is_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bench_queue.json").write_text('{"submit_vs_huey": 2.0}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"bench_queue\.json:2: expected a JSON object"):
        plot_benchmarks.load(tmp_path)
    (tmp_path / "bench_queue.json").write_text("{not json\n")
    with pytest.raises(ValueError, match=r"bench_queue\.json:1: not JSON"):
        plot_benchmarks.load(tmp_path)


def test_tables_without_matplotlib_and_plots_with_it(tmp_path: Path) -> None:
    (tmp_path / "bench_queue.json").write_text(
        '{"submit_vs_huey": 2.0, "bytes_per_task": 180}\n'
        '{"submit_vs_huey": 2.4, "machine": "ci"}\n'
    )
    table_only = plot_benchmarks.render_markdown(tmp_path, plots=False)
    assert "<svg" not in table_only
    assert "| `submit_vs_huey` | 2.4 | >= 1.5 |" in table_only
    assert "| `bytes_per_task` | - | <= 300 |" in table_only
    assert "latest: ci" in table_only
    if importlib.util.find_spec("matplotlib") is None:
        missing_service("matplotlib (in the test extra) is not installed")
    with_plot = plot_benchmarks.render_markdown(tmp_path, plots=True)
    assert with_plot.count("<svg") == 1
    assert with_plot == plot_benchmarks.render_markdown(tmp_path, plots=True)


def test_no_recorded_run_says_so(tmp_path: Path) -> None:
    assert "No benchmark run is recorded yet" in plot_benchmarks.render_markdown(tmp_path)
