"""Build script: pure Python by default; ``GOVSIM_COMPILE=1`` compiles the event loop with mypyc.

Everything else about the package is declared in pyproject.toml; the compiled modules and the
requirements of the compiled build are in build_support/backend.py (docs/performance.md).
"""

import sys
from pathlib import Path

from setuptools import setup

sys.path.insert(0, str(Path(__file__).resolve().parent / "build_support"))
from backend import COMPILED_MODULES, compile_requested  # noqa: E402

ext_modules = []
# Compile when building (not when setuptools only reads the metadata: mypyc's translation
# takes about a minute and would otherwise run twice).
if compile_requested() and {"bdist_wheel", "build", "build_ext", "install"} & set(sys.argv[1:]):
    from mypyc.build import mypycify

    # the project's mypy settings (pyproject.toml), plus: packages the build does not install
    # (SciPy, Matplotlib, pandas itself...) are taken as untyped, and only the compiled modules'
    # own errors count (`mypy` on the whole package is the project's type check)
    ext_modules = mypycify(["--config-file", "pyproject.toml", "--ignore-missing-imports",
                            "--follow-imports=silent", "--no-warn-unused-ignores", *COMPILED_MODULES],
                           opt_level="3", debug_level="0")

setup(ext_modules=ext_modules)
