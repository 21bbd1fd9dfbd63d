"""govsim's build backend: setuptools, plus an optional compiled build.

By default govsim installs as pure Python. With ``GOVSIM_COMPILE=1`` in the environment, a
non-editable install (``pip install .``, ``pip wheel .``) compiles the modules of the event
loop, :data:`COMPILED_MODULES`, with mypyc (a C compiler and Python's headers are needed):
the same code, the same results for every seed, about 0.52–0.67 of the time of a long run
(docs/performance.md). This module only adds mypyc and the type information it reads to the
build's requirements, and refuses an editable compiled install; ``setup.py`` does the
compiling.
"""

from __future__ import annotations

import os
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the PEP 517 hooks not overridden here)

COMPILE_ENV = "GOVSIM_COMPILE"

#: The modules compiled by ``GOVSIM_COMPILE=1``: the engine and what runs at every event
#: (the grid workers, patrol, arrivals, the work board, routes, distances, records, the
#: smart dispatch policy: a study may still subclass it, ``DispatchPolicy`` and ``PatrolRoute``,
#: which are marked ``allow_interpreted_subclasses``). Others stay Python (the traditional and
#: hotline policies too: compiled, the hotline's Python subclass of the compiled
#: GridOwnWorkers gave other results, and its parameters' nested types were lost to the
#: reference; not understood yet):
#: they run once per run (loading, tables, figures), are mechanisms a study extends, or check
#: their input with messages that mypyc's own type checks would pre-empt (random streams).
#: mypyc drops compiled classes' docstrings; ``govsim.scenario.convert.class_doc`` reads
#: them from the source installed beside the compiled module.
COMPILED_MODULES = (
    "govsim/engine.py",
    "govsim/issues.py",
    "govsim/territory.py",
    "govsim/records.py",
    "govsim/schedule.py",
    "govsim/agents/workers.py",
    "govsim/agents/patrol.py",
    "govsim/agents/residents.py",
    "govsim/agents/sensors.py",
    "govsim/policies/board.py",
    "govsim/policies/routes.py",
    "govsim/policies/base.py",
    "govsim/policies/smart.py",
)

#: What mypyc needs besides setuptools: itself (in mypy) and the types of the packages the
#: compiled modules use (other imports are taken as untyped: --ignore-missing-imports).
COMPILE_REQUIRES = ["mypy>=2.4", "numpy>=1.24", "simpy>=4.1", "pandas-stubs>=2.2", "types-PyYAML>=6.0"]


def compile_requested() -> bool:
    """True if ``GOVSIM_COMPILE`` asks for the compiled build (1/yes/true; 0/no/false or unset:
    pure Python)."""
    value = os.environ.get(COMPILE_ENV, "").strip().lower()
    if value in ("", "0", "no", "false"):
        return False
    if value in ("1", "yes", "true"):
        return True
    raise SystemExit(f"{COMPILE_ENV}={os.environ[COMPILE_ENV]!r}: expected 1 (compile with mypyc) or 0 (pure Python)")


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    # (setuptools' own answer would run setup.py for its setup_requires, of which there are none)
    return list(COMPILE_REQUIRES) if compile_requested() else []


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    if compile_requested():
        raise SystemExit(
            f"{COMPILE_ENV}=1 compiles a non-editable install only (pip install . without -e): compiled "
            "modules in the source tree would hide later edits of their .py files")
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
