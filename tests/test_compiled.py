"""The compiled build (``GOVSIM_COMPILE=1 pip install .``, docs/performance.md): mypyc compiles
the modules of the event loop; everything else, and every result, is the same.

One test builds the compiled wheel from a copy of the sources (as a user's ``pip install`` does:
an isolated build that fetches mypy), installs it into a fresh virtual environment and runs,
against that installed compiled govsim, the golden fingerprints and the test modules of the
engine, patrol, dispatch, routes, records, mediation, mechanisms, city and plug-ins (tests that
replace a method of a compiled class are marked ``pure_python`` and skipped there). It takes
about three minutes, most of it mypyc's translation and the C compiler. Without a C compiler it
is skipped, saying why.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build_support"))
from backend import COMPILED_MODULES, compile_requested  # noqa: E402
from wheels import build_wheel, clean_env, install_in_venv, sh  # noqa: E402 (tests/wheels.py)

#: run against the compiled install (the rest of the suite runs against pure Python)
MODULES = (
    "test_golden_outputs.py", "test_engine_invariants.py", "test_speed_invariants.py", "test_patrol_theory.py",
    "test_theory.py", "test_dispatch.py", "test_unit_board.py", "test_unit_agents.py", "test_territory_routes.py",
    "test_streaming_records.py", "test_mediation.py", "test_mechanisms.py", "test_governance.py", "test_tables.py",
    "test_unit_records.py", "test_city.py", "test_city_services.py", "test_experiments.py", "test_architecture.py", "test_docs.py",
    "test_jsonschema.py", "test_event_queue.py",
)


def test_the_compile_switch_reads_yes_or_no(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, wanted in (("", False), ("0", False), ("no", False), ("1", True), ("True", True)):
        monkeypatch.setenv("GOVSIM_COMPILE", value)
        assert compile_requested() is wanted
    monkeypatch.setenv("GOVSIM_COMPILE", "fast")
    with pytest.raises(SystemExit, match=r"GOVSIM_COMPILE='fast': expected 1 \(compile with mypyc\) or 0"):
        compile_requested()


def test_every_compiled_module_exists_and_every_run_module_is_tested() -> None:
    for path in COMPILED_MODULES:
        assert (ROOT / path).is_file(), path
    assert all((ROOT / "tests" / m).is_file() for m in MODULES)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_the_compiled_build_gives_the_same_results(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, clean_env(GOVSIM_COMPILE="1"), timeout=900)
    assert "-none-any" not in wheel.name, wheel.name  # a platform wheel
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    for path in COMPILED_MODULES:  # each compiled module is an extension (the .py stays beside it)
        stem = path.removesuffix(".py")
        assert any(n.startswith(stem + ".") and n.endswith(".so") for n in names), path

    env = clean_env()
    venv = install_in_venv(wheel, tmp_path, env)
    python = venv / "bin" / "python"
    assert sh([str(venv / "bin" / "govsim"), "--version"], tmp_path, env).strip().endswith("(compiled with mypyc)")

    # The golden fingerprints, computed by the compiled engine (-P: not the checkout's govsim)
    out = sh([str(python), "-P", str(ROOT / "tests" / "test_golden_outputs.py")], tmp_path, env, timeout=600)
    assert json.loads(out) == json.loads((ROOT / "tests" / "data" / "golden_outputs.json").read_text())

    # The engine's tests, against the compiled install (conftest refuses a pure copy)
    report = sh([str(python), "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                  *[f"tests/{m}" for m in MODULES]], ROOT, clean_env(GOVSIM_EXPECT_COMPILED="1"), timeout=1200)
    assert " passed" in report and " failed" not in report, report[-2000:]


def test_a_class_without_its_docstring_gets_it_from_its_source() -> None:
    """mypyc drops a compiled class's docstring (or leaves a filler); class_doc reads it from
    the module's source, so the scenario reference is the same in both builds."""
    from govsim.policies.smart import SmartDispatch
    from govsim.scenario.convert import MYPYC_FILLER, class_doc

    for lost in ("", MYPYC_FILLER):
        stand_in = type("SmartDispatch", (), {"__doc__": lost, "__module__": "govsim.policies.smart"})
        assert class_doc(stand_in) == class_doc(SmartDispatch)
        assert class_doc(stand_in).startswith("Nearest free qualified worker within a radius")
