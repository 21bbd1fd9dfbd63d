"""The results store: one file per finished run, written atomically, plus a manifest.

Layout of an output directory ``DIR``::

    DIR/manifest.json            what the experiment is: kind, master seed, points (label,
                                 swept parameters, scenario content hash), replications asked
                                 for, govsim and dependency versions, created/updated times
    DIR/runs/p000-r0000.json     one finished run: point, replication, seeds, summary
    DIR/runs/p000-r0000.issues.parquet   its issues table (only with issues=True)
    DIR/runs.csv, DIR/table.csv  the tidy runs and the aggregated table (rewritten at the end)
    DIR/runs.parquet             the tidy runs as one Parquet file (when pyarrow is installed),
                                 the dataset to read after a large sweep

Every file is written to a temporary file in the same directory and renamed
into place (``os.replace``), so a file either exists whole or not at all, even
if the process is killed mid-write. A run counts as finished when its JSON file
exists (written last). Running the same experiment again into the same
directory skips the finished runs and computes only the rest, so an interrupted
experiment resumes and loses nothing; asking for more replications adds to the
stored ones.

The manifest guards against mixing: if the directory holds another experiment
(a scenario whose content hash changed, other parameters, another seed or kind),
opening it fails with :class:`~govsim.experiments.errors.ExperimentError`,
unless ``force=True`` (``--force``), which deletes the stored runs first. One
process at a time may write to a directory (a lock file enforces it on POSIX; processes
forked while it is held do not inherit it, so worker processes orphaned by a ``kill -9``
of the experiment cannot keep a resumed run out).

A write that fails (a full disk, a read-only or vanished directory) raises
:class:`~govsim.experiments.errors.ExperimentError` naming the file and the reason; the
files already written stay whole, and running the same experiment again resumes.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import math
import os
import platform
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from govsim.experiments.errors import ExperimentError

__all__ = ["ResultsStore", "dependency_versions", "load_runs"]

FORMAT = "govsim-results/1"
RUN_FORMAT = "govsim-run/1"
MANIFEST = "manifest.json"
RUNS = "runs"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"


def dependency_versions() -> dict[str, str]:
    """Versions of Python, govsim and the packages a run depends on."""
    from importlib import metadata

    import govsim

    out = {"python": platform.python_version(), "govsim": govsim.__version__}
    for dist in ("numpy", "pandas", "scipy", "simpy", "PyYAML"):
        try:
            out[dist.lower()] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[dist.lower()] = "not installed"
    return out


def _short(x: Any, limit: int = 160) -> str:
    text = json.dumps(_json_value(x), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _json_value(x: Any) -> Any:
    """Plain JSON data: NaN/inf floats become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _json_value(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_value(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):  # numpy scalar
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


#: lock files held by this process: closed in forked children (see ``_close_locks_in_child``)
_HELD_LOCKS: set[Any] = set()


def _close_locks_in_child() -> None:
    # An flock belongs to the open file, which a fork shares: a worker process that outlived
    # its parent (``kill -9`` of the command alone) would keep the directory locked. Closing
    # the child's copy leaves the parent's lock in place.
    for fh in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            fh.close()
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)


def _write_failed(path: Path, err: OSError, directory: Path) -> ExperimentError:
    reason = err.strerror or str(err)
    hint = " (free some space)" if err.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return ExperimentError(
        f"{path}: cannot write ({reason}){hint}; the runs finished so far are kept in "
        f"{directory}: run the same command again to resume")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` to fill a temporary file next to ``path``, flush it to disk, then
    rename it to ``path`` in one step."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _issues_format() -> str:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


class ResultsStore:
    """An output directory holding the runs of one experiment.

    ``definition`` identifies the experiment: ``{"kind", "seed", "points": [{"point",
    "label", "params", "hash", ...}], ...}``; ``kind``, ``seed`` and each point's
    ``label``, ``params`` and ``hash`` must match what the directory holds.
    """

    def __init__(self, path: str | os.PathLike[str], definition: dict[str, Any],
                 force: bool = False) -> None:
        self.path = Path(path)
        self.runs_dir = self.path / RUNS
        self.definition = _json_value(definition)
        self.force = force
        self._lock_fh: Any = None

    # --- opening ------------------------------------------------------------------------
    @staticmethod
    def _identity(d: dict[str, Any]) -> dict[str, Any]:
        return {"format": d.get("format", FORMAT), "kind": d.get("kind"), "seed": d.get("seed"),
                "points": [[p.get("label"), p.get("params"), p.get("hash")] for p in d.get("points", [])]}

    def _mismatch(self, old: dict[str, Any]) -> str | None:
        new = self._identity({"format": FORMAT, **self.definition})
        was = self._identity(old)
        if was == new:
            return None
        if was["format"] != new["format"]:
            return f"it was written in format {was['format']!r}"
        if was["kind"] != new["kind"]:
            return f"it holds a {was['kind']}, not a {new['kind']}"
        if was["seed"] != new["seed"]:
            return f"it was run with seed {was['seed']}, not {new['seed']}"
        if [p[:2] for p in was["points"]] != [p[:2] for p in new["points"]]:
            if new["kind"] == "sweep" and old.get("params") != self.definition.get("params"):
                return (f"it holds a sweep over {_short(old.get('params'))}, "
                        f"not over {_short(self.definition.get('params'))}")
            return (f"it holds {_short([p[0] for p in was['points']])}, "
                    f"not {_short([p[0] for p in new['points']])}")
        if old.get("base_hash") and old.get("base_hash") != self.definition.get("base_hash"):
            return (f"scenario {self.definition.get('scenario')} has changed since (content hash "
                    f"{str(old['base_hash'])[:12]}… then, {str(self.definition.get('base_hash'))[:12]}… now)")
        for (label, _, h_old), (_, _, h_new) in zip(was["points"], new["points"]):
            if h_old != h_new:
                return (f"scenario {label!r} has changed since (content hash "
                        f"{str(h_old)[:12]}… then, {str(h_new)[:12]}… now)")
        return "its definition differs"  # pragma: no cover

    def open(self, n: int) -> None:
        """Create or check the directory; takes the lock and writes the manifest."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ExperimentError(f"{self.path}: cannot create the output directory ({err.strerror or err})") from None
        if not self.path.is_dir():
            raise ExperimentError(f"{self.path}: not a directory")
        self._lock()
        manifest_path = self.path / MANIFEST
        old: dict[str, Any] | None = None
        if manifest_path.exists():
            try:
                old = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                if not self.force:
                    raise ExperimentError(
                        f"{manifest_path}: unreadable manifest ({err}); use another output "
                        f"directory, or --force (force=True) to discard its results") from None
        elif self.runs_dir.is_dir() and any(self._run_files()):
            if not self.force:
                raise ExperimentError(
                    f"{self.path}: holds runs but no manifest; use another output directory, "
                    f"or --force (force=True) to discard them")
        if old is not None and not self.force:
            why = self._mismatch(old)
            if why:
                raise ExperimentError(
                    f"{self.path} holds the results of another experiment: {why}. Use another "
                    f"output directory, or --force (force=True) to discard its results")
            versions = dependency_versions()
            before = old.get("versions", {})
            changed = [f"{k} {before[k]} → {v}" for k, v in versions.items()
                       if k in before and before[k] != v and k != "python"]
            if changed:
                warnings.warn(f"{self.path}: stored runs were computed with other versions "
                              f"({', '.join(changed)}); they are reused as they are (use --force "
                              f"to recompute everything)", stacklevel=3)
        if self.force and (old is not None or self.runs_dir.is_dir()):
            self._clear()
            old = None
        try:
            self.runs_dir.mkdir(exist_ok=True)
        except OSError as err:
            raise _write_failed(self.runs_dir, err, self.path) from err
        for tmp in [*self.path.glob(TMP_PREFIX + "*"), *self.runs_dir.glob(TMP_PREFIX + "*")]:
            with contextlib.suppress(OSError):
                tmp.unlink()  # left by a process killed mid-write
        manifest = {"format": FORMAT, **self.definition,
                    "n": max(int(n), int(old.get("n", 0)) if old else 0),
                    "versions": old.get("versions") if old else dependency_versions(),
                    "created": old.get("created") if old else _now(), "updated": _now()}
        if old and old.get("versions") != dependency_versions():
            manifest["resumed_with"] = dependency_versions()
        try:
            atomic_write_text(manifest_path,
                              json.dumps(_json_value(manifest), indent=2, ensure_ascii=False) + "\n")
        except OSError as err:
            raise _write_failed(manifest_path, err, self.path) from err

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            return
        try:
            fh = open(self.path / LOCK, "a+")  # noqa: SIM115 - held until close()
        except OSError as err:
            raise _write_failed(self.path / LOCK, err, self.path) from err
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise ExperimentError(f"{self.path}: another govsim process is writing to this "
                                  f"directory; wait for it, or use another directory") from None
        self._lock_fh = fh
        _HELD_LOCKS.add(fh)

    def close(self) -> None:
        fh, self._lock_fh = self._lock_fh, None
        if fh is not None:
            _HELD_LOCKS.discard(fh)
            fh.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _run_files(self) -> list[Path]:
        return [p for p in self.runs_dir.iterdir() if p.name.startswith("p")] if self.runs_dir.is_dir() else []

    def _clear(self) -> None:
        for f in self._run_files():
            if f.name.endswith((".json", ".parquet", ".csv")):
                f.unlink()
        for name in (MANIFEST, "runs.csv", "runs.parquet", "table.csv", "means.csv"):
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()

    # --- runs ---------------------------------------------------------------------------
    @staticmethod
    def run_name(point: int, replication: int) -> str:
        return f"p{point:03d}-r{replication:04d}"

    def _point(self, point: int) -> dict[str, Any]:
        return self.definition["points"][point]

    def load(self, point: int, replication: int, issues: bool = False) -> dict[str, Any] | None:
        """The stored result of a run, or ``None`` if it has not finished (or is unusable)."""
        name = self.run_name(point, replication)
        path = self.runs_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            warnings.warn(f"{path}: unreadable ({err}); the run is computed again", stacklevel=2)
            return None
        expected = self._point(point)
        if (data.get("format") != RUN_FORMAT or data.get("point") != point
                or data.get("replication") != replication or data.get("seed") != self.definition["seed"]
                or data.get("scenario_hash") != expected["hash"] or not isinstance(data.get("summary"), dict)):
            warnings.warn(f"{path}: does not belong to this experiment; the run is computed again",
                          stacklevel=2)
            return None
        out = {"point": point, "replication": replication,
               "summary": {k: (math.nan if v is None else float(v)) for k, v in data["summary"].items()},
               "elapsed_s": data.get("elapsed_s")}
        if issues:
            table = data.get("issues_file")
            if not table or not (self.runs_dir / table).exists():
                return None
            f = self.runs_dir / table
            out["issues"] = pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
        return out

    def save(self, result: dict[str, Any]) -> None:
        """Store one finished run (its issues table first, if any, then the JSON record)."""
        point, rep = int(result["point"]), int(result["replication"])
        name = self.run_name(point, rep)
        p = self._point(point)
        record: dict[str, Any] = {
            "format": RUN_FORMAT, "point": point, "replication": rep, "label": p.get("label"),
            "params": p.get("params", {}), "scenario_hash": p["hash"], "seed": self.definition["seed"],
            "seed_sequence": {"entropy": self.definition["seed"], "spawn_key": [rep]},
            "summary": result["summary"], "elapsed_s": result.get("elapsed_s"), "finished": _now(),
        }
        issues = result.get("issues")
        target = self.runs_dir / f"{name}.json"
        try:
            if issues is not None:
                fmt = _issues_format()
                fname = f"{name}.issues.{fmt}"
                target = self.runs_dir / fname
                if fmt == "parquet":
                    atomic_write(target, lambda tmp: issues.to_parquet(tmp, index=False))
                else:
                    atomic_write(target, lambda tmp: issues.to_csv(tmp, index=False))
                record["issues_file"] = fname
                target = self.runs_dir / f"{name}.json"
            atomic_write_text(target, json.dumps(_json_value(record), ensure_ascii=False,
                                                 allow_nan=False) + "\n")
        except OSError as err:
            raise _write_failed(target, err, self.path) from err

    def write_table(self, name: str, table: pd.DataFrame, *, parquet: bool = False) -> None:
        """Write ``DIR/<name>.csv`` atomically (the tidy runs, the aggregated table); with
        ``parquet=True`` also ``DIR/<name>.parquet`` when pyarrow is installed (one typed
        file for the whole experiment: columns of mixed types are written as text)."""
        targets = [(self.path / f"{name}.csv", lambda tmp: table.to_csv(tmp, index=False))]
        if parquet and _issues_format() == "parquet":
            typed = table.copy()
            for c in typed.columns:
                if typed[c].dtype == object:
                    typed[c] = typed[c].astype(str)
            targets.append((self.path / f"{name}.parquet",
                            lambda tmp: typed.to_parquet(tmp, index=False)))
        for target, write in targets:
            try:
                atomic_write(target, write)
            except OSError as err:
                raise _write_failed(target, err, self.path) from err


def load_runs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every finished run stored in output directory ``path``, one row each (point, label,
    swept parameters, replication, then the metrics), sorted by point and replication —
    also while an experiment is still running or after it was interrupted."""
    runs_dir = Path(path) / RUNS
    if not (Path(path) / MANIFEST).exists():
        raise ExperimentError(f"{path}: no {MANIFEST}: not a govsim results directory")
    rows = []
    for f in sorted(runs_dir.glob("p*-r*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        row = {"point": data["point"], "label": data.get("label"), **(data.get("params") or {}),
               "replication": data["replication"]}
        row.update({k: (math.nan if v is None else v) for k, v in data["summary"].items()})
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
    return df
