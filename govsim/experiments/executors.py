"""Executors: where the runs of an experiment are computed.

All executors have one small interface, ``map(func, tasks)``, which yields
``func(task)`` for every task **in completion order** (the caller sorts; results
are keyed by point and replication). A task's result does not depend on the
executor: each carries its own seed (:mod:`govsim.experiments.seeds`).

* :class:`SequentialExecutor`: in this process, one after the other.
* :class:`ProcessExecutor`: local processes (``concurrent.futures``), by default
  one per available core. On Linux it forks (workers inherit everything,
  including policies and routes you registered) when this process has a single
  thread, and uses ``forkserver`` otherwise; ``start_method=`` or the environment
  variable ``GOVSIM_START_METHOD`` chooses.
* :class:`DaskExecutor`: a Dask cluster, from a scheduler address
  (``"tcp://host:8786"``) or a ``dask.distributed.Client``. Needs
  ``pip install "govsim[distributed]"``; govsim must be installed on the workers.

An executor passed in by the caller is reused and left open; one that
:func:`make_executor` creates is closed by whoever asked for it (``owned``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from govsim.experiments.errors import ExperimentError

__all__ = [
    "DaskExecutor", "Executor", "ProcessExecutor", "SequentialExecutor", "available_cores",
    "make_executor",
]

DASK_HINT = 'Dask is needed to run on a cluster: pip install "govsim[distributed]"'


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


class Executor:
    """Runs tasks; ``map(func, tasks)`` yields results in completion order."""

    name = "executor"
    workers = 1

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes or connections (idempotent)."""

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class SequentialExecutor(Executor):
    """Every task in this process, in order."""

    name = "sequential"

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        for task in tasks:
            yield func(task)


def default_start_method() -> str:
    """``GOVSIM_START_METHOD`` if set; else ``fork`` on Linux when this process has one thread
    (fast, and workers inherit registered policies); else ``forkserver``, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    env = os.environ.get("GOVSIM_START_METHOD")
    if env:
        if env not in methods:
            raise ExperimentError(f"GOVSIM_START_METHOD={env!r} is not available here; "
                                  f"choose one of {', '.join(methods)}")
        return env
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    if "forkserver" in methods:
        return "forkserver"
    return "spawn"  # pragma: no cover - Windows, macOS without forkserver


def _watch_parent(interval: float) -> None:
    parent = os.getppid()  # this process (fork, spawn) or the fork server
    creator = multiprocessing.parent_process()  # the process that asked for this worker
    while True:
        time.sleep(interval)
        if os.getppid() != parent or (creator is not None and not creator.is_alive()):
            os._exit(1)  # killed without stopping us (kill -9, out of memory): nobody waits


def _init_worker(interval: float = 0.5) -> None:
    """Set up a worker process: Ctrl-C is handled by the parent, which stops the workers (they
    should not print tracebacks); and a worker whose parent died without stopping it (``kill
    -9`` of the command alone) exits instead of waiting for work forever. A worker started by
    the fork server watches both the server and the process that asked for it (through
    multiprocessing's parent sentinel): the server lives on while workers hold its pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(interval,), daemon=True,
                     name="govsim-parent-watch").start()


class ProcessExecutor(Executor):
    """Local worker processes (``jobs`` of them; default: all available cores).

    The pool starts at the first :meth:`map` and is reused until :meth:`close`.
    """

    name = "processes"

    def __init__(self, jobs: int | None = None, start_method: str | None = None) -> None:
        if jobs is None:
            jobs = available_cores()
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ExperimentError(f"jobs must be a positive integer, got {jobs!r}")
        methods = multiprocessing.get_all_start_methods()
        if start_method is not None and start_method not in methods:
            raise ExperimentError(f"start method {start_method!r} is not available here; "
                                  f"choose one of {', '.join(methods)}")
        self.workers = jobs
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = self.start_method or default_start_method()
            ctx = multiprocessing.get_context(method)
            if method == "forkserver":
                ctx.set_forkserver_preload(["govsim.experiments.runner", "govsim.engine"])
            self.start_method = method
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                             initializer=_init_worker)
        return self._pool

    def describe(self) -> str:
        how = f", {self.start_method}" if self.start_method else ""
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''}{how})"

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        pool = self._get_pool()
        futures = [pool.submit(func, task) for task in tasks]
        finished = False
        try:
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    raise RuntimeError("a worker process died (killed, or out of memory?); the "
                                       "runs finished so far are kept") from None
            finished = True
        finally:
            if not finished:  # interrupted or failed: drop what has not started, stop the rest
                for fut in futures:
                    fut.cancel()
                self._terminate()

    def _terminate(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _dask() -> Any:
    try:
        import dask.distributed
    except ImportError:
        raise ExperimentError(DASK_HINT) from None
    return dask.distributed


def is_dask_client(obj: Any) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.split(".")[0] == "distributed"


class DaskExecutor(Executor):
    """A Dask cluster: ``DaskExecutor("tcp://host:8786")`` or ``DaskExecutor(client)``.

    A client given is used as it is and not closed; one created from an address is
    closed by :meth:`close`.
    """

    name = "dask"

    def __init__(self, client_or_address: Any, timeout: float = 10.0) -> None:
        distributed = _dask()
        if isinstance(client_or_address, str):
            try:
                self.client = distributed.Client(client_or_address, timeout=timeout)
            except (OSError, TimeoutError) as err:
                raise ExperimentError(f"cannot reach the Dask scheduler at {client_or_address} "
                                      f"({err}); is `dask scheduler` running there?") from None
            self._owns_client = True
        else:
            self.client = client_or_address
            self._owns_client = False

    @property
    def workers(self) -> int:  # type: ignore[override]
        try:
            return len(self.client.scheduler_info().get("workers", {}))
        except Exception:  # pragma: no cover - connection lost
            return 0

    def describe(self) -> str:
        return f"dask at {self.client.scheduler.address} ({self.workers} workers)"

    def map(self, func: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        distributed = _dask()
        tasks = list(tasks)
        if not tasks:
            return
        futures = self.client.map(func, tasks, pure=False)
        finished = False
        try:
            for fut, result in distributed.as_completed(futures, with_results=True):
                fut.release()  # the worker may drop the result now (a city's districts are large)
                yield result
            finished = True
        finally:
            if not finished:
                self.client.cancel(futures)

    def close(self) -> None:
        if self._owns_client and self.client is not None:
            self.client.close()
            self.client = None


def make_executor(executor: Any = None, *, jobs: int | None = None, scheduler: Any = None,
                  n_tasks: int = 2) -> tuple[Executor, bool]:
    """The executor to use and whether the caller owns it (must close it).

    ``executor``: ``None`` (default: local processes when there is more than one task,
    else sequential), ``"sequential"``, ``"processes"``, ``"dask"`` (with ``scheduler``),
    an :class:`Executor` (reused, not closed) or a ``dask.distributed.Client``.
    ``jobs``: number of processes (``1``: sequential). ``scheduler``: a Dask scheduler
    address or client (implies Dask).
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ExperimentError(f"jobs must be a positive integer, got {jobs!r}")
    if isinstance(executor, Executor):
        return executor, False
    if is_dask_client(executor):
        return DaskExecutor(executor), True
    if scheduler is not None:
        if executor not in (None, "dask"):
            raise ExperimentError(f"a scheduler was given, but executor={executor!r}: "
                                  f"leave executor out, or use executor='dask'")
        return DaskExecutor(scheduler), True
    if executor == "dask":
        raise ExperimentError("executor='dask' needs scheduler= (an address such as "
                              "tcp://host:8786) or a dask.distributed.Client as executor=")
    if executor not in (None, "sequential", "processes"):
        raise ExperimentError(f"unknown executor {executor!r}; use 'sequential', 'processes', "
                              f"'dask', an Executor or a dask.distributed.Client")
    if executor == "sequential" or jobs == 1 or (executor is None and n_tasks <= 1):
        return SequentialExecutor(), True
    workers = jobs if jobs is not None else available_cores()
    workers = max(1, min(workers, n_tasks))
    if workers == 1 and executor is None:
        return SequentialExecutor(), True
    return ProcessExecutor(workers), True
