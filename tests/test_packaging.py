"""The package as a user gets it: the presets ship in the wheel and are addressable by name (a
file that exists wins), `govsim presets` lists and copies them, the metadata is what the
ecosystem expects (PEP 639 licence, one version), each optional extra is named when its library
is missing, and the built wheel, installed in a fresh virtual environment, runs."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import govsim
from govsim.cli import main
from govsim.presets import PRESET_DIR, SCHEMA_NAME, find_preset, preset_names, presets
from govsim.scenario import ScenarioError, load_scenario, scenario_hash
from govsim.scenario.jsonschema import schema_text
from wheels import build_wheel, clean_env, install_in_venv, sh

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SHORT = ["--set", "horizon=1d"]


# --------------------------------------------------------------------------- metadata


def test_licence_metadata_follows_pep_639() -> None:
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "2026 govsim developers" in text
    # setuptools reads `license = "MIT"` and license-files from 77 on
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]
    # PEP 639: a licence expression replaces the licence classifiers
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_classifiers_urls_and_typed_marker() -> None:
    assert {"Typing :: Typed", "Intended Audience :: Science/Research",
            "Programming Language :: Python :: 3.11"} <= set(PROJECT["classifiers"])
    assert PROJECT["urls"]["Homepage"] == "https://github.com/govsim/govsim"
    assert {"Documentation", "Source", "Issues", "Changelog"} <= set(PROJECT["urls"])
    assert (ROOT / "govsim" / "py.typed").is_file()
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog") and f"## [{PROJECT['version']}]" in changelog


def test_one_version_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert govsim.__version__ == importlib.metadata.version("govsim") == PROJECT["version"], (
        "the installed metadata is stale: reinstall (python3 -m pip install -e .)")
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"govsim {PROJECT['version']} ({govsim.build_name()})"


# --------------------------------------------------------------------------- presets by name


def test_the_scenarios_folder_is_the_presets_folder() -> None:
    assert PRESET_DIR == (ROOT / "scenarios").resolve() == (ROOT / "govsim" / "presets" / "scenarios").resolve()
    assert preset_names() == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert len(preset_names()) >= 10


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_has_its_own_description(name: str) -> None:
    own = yaml.safe_load((PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(own.get("description"), str) and 10 < len(own["description"]) < 120


def test_a_preset_is_loaded_by_name_with_or_without_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no file of that name here
    by_path = load_scenario(PRESET_DIR / "hongqi.yaml")
    for name in ("hongqi", "hongqi.yaml", Path("hongqi")):
        scenario = load_scenario(name)
        assert scenario.source == str(PRESET_DIR / "hongqi.yaml")
        assert scenario_hash(scenario.raw) == scenario_hash(by_path.raw)
    assert find_preset("hongqi.yml") == PRESET_DIR / "hongqi.yaml"
    assert find_preset("./hongqi") is None and find_preset("scenarios/hongqi.yaml") is None


def test_a_file_that_exists_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # a local hongqi.yaml, itself built on a preset by name (no smart_dispatch.yaml here)
    (tmp_path / "hongqi.yaml").write_text("extends: smart_dispatch\nname: mine\n", encoding="utf-8")
    assert load_scenario("hongqi.yaml").name == "mine"
    assert load_scenario("hongqi").name == "hongqi"  # no file named `hongqi`: the preset
    # extends: a file beside the extending one wins over a preset of that name
    (tmp_path / "district.yaml").write_text("categories: {garbage: {rate: 1}}\nname: local\n", encoding="utf-8")
    (tmp_path / "child.yaml").write_text("extends: district.yaml\n", encoding="utf-8")
    assert load_scenario("child.yaml").name == "local"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "child.yaml").write_text("extends: district.yaml\n", encoding="utf-8")
    assert load_scenario("elsewhere/child.yaml").name == "district"


def test_a_name_that_is_neither_a_file_nor_a_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as err:
        load_scenario("hongqii")
    message = str(err.value)
    assert message.startswith("hongqii: file not found, nor a preset of that name; did you mean 'hongqi'?")
    assert all(name in message for name in preset_names())
    with pytest.raises(ScenarioError) as err:
        load_scenario("sub/hongqi.yaml")  # a path is never a preset name
    assert str(err.value) == "sub/hongqi.yaml: file not found"


def test_run_and_compare_take_preset_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "smart_dispatch", *SHORT]) == 0
    assert capsys.readouterr().out.startswith("smart_dispatch  (seed 2026, horizon 1d, policy smart_dispatch)")
    assert main(["compare", "traditional_patrol", "smart_dispatch.yaml", *SHORT]) == 0
    assert "traditional_patrol vs smart_dispatch" in capsys.readouterr().out


def test_govsim_presets_lists_names_descriptions_and_where(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for preset in presets():
        line = next(x for x in out.splitlines() if x.startswith(preset.name + " "))
        assert preset.description in line
        if preset.extends:
            assert f"(extends {preset.extends[0]})" in line
    assert str(PRESET_DIR) in out
    assert main(["presets", "list"]) == 0
    assert capsys.readouterr().out == out


@pytest.mark.parametrize("name", preset_names())
def test_a_copy_stands_alone_and_reads_as_the_preset(name: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mine" / "my.yaml"
    assert main(["presets", "copy", name, str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_NAME}"
    assert "extends" not in yaml.safe_load(text)  # its bases merged in: it runs on its own
    assert scenario_hash(load_scenario(target).raw) == scenario_hash(load_scenario(name).raw)
    assert (target.parent / SCHEMA_NAME).read_text(encoding="utf-8") == schema_text()
    assert f"wrote {target}" in capsys.readouterr().out


def test_copy_refuses_to_overwrite_and_names_unknown_presets(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "my.yaml"
    target.write_text("mine\n", encoding="utf-8")
    assert main(["presets", "copy", "hongqi", str(target)]) == 2
    assert "the file exists; give --force to overwrite it" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert main(["presets", "copy", "hongqi", str(target), "--force"]) == 0
    assert load_scenario(target).name == "hongqi"
    assert main(["presets", "copy", "hongqii", str(tmp_path / "x.yaml")]) == 2
    assert "hongqii: no preset of that name (did you mean 'hongqi'?)" in capsys.readouterr().err
    assert main(["presets", "copy", "district", str(tmp_path)]) == 0  # a folder: NAME.yaml in it
    assert (tmp_path / "district.yaml").read_text(encoding="utf-8") == (PRESET_DIR / "district.yaml").read_text(
        encoding="utf-8")


def test_copy_leaves_a_schema_file_that_is_not_govsims(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / SCHEMA_NAME).write_text('{"title": "something else"}\n', encoding="utf-8")
    assert main(["presets", "copy", "district", str(tmp_path / "d.yaml")]) == 0
    assert (tmp_path / SCHEMA_NAME).read_text(encoding="utf-8") == '{"title": "something else"}\n'
    assert "is not govsim's scenario schema: it was left as it is" in capsys.readouterr().out


# --------------------------------------------------------------------------- extras named for what they bring


def _parquet(tmp_path: Path) -> None:
    result = govsim.run("smart_dispatch", seed=1, overrides={"horizon": "2h"})
    try:
        result.to_dir(tmp_path / "out", fmt="parquet")
    finally:
        assert not (tmp_path / "out").exists()  # refused before anything is written


def _parquet_case_log(tmp_path: Path) -> None:
    from govsim.calibration.caselog import read_case_log

    (tmp_path / "cases.parquet").write_bytes(b"PAR1")
    read_case_log(tmp_path / "cases.parquet", {"created": "a", "closed": "b", "category": "c"})


def _distributed(tmp_path: Path) -> None:
    govsim.replicate("smart_dispatch", n=2, seed=1, overrides={"horizon": "2h"}, scheduler="tcp://127.0.0.1:9",
                     progress=False)


def _geo(tmp_path: Path) -> None:
    from govsim.calibration.grids import grids_from_geojson

    grids_from_geojson(ROOT / "tests" / "data" / "grids_small.geojson")


def _sensitivity(tmp_path: Path) -> None:
    from govsim.experiments.sensitivity import sensitivity

    sensitivity("smart_dispatch", ["workers.per_grid=1,2"], overrides={"horizon": "2h"}, jobs=1, progress=False)


def _xarray(tmp_path: Path) -> None:
    sw = govsim.sweep("smart_dispatch", params={"workers.per_grid": [1]}, n=1, seed=1,
                      overrides={"horizon": "2h"}, jobs=1, progress=False)
    sw.to_xarray()


# extra → (the modules made missing, the library it brings, what needs it)
def _widgets(tmp_path: Path) -> None:
    from govsim.widgets import Explorer

    Explorer()


def _classroom(tmp_path: Path) -> None:
    sys.modules.pop("govsim.app", None)
    import govsim.app  # noqa: F401


EXTRAS: dict[str, tuple[tuple[str, ...], str, list[Callable[[Path], None]]]] = {
    "parquet": (("pyarrow", "pyarrow.parquet"), "pyarrow", [_parquet, _parquet_case_log]),
    "distributed": (("dask.distributed", "distributed"), "dask[distributed]", [_distributed]),
    "geo": (("shapely", "pyproj"), "shapely", [_geo]),
    "sensitivity": (("SALib", "SALib.analyze", "SALib.sample"), "SALib", [_sensitivity]),
    "xarray": (("xarray",), "xarray", [_xarray]),
    "widgets": (("ipywidgets",), "ipywidgets", [_widgets]),
    "classroom": (("solara",), "solara", [_classroom]),
}


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_a_missing_extra_is_named(extra: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules, library, features = EXTRAS[extra]
    assert any(req.startswith(library) for req in PROJECT["optional-dependencies"][extra])
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    for feature in features:
        with pytest.raises(Exception) as err:
            feature(tmp_path)
        assert f'pip install "govsim[{extra}]"' in str(err.value), (feature.__name__, str(err.value))


def test_a_missing_extra_on_the_command_line_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert main(["run", "smart_dispatch", "-n", "2", "--set", "horizon=2h", "--scheduler", "tcp://127.0.0.1:9",
                 "--quiet"]) == 2
    assert capsys.readouterr().err.strip().endswith('pip install "govsim[distributed]"')


# --------------------------------------------------------------------------- the wheel, installed


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    """Build the wheel from a copy of the sources (a stale build/ of the checkout cannot leak
    in), install it without dependencies into a fresh virtual environment that sees this
    one's packages, and run the commands a new user runs, from a folder outside the checkout."""
    env = clean_env()
    wheel = build_wheel(tmp_path, env)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"govsim-{PROJECT['version']}.dist-info/METADATA").decode()
    assert {f"govsim/presets/scenarios/{n}.yaml" for n in preset_names()} <= names
    assert {f"govsim/presets/scenarios/{SCHEMA_NAME}", "govsim/py.typed",
            f"govsim-{PROJECT['version']}.dist-info/licenses/LICENSE"} <= names
    assert "License-Expression: MIT" in meta and "License-File: LICENSE" in meta

    venv = install_in_venv(wheel, tmp_path, env)
    python, exe = venv / "bin" / "python", venv / "bin" / "govsim"
    work = tmp_path / "work"  # outside the checkout: the checkout cannot be imported from here
    work.mkdir()
    where = sh([str(python), "-c", "import govsim; print(govsim.__file__)"], work, env).strip()
    assert Path(where).is_relative_to(venv), where

    out = sh([str(exe), "run", "smart_dispatch", *SHORT], work, env)
    assert out.startswith("smart_dispatch  (seed 2026, horizon 1d") and "Resolution time, p90 (h)" in out
    out = sh([str(exe), "presets"], work, env)
    assert all(name in out for name in preset_names()) and str(venv) in out
    assert json.loads(sh([str(exe), "schema"], work, env)) == json.loads(schema_text())
    assert sh([str(exe), "--version"], work, env).strip() == f"govsim {PROJECT['version']} (pure Python)"
