"""Large batches of distinct values run on worker processes started by a fork server."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from crm_pipelines.validate import parsing
from crm_pipelines.validate import values as v
from crm_pipelines.validate.parsing import PARALLEL_MIN_VALUES


def test_chars_of_many_distinct_values_go_through_the_worker_pool() -> None:
    """The registry travels with the task (a closure would not pickle)."""
    n = PARALLEL_MIN_VALUES + 1_000
    texts = [f'{{"vip": {"true" if i % 2 else "false"}, "ticket": {i}}}' for i in range(n)]
    out = v.check_chars(pl.Series(texts), "customer", {"customer": {"vip": "boolean"}})
    assert out.height == n
    assert json.loads(out["chars"][0]) == {"vip": False}
    assert json.loads(out["chars"][n - 1]) == {"vip": True}
    assert "ticket" in out["problems"][n - 1]


def test_a_script_without_a_main_guard_is_not_run_again_by_the_workers(tmp_path: Path) -> None:
    """Workers start from a fork server; multiprocessing would re-run the caller's main
    script in each of them, and a script without `if __name__ == "__main__"` would run its
    work again (and again)."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import polars as pl\n"
        "from crm_pipelines.validate import values as v\n"
        "print('script body ran', flush=True)\n"
        f"numbers = [f'+420 6{{i:08d}}' for i in range({PARALLEL_MIN_VALUES + 1_000})]\n"
        "out = v.check_phone(pl.Series(numbers), pl.Series(['CZ'] * len(numbers)))\n"
        "print('valid', int(out['valid'].sum()), flush=True)\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("script body ran") == 1
    assert "valid" in run.stdout


def _dies_in_a_worker(value: str) -> tuple[str]:
    """A validator that kills the worker process running it (a crash, an OOM kill)."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return (value.upper(),)


def test_a_dead_worker_does_not_hang_validation(monkeypatch) -> None:
    """A worker that dies breaks the pool; the batch is then validated in this process
    instead of waiting for ever (multiprocessing.Pool would)."""
    monkeypatch.setattr(parsing, "_value_workers", lambda: 2)
    keys = [(f"v{i}",) for i in range(PARALLEL_MIN_VALUES + 10)]
    rows = parsing._compute_all(_dies_in_a_worker, keys)
    assert rows[0] == ("V0",) and len(rows) == len(keys)
