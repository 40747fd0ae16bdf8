"""`crm-mdm bench` measures the nightly job: its stages publish the job's warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import SAMPLE_CUSTOMERS

from crm_pipelines.benchmark import bench_size

# What differs between two runs on the same landing folder: the run's id and wall-clock
# time, the landing folder's path, and the id of each freshly trained matching model.
RUN_COLUMNS = {
    "master.identity_registry": {"created_run", "created_at", "retired_run", "retired_at"},
    "master.identity_retired": {"run_id", "retired_at"},
    "master.identity_source_key": {"last_seen_run", "last_seen_at"},
    "meta.run": {"run_id", "published_at", "landing_dir"},
    "meta.run_log": {"run_id", "published_at", "landing_dir"},
    "quality.source_rule_rate": {"run_id"},
    "quality.match_review": {"model_version"},
}


def relations(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    """schema.name of every table and view -> its columns and types."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY 1, column_index",
        [db],
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for name, column, data_type in rows:
        found.setdefault(name, []).append((column, data_type))
    return found


def rows_only_in_one(con: duckdb.DuckDBPyConnection, name: str, columns) -> int:
    skip = RUN_COLUMNS.get(name, set())
    # scores of two trainings may differ in the last bits of a double
    kept = ", ".join(
        f'round("{c}", 9)' if t == "DOUBLE" else f'"{c}"' for c, t in columns if c not in skip
    )
    return sum(
        con.execute(
            f"SELECT count(*) FROM (SELECT {kept} FROM {a}.{name} EXCEPT ALL "
            f"SELECT {kept} FROM {b}.{name})"
        ).fetchall()[0][0]
        for a, b in (("job", "bench"), ("bench", "job"))
    )


def test_the_benchmark_publishes_the_warehouse_the_job_publishes(
    sample_landing: Path, sample_run, tmp_path: Path
) -> None:
    work = tmp_path / f"size_{SAMPLE_CUSTOMERS}"
    shutil.copytree(sample_landing, work / "landing")  # with its truth: nothing generated

    figures = bench_size(SAMPLE_CUSTOMERS, tmp_path, seed=11)

    stages = [f.stage for f in figures]
    assert stages[0] == "ingest+validate" and stages[-1] == "publish (DuckDB)"
    assert all(f.rows > 0 and f.peak_rss_mib > 0 for f in figures)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{sample_run.warehouse}' AS job (READ_ONLY)")
        con.execute(f"ATTACH '{work / 'warehouse.duckdb'}' AS bench (READ_ONLY)")
        job, bench = relations(con, "job"), relations(con, "bench")
        assert {"quality.match_review", "meta.run", "meta.run_log", "meta.run_guard"} <= set(bench)
        assert bench == job
        different = {
            name: n for name, columns in job.items() if (n := rows_only_in_one(con, name, columns))
        }
    assert different == {}
