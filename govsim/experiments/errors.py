"""The error raised for a wrong experiment request (bad arguments, a results directory that
holds another experiment, Dask missing or unreachable). The command line prints its message
and exits with status 2."""

from __future__ import annotations

__all__ = ["ExperimentError"]


class ExperimentError(ValueError):
    """A wrong experiment request: the message says what is wrong and what to do."""
