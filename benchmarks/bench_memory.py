"""Memory per issue: peak resident memory of the benchmark district at several horizons.

Each horizon runs ``bench_district.py`` in a fresh process (peak RSS is a high-water
mark, so every point needs its own process); the slope of peak RSS against the number
of issues, fitted by least squares, is the memory a run needs per issue, and the
intercept what it needs whatever its length (Python, numpy, pandas and the district)::

    python benchmarks/bench_memory.py                        # 30, 90 and 180 days
    python benchmarks/bench_memory.py --horizons 30d 365d --json benchmarks/results/memory.json

Memory does not depend on the load of the machine, so this can run beside other work.
Compare two versions of the code by running the script of each checkout (``PYTHONPATH``
set to it, as in docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PHASES = ("build", "run", "tables", "summary")


def measure(horizon: str, extra: list[str]) -> dict[str, Any]:
    """One run of bench_district.py at ``horizon`` in its own process; its JSON record."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        subprocess.run([sys.executable, str(HERE / "bench_district.py"), "--horizon", horizon,
                        "--json", str(out), *extra], check=True, stdout=subprocess.DEVNULL)
        info: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--horizons", nargs="+", default=["30d", "90d", "180d"], help="horizons to run")
    ap.add_argument("--json", metavar="OUT", help="write the measurements to this JSON file")
    ap.add_argument("bench_args", nargs="*", help="passed on to bench_district.py (after --)")
    args = ap.parse_args(argv)

    rows = []
    for h in args.horizons:
        info = measure(h, args.bench_args)
        peak = max(info["peak_rss_after_mib"][p] for p in PHASES)
        rows.append({"horizon": h, "issues": info["n_issues"], "peak_rss_mib": peak,
                     **{f"rss_after_{p}_mib": info["peak_rss_after_mib"][p] for p in PHASES}})
        after = info["peak_rss_after_mib"]
        print(f"{h:>6}: {info['n_issues']:>9,} issues, peak RSS {peak:7.0f} MiB (after build "
              f"{after['build']:.0f}, run {after['run']:.0f}, tables {after['tables']:.0f}, "
              f"summary {after['summary']:.0f})", flush=True)
    out: dict[str, Any] = {"rows": rows, "date": time.strftime("%Y-%m-%d"),
                           "govsim": os.environ.get("PYTHONPATH", "") or str(HERE.parent)}
    if len(rows) >= 2:
        n = np.array([r["issues"] for r in rows], dtype=float)
        for key in ("peak_rss_mib", "rss_after_run_mib"):
            rss = np.array([r[key] for r in rows], dtype=float)
            slope, intercept = np.polyfit(n, rss, 1)
            out[f"{key}_per_issue_bytes"] = slope * 2**20
            out[f"{key}_intercept_mib"] = intercept
            print(f"{key.replace('_mib', '')}: {slope * 2**20:,.0f} bytes per issue "
                  f"+ {intercept:,.0f} MiB (least squares over {len(rows)} horizons)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
