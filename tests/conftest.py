"""Shared pytest configuration.

Hypothesis profiles for the fuzz tests (``tests/test_fuzz_scenarios.py``, issue 12):

* ``fast`` (the default): derandomised, a few hundred examples in all, about a minute on two
  cores — part of the normal suite and of CI;
* ``long``: on demand, random, about 25 times as many examples::

      pytest -m fuzz --hypothesis-profile=long

``HYPOTHESIS_PROFILE=long`` in the environment selects it too.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, settings

import govsim

# fast: no shrinking — a fuzz example is one mutation, already small, and shrinking a memory
# bomb or a hang costs minutes; the failing example is printed as generated.
settings.register_profile("fast", max_examples=20, derandomize=True, database=None, print_blob=True,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate))
settings.register_profile("long", max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


# The compiled build (GOVSIM_COMPILE=1, tests/test_compiled.py) runs a selection of these tests
# against an installed compiled govsim; it sets GOVSIM_EXPECT_COMPILED so that a pure copy found
# first on sys.path cannot pass for it. Compiled classes cannot have a method replaced on an
# instance or a class: tests that spy that way are marked pure_python and skipped there.
COMPILED = govsim.is_compiled()
if os.environ.get("GOVSIM_EXPECT_COMPILED") and not COMPILED:
    raise pytest.UsageError(f"GOVSIM_EXPECT_COMPILED is set but {govsim.__file__} is pure Python")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if COMPILED:
        skip = pytest.mark.skip(reason="replaces a method of a compiled class (pure Python only)")
        for item in items:
            if "pure_python" in item.keywords:
                item.add_marker(skip)
