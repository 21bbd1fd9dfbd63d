"""Under load and faults, nothing is lost and nothing is corrupted.

A sweep writing its results store is killed (``kill -9`` of the command alone, and of its
whole process group), interrupted with Ctrl-C (SIGINT), or runs out of disk space (a
monkeypatched write, and a real tiny tmpfs where this process may mount one); a Dask
worker is killed while it runs a task. Each time the store stays readable (every run
file whole, no temporary files left), the error is one clear message, and running the
same experiment again completes with results identical to an uninterrupted run. The
same seed gives identical runs and issue tables sequentially, on local processes and on
Dask (the summary tables are checked in ``test_experiments.py``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import govsim
from govsim.experiments import ExperimentError, ProcessExecutor, load_runs
from govsim.experiments import store as store_module

ROOT = Path(__file__).resolve().parents[1]
SMART = str(ROOT / "scenarios" / "smart_dispatch.yaml")
PARAMS = {"workers.per_grid": [1, 2]}
N, SEED, HORIZON = 6, 9, "14d"  # 12 runs of ~0.15 s: long enough to be caught midway
KWARGS = dict(n=N, seed=SEED, overrides={"horizon": HORIZON}, progress=False)
ARGV = [sys.executable, "-m", "govsim", "sweep", SMART, "--param", "workers.per_grid=1,2",
        "-n", str(N), "--seed", str(SEED), "--set", f"horizon={HORIZON}", "--quiet", "--jobs", "2"]
EXPECTED = sorted(f"p{p:03d}-r{r:04d}.json" for p in range(2) for r in range(N))
SMALL = dict(n=3, seed=SEED, overrides={"horizon": "3d"}, progress=False)  # 6 short runs
SMALL_EXPECTED = sorted(f"p{p:03d}-r{r:04d}.json" for p in range(2) for r in range(3))

posix_only = pytest.mark.skipif(not hasattr(os, "killpg") or not Path("/proc").is_dir(),
                                reason="needs POSIX process groups and /proc")


@pytest.fixture(scope="module")
def clean() -> govsim.experiments.Sweep:
    """The uninterrupted sweep every interrupted one must reproduce exactly."""
    return govsim.sweep(SMART, PARAMS, executor="sequential", **KWARGS)


@pytest.fixture(scope="module")
def clean_small() -> govsim.experiments.Sweep:
    return govsim.sweep(SMART, PARAMS, executor="sequential", **SMALL)


def assert_same(result: govsim.experiments.Sweep, clean: govsim.experiments.Sweep) -> None:
    pd.testing.assert_frame_equal(result.runs, clean.runs, check_exact=True)
    pd.testing.assert_frame_equal(result.table, clean.table, check_exact=True)


def assert_store_intact(out: Path, complete: bool, expected: list[str] = EXPECTED,
                        killed: bool = False) -> list[str]:
    """Every file in the store parses, none is a leftover temporary file (``killed``: a write
    cut short by SIGKILL may leave its .tmp-* file until the next run opens the store and
    removes it); the names stored."""
    runs_dir = out / "runs"
    names = sorted(p.name for p in runs_dir.iterdir() if not (killed and p.name.startswith(".tmp-")))
    assert not [n for n in names if not n.startswith("p")], names  # no .tmp-* debris
    for name in names:
        record = json.loads((runs_dir / name).read_text(encoding="utf-8"))
        assert f"p{record['point']:03d}-r{record['replication']:04d}.json" == name
    json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(load_runs(out)) == len(names)
    if complete:
        assert names == expected
    return names


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, awaiting its reaper


def descendants(pid: int) -> list[int]:
    return [d for c in children(pid) for d in (c, *descendants(c))]


def start_sweep(out: Path, stored: int = 3,
                start_method: str | None = None) -> tuple[subprocess.Popen[str], list[int]]:
    """``govsim sweep --out`` in a new session, once ``stored`` runs are in the store; its pid
    and its worker processes (with the fork server and resource tracker, if any)."""
    env = dict(os.environ)
    if start_method:
        env["GOVSIM_START_METHOD"] = start_method
    proc = subprocess.Popen([*ARGV, "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "runs").is_dir() and len(list((out / "runs").glob("p*.json"))) >= stored:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the sweep finished before it could be interrupted: make it longer"
    workers = descendants(proc.pid)
    assert workers, "no worker processes"
    return proc, workers


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    try:
        yield proc
    finally:  # the whole group: also worker processes that outlived the command
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def wait_gone(pids: list[int], timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while any(alive(p) for p in pids):
        assert time.monotonic() - t0 < timeout, f"worker processes {pids} outlived their parent"
        time.sleep(0.05)
    return time.monotonic() - t0


# --------------------------------------------------------------------------- SIGKILL


@posix_only
@pytest.mark.parametrize("target, start_method", [("command", "fork"), ("command", "forkserver"),
                                                  ("group", None)])
def test_sigkill_resumes_with_nothing_lost(tmp_path, clean, target, start_method) -> None:
    """``kill -9 PID`` of the command alone (its workers are orphaned: they must exit and not
    keep the directory locked) and of its whole process group."""
    import multiprocessing

    if start_method and start_method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{start_method} not available")
    out = tmp_path / "store"
    proc, workers = start_sweep(out, start_method=start_method)
    with reaped(proc):
        if target == "command":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    wait_gone(workers)
    before = assert_store_intact(out, complete=False, killed=True)
    assert 3 <= len(before) < len(EXPECTED)

    resumed = govsim.sweep(SMART, PARAMS, out=out, jobs=2, **KWARGS)
    assert resumed.info["computed"] == len(EXPECTED) - len(before)
    assert resumed.info["reused"] == len(before)
    assert_store_intact(out, complete=True)
    assert_same(resumed, clean)


def test_workers_outlive_the_parent_watch_while_the_parent_lives() -> None:
    """Workers exit when their parent dies; a worker started by the fork server (whose parent
    is the server, not this process) must not take that for its parent's death."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("forkserver not available")
    with ProcessExecutor(1, start_method="forkserver") as ex:
        assert list(ex.map(time.sleep, [0.8])) == [None]  # > the 0.5 s watch interval


# --------------------------------------------------------------------------- SIGINT


@posix_only
@pytest.mark.parametrize("target", ["command", "group"])
def test_ctrl_c_exits_cleanly_and_resumes(tmp_path, clean, target) -> None:
    """SIGINT to the command (``kill -INT``), or to its process group as Ctrl-C in a terminal
    sends it: a message, status 130, no traceback, no worker left, and the rerun resumes."""
    out = tmp_path / "store"
    proc, workers = start_sweep(out)
    with reaped(proc):
        (os.kill if target == "command" else os.killpg)(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert stderr.strip() == (f"interrupted; the finished runs are kept in {out}: "
                              f"run the same command again to resume")
    wait_gone(workers, timeout=6)  # stopped by the command itself
    before = assert_store_intact(out, complete=False)

    again = subprocess.run([*ARGV, "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"({len(EXPECTED) - len(before)} runs computed on" in again.stdout
    assert_store_intact(out, complete=True)
    assert_same(govsim.sweep(SMART, PARAMS, out=out, **KWARGS), clean)


# --------------------------------------------------------------------------- full disk


def fail_at(monkeypatch, nth: int) -> list[int]:
    """Make the ``nth`` atomic write of the store fail as a full disk does: half the file
    is written, then ENOSPC."""
    calls = [0]
    real = store_module.atomic_write

    def atomic_write(path, write):
        calls[0] += 1
        if calls[0] != nth:
            return real(path, write)

        def half_then_full(tmp: Path) -> None:
            write(tmp)
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

        return real(path, half_then_full)

    monkeypatch.setattr(store_module, "atomic_write", atomic_write)
    return calls


@pytest.mark.parametrize("nth, what", [(1, "manifest.json"), (5, "runs/p001-r0000.json"),
                                       (8, "runs.csv")])
def test_full_disk_leaves_a_readable_store_and_a_rerun_completes(tmp_path, clean_small, monkeypatch,
                                                                 nth, what) -> None:
    out = tmp_path / "store"
    fail_at(monkeypatch, nth)  # write 1 is the manifest, 2..7 the runs, 8 runs.csv
    with pytest.raises(ExperimentError) as caught:
        govsim.sweep(SMART, PARAMS, out=out, executor="sequential", **SMALL)
    message = str(caught.value)
    assert message.startswith(f"{out / what}: cannot write (No space left on device) "
                              f"(free some space); the runs finished so far are kept in {out}")
    assert "run the same command again to resume" in message
    assert not list(out.rglob(".tmp-*"))
    if nth > 1:
        assert_store_intact(out, complete=nth == 8, expected=SMALL_EXPECTED)
    monkeypatch.undo()
    resumed = govsim.sweep(SMART, PARAMS, out=out, executor="sequential", **SMALL)
    assert resumed.info["reused"] == {1: 0, 5: 3, 8: 6}[nth]
    assert_store_intact(out, complete=True, expected=SMALL_EXPECTED)
    assert (out / "runs.csv").exists() and (out / "table.csv").exists()
    assert_same(resumed, clean_small)


def test_full_disk_on_the_command_line_is_one_message(tmp_path, monkeypatch, capsys) -> None:
    from govsim.cli import main

    out = tmp_path / "store"
    fail_at(monkeypatch, 3)
    argv = ["sweep", SMART, "--param", "workers.per_grid=1", "-n", "3", "--set", "horizon=2d",
            "--jobs", "1", "--quiet", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out / 'runs' / 'p000-r0001.json'}: cannot write (No space "
                          f"left on device)") and "Traceback" not in err
    monkeypatch.undo()
    assert main(argv) == 0
    assert "(2 runs computed on sequential (1 worker), 1 reused)" in capsys.readouterr().out


@pytest.fixture
def tiny_tmpfs(tmp_path) -> Iterator[Path]:
    """A real 20 KiB tmpfs (five pages) (needs the right to mount: root, not in every sandbox)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_disk_on_a_tiny_tmpfs(tiny_tmpfs, clean_small) -> None:
    out = tiny_tmpfs / "store"
    with pytest.raises(ExperimentError, match=r"cannot write \(No space left on device\)"):
        govsim.sweep(SMART, PARAMS, out=out, executor="sequential", **SMALL)
    before = assert_store_intact(out, complete=False)
    assert 0 < len(before) < len(SMALL_EXPECTED)
    subprocess.run(["mount", "-o", "remount,size=1m", str(tiny_tmpfs)], check=True)
    resumed = govsim.sweep(SMART, PARAMS, out=out, executor="sequential", **SMALL)
    assert resumed.info["reused"] == len(before)
    assert_store_intact(out, complete=True, expected=SMALL_EXPECTED)
    assert_same(resumed, clean_small)


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[tuple[object, object]]:
    distributed = pytest.importorskip("dask.distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            yield cluster, client


def test_same_seed_same_runs_and_issues_everywhere(dask_cluster) -> None:
    """Issue tables travel back from workers (pickled): identical on every executor."""
    _, client = dask_cluster
    kw = dict(n=3, seed=5, overrides={"horizon": "2d"}, issues=True, progress=False)
    seq = govsim.replicate(SMART, executor="sequential", **kw)
    with ProcessExecutor(2) as ex:
        proc = govsim.replicate(SMART, executor=ex, **kw)
    on_dask = govsim.replicate(SMART, executor=client, **kw)
    for other in (proc, on_dask):
        pd.testing.assert_frame_equal(seq.runs, other.runs, check_exact=True)
        pd.testing.assert_frame_equal(seq.issues, other.issues, check_exact=True)


def test_dask_worker_killed_midway_is_retried(tmp_path, clean, dask_cluster) -> None:
    _, client = dask_cluster
    out = tmp_path / "store"
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        pids = client.run(os.getpid)  # worker address -> pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored = len(list((out / "runs").glob("p*.json"))) if (out / "runs").is_dir() else 0
            busy = [w for w, keys in client.processing().items() if keys]
            if stored >= 2 and busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(pids[busy[0]])
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        result = govsim.sweep(SMART, PARAMS, out=out, executor=client, **KWARGS)
    finally:
        killer.join()
    assert killed, "no worker was killed: the sweep ended first"
    assert result.info["computed"] == len(EXPECTED)
    assert_store_intact(out, complete=True)
    assert_same(result, clean)
