"""The shape of the package (docs/architecture.md): imports point one way.

The import graph is read from the source with ``ast`` (imports at module level, not
those under ``if TYPE_CHECKING:``; a function's own imports separately), so these
tests fail as soon as a change introduces a cycle, not when the cycle first bites.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "govsim"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, *, lazy: bool) -> set[str]:
    """govsim modules imported by module ``name``: at module level, or (``lazy``) inside
    functions too; never those under ``if TYPE_CHECKING:``; never its own ancestors
    (a package's ``__init__`` runs before any of its modules anyway)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if lazy:
                    visit(node.body)
                continue
            if isinstance(node, ast.ClassDef):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
                subs = {f"{base}.{a.name}" for a in node.names} & MODULES.keys()
                found.update(subs)
                if len(subs) < len(node.names):
                    found.add(base)
            for field in ("body", "orelse", "finalbody"):
                if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                    visit(getattr(node, field, []))
            if isinstance(node, ast.Try):
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if m in MODULES and m != name and not name.startswith(m + ".")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycles_at_import_time() -> None:
    graph = {m: _imports(m, lazy=False) for m in MODULES}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["govsim.policies", "govsim.mechanisms"])
def test_policies_and_mechanisms_do_not_import_the_scenario_package(package: str) -> None:
    # shared field types come from govsim.params; the scenario package looks them up in their
    # registries, never the other way round (even inside functions)
    offenders = {m: sorted(d for d in _imports(m, lazy=True) if d.startswith("govsim.scenario"))
                 for m in MODULES if m.startswith(package)}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_params_is_a_low_module() -> None:
    assert _imports("govsim.params", lazy=True) <= {"govsim.distributions", "govsim.units", "govsim.schedule"}


def test_the_engine_knows_no_mechanism_or_policy_by_name() -> None:
    deps = _imports("govsim.engine", lazy=True)
    assert not {d for d in deps if d.startswith("govsim.mechanisms.") and d != "govsim.mechanisms.base"}
    assert not {d for d in deps if d.startswith("govsim.policies.") and d not in
                ("govsim.policies.base", "govsim.policies.board", "govsim.policies.routes")}
    tree = ast.parse(MODULES["govsim.engine"].read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for word in ("liaison", "council", "volunteer", "festival", "red_property", "alliance", "training", "train"):
        assert not {n for n in names if word in n.lower() and n != "train"}, word
