"""Helpers shared by the benchmark scripts (imported as a sibling module when a script runs)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

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
