"""Checks shared by the city tests (tests/test_city.py, tests/test_city_services.py)."""

from __future__ import annotations

from typing import Any

from govsim.city import run_city
from govsim.experiments.executors import ProcessExecutor


def assert_same_tables_with_workers(city: Any, expected: dict[str, str], jobs: tuple[int, ...] = (2, 8)) -> None:
    """Run ``city`` sharded on each number of local worker processes in ``jobs``; every table's
    hash must be ``expected`` (the hashes of a run with one worker)."""
    for n in jobs:
        with ProcessExecutor(n) as pool:
            assert run_city(city, executor=pool).hashes() == expected, f"{n} workers"
