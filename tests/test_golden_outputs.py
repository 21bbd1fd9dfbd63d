"""Refactors change no result: every preset (and the benchmark district) run with a fixed seed
gives the same issues table and summary as recorded in ``tests/data/golden_outputs.json``.

The fingerprints were recorded before the architecture refactor (issue 11) and must never
change unless a change to the model is meant to change results; then record them again,
say so in the commit, and explain why::

    python tests/test_golden_outputs.py --write

Numbers are written with 12 significant digits before hashing, so that a last-bit
difference of a libm function between machines does not count as a change.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden_outputs.json"
SEED = 11
CASES: list[tuple[str, dict[str, Any]]] = [
    *[(f"scenarios/{name}.yaml", {"horizon": "10d"}) for name in (
        "changning_1plusN", "chaoyang_festival", "dongcheng", "hongqi", "hongqi_mediation",
        "lujiazui_alliance", "smart_dispatch", "traditional_patrol", "zhoushan")],
    ("benchmarks/dongcheng.yaml", {"horizon": "2d"}),
    ("scenarios/hongqi.yaml", {"horizon": "10d", "policy": "hotline_centre",
                               "governance.training": {"share": 0.5}}),
    ("scenarios/changning_1plusN.yaml", {"horizon": "10d", "policy": "traditional_patrol"}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    path, overrides = case
    return f"{path} {json.dumps(overrides, sort_keys=True)}"


def fingerprint(path: str, overrides: dict[str, Any]) -> dict[str, Any]:
    import govsim

    result = govsim.run(ROOT / path, seed=SEED, overrides=overrides)
    digest = {}
    for name, table in (("issues", result.issues), ("summary", result.summary().to_frame())):
        text = table.to_csv(float_format="%.12g", index=name == "summary", lineterminator="\n")
        digest[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    digest["n_issues"] = len(result.issues)
    return digest


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_same_seed_same_tables_as_recorded(case: tuple[str, dict[str, Any]]) -> None:
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert fingerprint(*case) == recorded[case_id(case)]


if __name__ == "__main__":  # python tests/test_golden_outputs.py --write
    out = {case_id(c): fingerprint(*c) for c in CASES}
    if "--write" in sys.argv:
        GOLDEN.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    else:
        json.dump(out, sys.stdout, indent=1, sort_keys=True)
