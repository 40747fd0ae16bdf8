"""Circuit-breaker arithmetic, the run lock between processes, and leftovers of killed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest

from crm_pipelines.publish.guards import (
    breaches,
    compare_runs,
    load_run_guards,
    parse_acceptance,
    parse_run_guards,
)
from crm_pipelines.publish.run_files import (
    RunRefused,
    acquire_run_lock,
    clean_leftovers,
    lock_path,
    make_run_dir,
)

GUARDS = replace(load_run_guards(), min_previous_accepted=50)


def volumes(rows: list[tuple[str, str, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["feed", "source_system", "accepted", "rejected"], orient="row"
    )


def active(entity: str, n: int) -> pl.DataFrame:
    return pl.DataFrame({"entity": [entity] * n, "master_id": [f"{entity}-{i}" for i in range(n)]})


PREVIOUS = (
    volumes(
        [("customer", "BSS", 1000, 10), ("customer", "ESHOP", 500, 5), ("campaign", "MKT", 8, 0)]
    ),
    active("customer", 1200),
)


def stops(now_volumes, now_active=PREVIOUS[1], accept=()) -> list[tuple[str, str, str]]:
    checked = compare_runs(PREVIOUS, (now_volumes, now_active), GUARDS, accept)
    return sorted(breaches(checked).select("guard", "feed", "source_system").rows())


def test_the_same_volumes_again_pass_every_guard() -> None:
    assert stops(PREVIOUS[0]) == []


def test_a_vanished_source_and_a_drop_beyond_the_bound_stop_the_run() -> None:
    now = volumes([("customer", "ESHOP", 350, 5), ("campaign", "MKT", 8, 0)])
    assert stops(now) == [
        ("ACCEPTED_DROP", "customer", "ESHOP"),
        ("SOURCE_VANISHED", "customer", "BSS"),
    ]


def test_a_drop_within_the_bound_or_in_a_tiny_feed_passes() -> None:
    now = volumes(
        [("customer", "BSS", 850, 10), ("customer", "ESHOP", 500, 5), ("campaign", "MKT", 2, 0)]
    )
    assert stops(now) == []


def test_a_rising_rejection_rate_and_lost_golden_records_stop_the_run() -> None:
    now = volumes(
        [("customer", "BSS", 900, 300), ("customer", "ESHOP", 500, 5), ("campaign", "MKT", 8, 0)]
    )
    assert stops(now, active("customer", 1000)) == [
        ("GOLDEN_LOST", "customer", "*"),
        ("REJECTION_RATE", "customer", "BSS"),
    ]


def test_an_operator_accepts_exactly_the_shrink_named() -> None:
    now = volumes([("customer", "ESHOP", 500, 5), ("campaign", "MKT", 8, 0)])
    lost = active("customer", 700)
    assert stops(now, lost, ("customer:BSS",)) == []
    assert stops(now, lost, ("customer:ESHOP",)) == [("SOURCE_VANISHED", "customer", "BSS")]
    assert stops(now, lost, ("*:BSS",)) == []
    with pytest.raises(ValueError, match="FEED:SOURCE"):
        parse_acceptance("customer")


def test_an_empty_landing_stops_even_the_first_run_unless_all_is_accepted() -> None:
    empty = (volumes([]), active("x", 0))
    assert breaches(compare_runs(None, empty, GUARDS))["guard"].to_list() == ["EMPTY_LANDING"]
    assert breaches(compare_runs(PREVIOUS, empty, GUARDS, ("customer:*",))).height > 0
    assert compare_runs(None, (PREVIOUS[0], active("x", 0)), GUARDS).height == 1  # first run
    assert breaches(compare_runs(None, empty, GUARDS, ("*:*",))).height == 0


def test_run_guards_with_an_unknown_or_missing_key_or_a_bad_value_are_refused() -> None:
    good = {
        "max_accepted_drop": 0.2,
        "min_previous_accepted": 50,
        "max_rejection_rate_rise": 0.1,
        "max_golden_lost": 0.1,
        "lock_wait_seconds": 900,
        "dagster_run_history_days": 90,
    }
    assert parse_run_guards(good).max_accepted_drop == 0.2
    with pytest.raises(ValueError, match="unknown keys \\['max_acepted_drop'\\]"):
        parse_run_guards({**good, "max_acepted_drop": 0.3})
    without = {k: v for k, v in good.items() if k != "max_golden_lost"}
    with pytest.raises(ValueError, match="missing keys \\['max_golden_lost'\\]"):
        parse_run_guards(without)
    with pytest.raises(ValueError, match="out of range"):
        parse_run_guards({**good, "max_accepted_drop": 20})
    with pytest.raises(ValueError, match="whole number"):
        parse_run_guards({**good, "dagster_run_history_days": 1.5})


HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1]); lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(warehouse: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path(warehouse)), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_waits_for_the_lock_then_refuses_and_a_killed_holder_frees_it(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    holder = hold_lock(warehouse, 600)
    with pytest.raises(RunRefused, match="waited 0.3 s"):
        acquire_run_lock(warehouse, 0.3, "test")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    acquire_run_lock(warehouse, 0, "test").release()  # the kernel dropped the dead run's lock

    holder = hold_lock(warehouse, 1.0)
    lock = acquire_run_lock(warehouse, 60, "test")  # waits for the holder (else RunRefused)
    assert lock.is_locked and holder.wait(timeout=60) == 0
    lock.release()


def test_leftovers_are_removed_and_a_published_runs_exports_rolled_forward(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA meta; CREATE TABLE meta.run AS SELECT 'run-2' AS run_id")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "old.csv").write_text("old\n")
    for name in (
        ".exports.new-run-2",
        ".exports.new-run-3",
        ".exports.old-x",
        "..exports.new-run-3.tmp-y",
    ):
        (tmp_path / name).mkdir()
    (tmp_path / ".exports.new-run-2" / "new.csv").write_text("new\n")
    (tmp_path / ".warehouse.duckdb.building-123").write_bytes(b"half")
    run_dir = make_run_dir(warehouse)
    assert oct(run_dir.stat().st_mode & 0o777) == "0o700"
    done = clean_leftovers(warehouse)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "warehouse.duckdb"]
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["new.csv"]
    assert (
        done[0] == "exports of published run run-2 swapped in (the run was killed after publishing)"
    )


def test_dagster_runs_older_than_the_history_days_are_deleted(tmp_path: Path) -> None:
    from dagster import DagsterInstance, job, op

    from crm_pipelines.run import prune_dagster_history

    @op
    def one() -> int:
        return 1

    @job
    def tiny():
        one()

    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        assert tiny.execute_in_process(instance=instance).success
        assert prune_dagster_history(instance, 1) == 0  # a run of today is kept
        assert len(instance.get_runs()) == 1
        assert prune_dagster_history(instance, 0) == 1
        assert instance.get_runs() == []
