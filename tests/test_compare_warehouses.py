"""tests/compare_warehouses.py, the check that a refactor published the same warehouse: it sees
a changed row, a missing table and a changed export, and not which run published."""

from __future__ import annotations

from pathlib import Path

import duckdb
from compare_warehouses import differences


def _warehouse(folder: Path, run_id: str, names: list[str], export: str = "a\n") -> Path:
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA master; CREATE SCHEMA meta")
        con.execute("CREATE TABLE master.customer (customer_id VARCHAR, score DOUBLE)")
        con.executemany("INSERT INTO master.customer VALUES (?, 0.1 + 0.2)", [[n] for n in names])
        con.execute(
            "CREATE TABLE meta.run AS SELECT ? AS run_id, now() AS published_at, 3 AS golden",
            [run_id],
        )
    (folder / "exports").mkdir()
    (folder / "exports" / "CAMPAIGN.csv").write_text(export)
    return path


def test_two_runs_with_the_same_result_are_identical_whatever_their_run_ids(
    tmp_path: Path,
) -> None:
    old = _warehouse(tmp_path / "old", "run-1", ["a", "b"])
    new = _warehouse(tmp_path / "new", "run-2", ["b", "a"])
    assert differences(old, new) == ([], 2)


def test_a_changed_row_a_missing_table_and_a_changed_export_are_each_reported(
    tmp_path: Path,
) -> None:
    old = _warehouse(tmp_path / "old", "run-1", ["a", "b"])
    new = _warehouse(tmp_path / "new", "run-1", ["a", "c"], export="b\n")
    with duckdb.connect(str(new)) as con:
        con.execute("DROP TABLE meta.run")
    problems, compared = differences(old, new)
    assert compared == 1
    assert problems == [
        "meta.run: only in old",
        "master.customer: 1 rows only in old, 1 rows only in new",
        "exports/CAMPAIGN.csv: contents differ",
    ]
