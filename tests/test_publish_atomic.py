"""Publishing is all or nothing, and readers are never blocked."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from crm_pipelines.publish.warehouse import publish_warehouse
from crm_pipelines.run import run_nightly


def test_reader_keeps_its_snapshot_while_a_new_warehouse_is_published(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    publish_warehouse({"master.customer": pl.DataFrame({"customer_id": ["a"]})}, target)
    reader = duckdb.connect(str(target), read_only=True)
    try:
        publish_warehouse({"master.customer": pl.DataFrame({"customer_id": ["b", "c"]})}, target)
        assert reader.sql("SELECT count(*) FROM master.customer").fetchall()[0][0] == 1
    finally:
        reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.sql("SELECT count(*) FROM master.customer").fetchall()[0][0] == 2


def test_a_failing_publish_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    publish_warehouse({"master.customer": pl.DataFrame({"customer_id": ["a"]})}, target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(duckdb.Error):
        publish_warehouse(
            {
                "master.customer": pl.DataFrame({"x": [1]}),
                "no such schema!.t": pl.DataFrame({"x": [1]}),
            },
            target,
        )
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse.duckdb"]


def test_a_failed_run_leaves_the_previous_warehouse_intact(
    sample_run, dagster_home: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(Path(sample_run.warehouse).read_bytes())
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    outcome = run_nightly(tmp_path / "no_such_landing", warehouse, dt.date(2026, 11, 28))
    assert not outcome.success
    assert "landing folder" in outcome.failure
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM master.customer").fetchall()[0][0] > 0
