"""`crm-mdm bench` measures the nightly job: its stages publish the job's warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import SAMPLE_CUSTOMERS
from warehouse_diff import relations, warehouse_differences

from crm_pipelines.benchmark import bench_size

EVERY_STAGE = [
    "ingest+validate",
    "match lead->customer",
    "match address",
    "match customer",
    "match person",
    "match lead",
    "review queue (stewards)",
    "golden (survivorship+ids)",
    "marketing (+guards)",
    "source rule rates",
    "run guard",
    "publish (DuckDB)",
]


def test_the_benchmark_publishes_the_warehouse_the_job_publishes(
    sample_landing: Path, sample_run, tmp_path: Path
) -> None:
    work = tmp_path / f"size_{SAMPLE_CUSTOMERS}"
    shutil.copytree(sample_landing, work / "landing")  # with its truth: nothing generated

    figures = bench_size(SAMPLE_CUSTOMERS, tmp_path, seed=11)

    assert [f.stage for f in figures] == EVERY_STAGE
    assert all(f.rows > 0 and f.peak_rss_mib > 0 for f in figures)
    bench_warehouse = work / "warehouse.duckdb"
    with duckdb.connect(str(bench_warehouse), read_only=True) as con:
        published = relations(con, "warehouse")
    assert {"quality.match_review", "meta.run", "meta.run_log", "meta.run_guard"} <= set(published)
    assert warehouse_differences(sample_run.warehouse, bench_warehouse) == {}
