"""tests/warehouse_diff.py, the check that a change published the same warehouse: it sees a
changed row, a missing table, an id retired in one run only and a changed export file, and not
which run published."""

from __future__ import annotations

from pathlib import Path

import duckdb
from warehouse_diff import export_differences, warehouse_differences


def _warehouse(
    folder: Path, run_id: str, names: list[str], retired: str | None = None, export: str = "a\n"
) -> Path:
    folder.mkdir()
    path = folder / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA master; CREATE SCHEMA meta")
        con.execute("CREATE TABLE master.customer (customer_id VARCHAR, score DOUBLE)")
        con.executemany("INSERT INTO master.customer VALUES (?, 0.1 + 0.2)", [[n] for n in names])
        con.execute(
            "CREATE TABLE master.identity_registry AS SELECT 'id-1' AS master_id, "
            "? AS created_run, now() AS created_at, CAST(? AS VARCHAR) AS retired_run",
            [run_id, retired],
        )
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
    a = _warehouse(tmp_path / "a", "run-1", ["x", "y"], retired="run-1")
    b = _warehouse(tmp_path / "b", "run-2", ["y", "x"], retired="run-2")
    assert warehouse_differences(a, b) == {}
    assert export_differences(a, b) == {}


def test_a_changed_row_a_missing_table_and_an_id_retired_in_one_run_only_are_reported(
    tmp_path: Path,
) -> None:
    a = _warehouse(tmp_path / "a", "run-1", ["x", "y"], retired="run-1")
    b = _warehouse(tmp_path / "b", "run-1", ["x", "z"], retired=None)
    with duckdb.connect(str(b)) as con:
        con.execute("DROP TABLE meta.run")
    assert warehouse_differences(a, b) == {
        "meta.run": "only in the first",
        "master.customer": "2 rows in one but not the other",
        "master.identity_registry": "2 rows in one but not the other",
    }


def test_a_changed_or_missing_export_file_is_reported(tmp_path: Path) -> None:
    a = _warehouse(tmp_path / "a", "run-1", ["x"])
    b = _warehouse(tmp_path / "b", "run-1", ["x"], export="b\n")
    (a.parent / "exports" / "OTHER.csv").write_text("a\n")
    assert export_differences(a, b) == {
        "exports/CAMPAIGN.csv": "contents differ",
        "exports/OTHER.csv": "only in the first",
    }
