"""A day on the map: render time of a day at one frame per simulated minute (1,440 frames).

Run it from the repository root::

    python benchmarks/bench_animate.py                       # mp4 (if ffmpeg), gif, html; 1 and 2 panels
    python benchmarks/bench_animate.py --formats mp4 --panels 2
    python benchmarks/bench_animate.py --json benchmarks/results/animate.json

The runs: ``traditional_patrol`` and ``smart_dispatch`` (the 36-grid district presets,
``horizon=3d``, seed 2026); the clip: day 3 (``--from 2d --to 3d``), one frame per
simulated minute, 100 dpi (one panel 580 × 740 pixels, two 1,130 × 740). One panel is
``traditional_patrol``; two are both side by side. Timed: :func:`govsim.plots.animate`
whole (reconstructing the positions, drawing, encoding, writing), wall clock and CPU
time of this process and of its children (ffmpeg), best of ``--repeat``. The target
(issue 14): a day renders in under a minute.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import code_version, peak_rss_mib, write_json  # noqa: E402

from govsim.engine import Simulation  # noqa: E402
from govsim.plots.animation import animate, ffmpeg_path, frame_times  # noqa: E402
from govsim.scenario import load_scenario  # noqa: E402
from govsim.units import parse_duration  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", default="mp4,gif,html", help="comma-separated: mp4, gif, html")
    ap.add_argument("--panels", default="1,2", help="comma-separated: 1, 2")
    ap.add_argument("--step", default="1min", help="simulated time per frame (default 1min: 1,440 frames)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="write the timings here")
    args = ap.parse_args()
    runs = {name: Simulation(load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides={"horizon": "3d"}),
                             2026).run()
            for name in ("traditional_patrol", "smart_dispatch")}
    rows = []
    print(f"govsim {code_version()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'format':<6} {'panels':>6} {'frames':>6} {'wall s':>7} {'cpu s':>7} {'MB':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats.split(","):
            if fmt == "mp4" and ffmpeg_path() is None:
                print("mp4: ffmpeg is not installed, skipped")
                continue
            for panels in (int(p) for p in args.panels.split(",")):
                chosen = dict(list(runs.items())[:panels])
                best = None
                for _ in range(args.repeat):
                    out = Path(tmp) / f"day{panels}.{fmt}"
                    c0, t0 = cpu_seconds(), time.perf_counter()
                    animate(chosen, out, start="2d", end="3d", step=args.step)
                    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                    if best is None or wall < best[0]:
                        best = (wall, cpu, out.stat().st_size / 1e6)
                assert best is not None
                n = len(frame_times(48.0, 72.0, parse_duration(args.step)))
                print(f"{fmt:<6} {panels:>6} {n:>6} {best[0]:>7.1f} {best[1]:>7.1f} {best[2]:>7.1f}")
                rows.append({"format": fmt, "panels": panels, "step": args.step, "wall_s": round(best[0], 2),
                             "cpu_s": round(best[1], 2), "size_mb": round(best[2], 2)})
    print(f"peak memory {peak_rss_mib():.0f} MiB; load average now {os.getloadavg()[0]:.1f}")
    write_json(args.json, {"benchmark": "animate", "version": code_version(), "cores": os.cpu_count(),
                           "load_average_end": os.getloadavg()[0], "rows": rows,
                           "peak_rss_mib": peak_rss_mib()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
