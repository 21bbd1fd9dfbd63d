"""The classroom web page (课堂网页): the explorer of :mod:`govsim.widgets`, served by Solara.

For rooms where students have a browser but no Python: ``govsim app --host 0.0.0.0`` on the
instructor's machine, and every student opens ``http://HOST:PORT``. Each browser tab gets its
own :class:`~govsim.widgets.Explorer` (the same ipywidgets as in a notebook — Solara renders
them); presses run in a shared pool of worker processes, so that one student's run never
holds up the page of another, and a student's button is disabled while their run goes.
Why Solara, and measured times: ``docs/classroom.md``.

Solara finds the page as :func:`Page` (``SOLARA_APP=govsim.app``); :func:`serve` starts the
server (what ``govsim app`` calls). The page's defaults come from the environment that
:func:`serve` sets: ``GOVSIM_APP_PRESET``, ``GOVSIM_APP_HORIZON``, ``GOVSIM_APP_REPLICATIONS``,
``GOVSIM_APP_LANG``, ``GOVSIM_APP_WORKERS``.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from govsim.widgets import Explorer, warm_up

__all__ = ["INSTALL_HINT", "Page", "serve"]

INSTALL_HINT = 'the classroom web page needs Solara: pip install "govsim[classroom]"'


def _solara() -> Any:
    try:
        return importlib.import_module("solara")
    except ImportError:
        raise ImportError(INSTALL_HINT) from None


solara = _solara()

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ProcessPoolExecutor:
    """The worker processes every page's runs share (``GOVSIM_APP_WORKERS``, default: the
    cores), started once; spawned, not forked, because the server runs threads."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=_workers(), mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_follow_parent, initargs=(os.getpid(),))
        return _POOL


def _follow_parent(parent: int) -> None:
    """In a worker process: end when the server is gone, even killed without a chance to stop
    its pool (a worker waiting for work would otherwise wait for ever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="govsim-follow-server").start()


def _workers() -> int:
    return int(os.environ.get("GOVSIM_APP_WORKERS") or os.cpu_count() or 1)


def _explorer() -> Explorer:
    env = os.environ.get
    return Explorer(preset=env("GOVSIM_APP_PRESET") or "traditional_patrol",
                    horizon=env("GOVSIM_APP_HORIZON") or "3d",
                    replications=int(env("GOVSIM_APP_REPLICATIONS") or 3),
                    lang=env("GOVSIM_APP_LANG") or "en", executor=pool())


@solara.component
def Page() -> Any:
    """One student's page: a title, a line on how to use it, and their own explorer."""
    explorer = solara.use_memo(_explorer, [])
    solara.Title("govsim classroom 网格化管理课堂")
    with solara.Column(style={"padding": "12px"}) as main:
        solara.Markdown("## govsim classroom · 网格化管理课堂\n"
                        "Change the settings, press **Run**: your settings are compared with the preset "
                        "on the same issues (common random numbers). 调整参数后点击运行，与预设情景在同一批事件上比较。")
        solara.display(explorer.widget)
    return main


def serve(host: str = "127.0.0.1", port: int = 8765, *, workers: int | None = None,
          preset: str = "traditional_patrol", horizon: str = "3d", replications: int = 3,
          lang: str = "en", log_level: str = "warning") -> None:
    """Serve the page at ``http://host:port`` until interrupted (Solara on uvicorn). Solara's
    usage telemetry is turned off: a classroom's server reports nothing to anyone."""
    os.environ.update({"SOLARA_APP": "govsim.app", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
                       "GOVSIM_APP_PRESET": preset, "GOVSIM_APP_HORIZON": horizon,
                       "GOVSIM_APP_REPLICATIONS": str(replications), "GOVSIM_APP_LANG": lang})
    if workers is not None:
        os.environ["GOVSIM_APP_WORKERS"] = str(workers)
    # Solara warns at the first page that its session cookie falls back to SameSite=Lax over
    # plain http: expected on a classroom network, and noise in the instructor's terminal.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    uvicorn = importlib.import_module("uvicorn")
    for _ in range(_workers()):  # start the workers now, not at the first press
        pool().submit(warm_up)
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=5)  # open pages must not hold up the end
    finally:
        if _POOL is not None:
            _POOL.shutdown(cancel_futures=True)
