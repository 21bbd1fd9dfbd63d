"""Helpers shared by the benchmark scripts (imported as a sibling module when a script runs)."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import govsim


def code_version() -> str:
    """``git describe`` of the govsim being timed (``+dirty`` if it has local changes)."""
    src = Path(govsim.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(src), "describe", "--always", "--dirty=+dirty"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (ru_maxrss is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if sys.platform == "darwin" else rss / 1024.0


def print_profile(prof: cProfile.Profile, top: int, title: str,
                  keys: tuple[str, ...] = ("cumulative", "tottime")) -> None:
    """The ``top`` functions of a cProfile run by each sort key, under a heading."""
    for key in keys:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        text = buf.getvalue()
        print(f"\n===== {title}, top {top} by {key} (profiled; times inflated) =====")
        print((text[text.find("   ncalls"):] if "   ncalls" in text else text).rstrip())


def write_json(path: str | None, info: dict[str, Any]) -> None:
    """Write the benchmark's record to ``path`` (nothing if None)."""
    if path:
        Path(path).write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {path}")
