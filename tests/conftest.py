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

from hypothesis import Phase, settings

# fast: no shrinking — a fuzz example is one mutation, already small, and shrinking a memory
# bomb or a hang costs minutes; the failing example is printed as generated.
settings.register_profile("fast", max_examples=20, derandomize=True, database=None, print_blob=True,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate))
settings.register_profile("long", max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
