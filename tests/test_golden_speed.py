"""build_master on ~1M synthetic staged rows: measured and printed (`pytest -s`), not asserted."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl
from factories.staged_at_scale import synthetic_inputs

from crm_pipelines.golden.assemble import build_master


def test_build_master_on_a_million_staged_rows(record_property: Callable) -> None:
    staged, clusters, links = synthetic_inputs(1_000_000)
    rows = sum(frame.height for frame in staged.values())
    started = time.perf_counter()
    master = build_master(staged, clusters, links, None, "speed", datetime(2026, 3, 1, tzinfo=UTC))
    seconds = time.perf_counter() - started
    record_property("build_master_seconds", round(seconds, 2))
    print(f"\nbuild_master: {rows} staged rows in {seconds:.2f} s")

    assert master.xref.height == rows
    assert master.xref["master_id"].null_count() == 0
    assert master.customer.height == staged["customer"].height // 2
    for name, id_column in (("customer", "customer_id"), ("person", "person_id")):
        golden = getattr(master, name)
        assert golden[id_column].n_unique() == golden.height
    registry = master.identity_registry
    assert registry["master_id"].n_unique() == registry.height
    assert registry.filter(pl.col("entity") != "campaign")["master_key"].n_unique() == (
        registry.filter(pl.col("entity") != "campaign").height
    )
