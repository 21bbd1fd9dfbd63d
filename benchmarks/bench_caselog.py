"""Time reading and cleaning a 1,000,000-row case log (``govsim.calibration.caselog``).

Run it pinned to one core, from the repository root::

    taskset -c 0 python benchmarks/bench_caselog.py                 # ISO times (LA's format)
    taskset -c 0 python benchmarks/bench_caselog.py --format us     # 04/12/2018 11:11:26 AM
    taskset -c 0 python benchmarks/bench_caselog.py --rows 200000 --json out.json

The log is made by resampling the rows of the Los Angeles 311 extract
(``../shared/data/service-requests/la311_2017-12-27_2018-01-04.csv``, or ``--data``)
with a fixed seed: each drawn row gets a new id and its created and closed times are
shifted together by a random number of seconds within a year, so rows stay distinct
and every oddity of the original (negative and zero durations, open cases, missing
coordinates and areas, cancelled cases) recurs in proportion. The file is written to a
temporary directory, not timed, and removed afterwards.

Timed: one :func:`~govsim.calibration.caselog.read_case_log` call with every role mapped
and a staff channel. Reported: rows, wall seconds, rows/s, peak resident memory of the
process (``ru_maxrss``; the log is generated in a child process, so this is the
reader's, plus the interpreter and imports: its value before the timed call is
printed too). Target: well under 30 s on one core and under 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _common import code_version, peak_rss_mib, write_json  # noqa: E402
from govsim.calibration.caselog import read_case_log  # noqa: E402

DATA = ROOT.parent / "shared/data/service-requests/la311_2017-12-27_2018-01-04.csv"
COLUMNS = {"created": "created", "closed": "closed", "category": "category", "channel": "channel",
           "lat": "lat", "lon": "lon", "area": "area_nc", "status": "status", "id": "request_id"}
FORMATS = {"iso": "%Y-%m-%d %H:%M:%S", "us": "%m/%d/%Y %I:%M:%S %p"}


def make_log(src: Path, dest: Path, rows: int, fmt: str, seed: int) -> None:
    """Write a ``rows``-row log resampled from ``src`` to ``dest`` (times written with ``fmt``)."""
    rng = np.random.default_rng(seed)
    base = pd.read_csv(src, dtype=str, keep_default_na=False)
    df = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
    shift = pd.to_timedelta(rng.integers(0, 365 * 86400, rows), unit="s")
    for c in ("created", "closed"):
        t = pd.to_datetime(df[c].replace("", None), format="%Y-%m-%d %H:%M:%S") + shift
        df[c] = t.dt.strftime(FORMATS[fmt]).fillna("")
    df["request_id"] = pd.RangeIndex(rows).astype(str)
    df.to_csv(dest, index=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=sorted(FORMATS), default="iso")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--json", default=None, help="also write the measurements to this file")
    ap.add_argument("--generate-to", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.generate_to is not None:  # the child process that writes the log
        make_log(args.data, args.generate_to, args.rows, args.format, args.seed)
        return 0
    if not args.data.exists():
        print(f"no data: {args.data}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        t0 = time.perf_counter()
        # generated in a child process, so the peak RSS below is the reader's alone
        subprocess.run([sys.executable, __file__, "--generate-to", str(path), "--rows", str(args.rows),
                        "--format", args.format, "--data", str(args.data), "--seed", str(args.seed)],
                       check=True)
        gen_s = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        rss_before = peak_rss_mib()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        log = read_case_log(path, COLUMNS, staff_channels=["Driver Self Report"])
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        rss = peak_rss_mib()
    print(log.summary())
    print()
    print(f"govsim {code_version()}, Python {platform.python_version()}, pandas {pd.__version__}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"log: {args.rows:,} rows, {size_mb:.0f} MB, {args.format} times (generated in {gen_s:.1f} s)")
    print(f"read_case_log: {wall:.2f} s wall ({cpu:.2f} s CPU), {args.rows / wall:,.0f} rows/s")
    print(f"peak RSS: {rss:.0f} MiB (before the timed call: {rss_before:.0f} MiB)")
    if cpu < 0.9 * wall:
        print("warning: the process got less than 90% of the wall time as CPU time; the machine is busy")
    write_json(args.json, {"bench": "caselog", "version": code_version(), "rows": args.rows,
                           "format": args.format, "file_mb": size_mb, "seconds": wall, "cpu_seconds": cpu,
                           "rows_per_s": args.rows / wall, "peak_rss_mib": rss,
                           "peak_rss_before_mib": rss_before, "kept": len(log.cases)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
