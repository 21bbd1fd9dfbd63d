"""Preset scenarios (预设情景) shipped with govsim, addressable by name.

The presets are YAML files in ``govsim/presets/scenarios/``, installed with the
package (in the repository that folder is a link to ``scenarios/``, where the
files are kept, so paths such as ``scenarios/smart_dispatch.yaml`` work in a
checkout). Wherever a scenario
file is expected — ``govsim run hongqi``, ``govsim.load_scenario("hongqi")``,
``extends: smart_dispatch.yaml`` — a bare name (with or without ``.yaml``) that
is not an existing file is looked up here: **a file that exists wins**, so a
local ``hongqi.yaml`` is used when one types ``hongqi.yaml``, and a preset is
never used in its place.

:func:`presets` lists them with their one-line ``description:``;
:func:`copy_preset` writes a standalone copy to start one's own scenario (its
``extends`` bases merged in, so the copy runs on its own), with the JSON Schema
of the format beside it for editor help.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PRESET_DIR", "SCHEMA_NAME", "Preset", "copy_preset", "find_preset", "may_write_schema", "preset_names",
           "presets", "standalone_text"]

#: The folder of the preset scenario files.
PRESET_DIR = (Path(__file__).parent / "scenarios").resolve()
#: File name of the scenario JSON Schema, committed beside the presets and written beside a copy.
SCHEMA_NAME = "scenario.schema.json"
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Preset:
    """A preset scenario: its name, its one-line description and its file."""

    name: str
    description: str
    path: Path
    #: the files it ``extends`` (directly), as written
    extends: tuple[str, ...] = ()


def preset_names() -> list[str]:
    """Names of the presets (file names without ``.yaml``), sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def find_preset(name: str | os.PathLike[str]) -> Path | None:
    """The file of preset ``name`` (``"hongqi"`` or ``"hongqi.yaml"``), or None.

    Only a bare name is a preset name: anything with a folder in it
    (``"scenarios/hongqi.yaml"``, ``"./hongqi"``) is a path and never a preset.
    """
    text = os.fspath(name)
    if not text or os.path.basename(text) != text or (os.altsep and os.altsep in text):
        return None
    stem = text
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            stem = text[: -len(suffix)]
            break
    path = PRESET_DIR / f"{stem}.yaml"
    return path if stem in preset_names() else None


def presets() -> list[Preset]:
    """Every preset with its own one-line ``description:`` and the files it extends."""
    out = []
    for name in preset_names():
        path = PRESET_DIR / f"{name}.yaml"
        own = _own(path)
        parents = own.get("extends") or ()
        out.append(Preset(name, str(own.get("description") or ""), path,
                          tuple([parents] if isinstance(parents, str) else parents)))
    return out


def _own(path: Path) -> dict[str, Any]:
    """The document of one preset file as written (its ``extends`` not resolved)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def copy_preset(name: str, dest: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Write a standalone copy of preset ``name`` to ``dest`` (a file, or a folder for
    ``<name>.yaml``) and the scenario JSON Schema beside it; returns the files written.

    A preset without ``extends`` is copied as it is, comments and all. A preset that
    extends others is written as one document with its bases merged in (what the
    loader reads), under the preset's own header comment and a note naming the
    bases: the copy runs on its own, does not change when govsim's presets do, and
    ``govsim presets`` shows where the commented originals are.

    The schema beside the copy (``scenario.schema.json``, which the copy's first line
    names for YAML editors) is written unless a file of that name exists that is not a
    govsim scenario schema. Raises :class:`~govsim.scenario.ScenarioError` for an
    unknown preset and :class:`FileExistsError` when ``dest`` exists and not
    ``overwrite``.
    """
    from govsim.scenario.errors import ScenarioError
    from govsim.suggest import did_you_mean

    source = find_preset(name)
    if source is None:
        names = preset_names()
        raise ScenarioError.single(
            "", "no preset of that name" + did_you_mean(str(name), names) + f"; the presets: {', '.join(names)}",
            str(name))
    target = Path(dest)
    if target.is_dir():
        target = target / source.name
    if target.exists() and not overwrite:
        raise FileExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(standalone_text(source.stem), encoding="utf-8")
    written = [target]
    schema_path = target.parent / SCHEMA_NAME
    if may_write_schema(schema_path):
        from govsim.scenario.jsonschema import schema_text

        text = schema_text()
        if not schema_path.exists() or schema_path.read_text(encoding="utf-8") != text:
            schema_path.write_text(text, encoding="utf-8")
            written.append(schema_path)
    return written


def standalone_text(name: str) -> str:
    """The text of a standalone copy of preset ``name`` (see :func:`copy_preset`)."""
    from govsim.scenario.loader import load_document

    path = PRESET_DIR / f"{name}.yaml"
    text = path.read_text(encoding="utf-8")
    if "extends" not in _own(path):
        return text
    data, _ = load_document(path)
    lines = text.splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    bases = " → ".join(_chain(path))
    note = [
        "#",
        f"# A standalone copy of the govsim preset {name!r} (`govsim presets copy`). Its bases",
        f"# ({bases}) are merged in, so this file runs on its own;",
        "# their comments, which explain each value, are in the preset files (`govsim presets`",
        "# says where).",
    ]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
    return "\n".join(header + note) + "\n" + body


def _chain(path: Path) -> list[str]:
    """The files ``path`` extends, directly or through others, nearest first."""
    out: list[str] = []
    todo = [path]
    while todo:
        current = todo.pop(0)
        parents = _own(current).get("extends") or []
        for parent in [parents] if isinstance(parents, str) else parents:
            if parent not in out:
                out.append(parent)
                todo.append(current.parent / parent)
    return out


def may_write_schema(path: Path) -> bool:
    """A schema file may be written at ``path``: none is there, or it is govsim's."""
    if not path.exists():
        return True
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("title") == "govsim scenario")
    except (OSError, ValueError, AttributeError):
        return False
