"""Building govsim's wheel from a copy of the sources and installing it in a fresh virtual
environment, as a user's ``pip install`` does (tests/test_packaging.py: the pure wheel;
tests/test_compiled.py: the compiled one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")  # files, then folders
SOURCE_DIRS = ("govsim", "build_support")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would point a child Python at the checkout or choose a
    build (PYTHONPATH, VIRTUAL_ENV, GOVSIM_COMPILE...), plus ``extra``."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "GOVSIM_COMPILE", "GOVSIM_EXPECT_COMPILED")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def sh(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``args``; its standard output, or a failed assertion with both outputs' ends."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    return done.stdout


def build_wheel(tmp_path: Path, env: dict[str, str], timeout: float = 300) -> Path:
    """The wheel built from a copy of the sources (a stale build/ or compiled module of the
    checkout cannot leak in), in ``tmp_path/dist``."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(ROOT / name, src / name)
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
    sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(src), "-w", str(tmp_path / "dist")],
       tmp_path, env, timeout=timeout)
    (wheel,) = (tmp_path / "dist").glob("govsim-*.whl")
    return wheel


def install_in_venv(wheel: Path, tmp_path: Path, env: dict[str, str]) -> Path:
    """A fresh virtual environment (seeing this one's packages) with ``wheel`` installed
    without dependencies; its folder."""
    venv = tmp_path / "venv"
    sh([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], tmp_path, env)
    # --ignore-installed: the outer environment may hold govsim of the same version (CI installs
    # the checkout non-editably), which pip would otherwise count as already satisfied.
    sh([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
        "--ignore-installed", "--quiet", str(wheel)], tmp_path, env, timeout=300)
    return venv
