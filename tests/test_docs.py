"""The documentation's Python examples run, and the generated reference is current."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [p for p in DOC_FILES if python_blocks(p)],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_examples_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of a page runs, in order, in one module namespace, from the repo
    root. Policies, routes or mechanisms an example registers are unregistered afterwards."""
    from govsim.mechanisms import MECHANISMS
    from govsim.policies import POLICIES, ROUTES

    monkeypatch.chdir(ROOT)
    module = types.ModuleType(f"govsim_doc_{path.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    saved = dict(POLICIES), dict(ROUTES), dict(MECHANISMS)
    try:
        for i, block in enumerate(python_blocks(path)):
            code = compile(block, f"{path.name}[block {i}]", "exec")
            exec(code, module.__dict__)  # noqa: S102 - our own documentation
    finally:
        for registry, before in zip((POLICIES, ROUTES, MECHANISMS), saved):
            registry.clear()
            registry.update(before)


def test_scenario_reference_is_current() -> None:
    from govsim.scenario.reference import scenario_reference

    committed = (ROOT / "docs" / "scenario-reference.md").read_text(encoding="utf-8")
    assert committed == scenario_reference(), (
        "docs/scenario-reference.md is stale: run `govsim reference > docs/scenario-reference.md`")


def test_metrics_tables_are_current() -> None:
    """The column tables of docs/metrics.md are those of the table specs, one per core table."""
    from govsim.tables import CORE_TABLES, sync_markdown

    committed = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert sync_markdown(committed) == committed, (
        "docs/metrics.md is stale: run `python -c \"import govsim.tables as t; t.update_docs()\"`")
    for name in CORE_TABLES:
        assert f"<!-- columns: {name} -->" in committed, f"docs/metrics.md has no column table of {name}"
