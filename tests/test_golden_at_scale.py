"""build_master on a large synthetic staged load: every row placed once, every id unique.

How long it takes is `crm-mdm bench`'s question (its "golden (survivorship+ids)" stage), not a
unit test's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from factories.staged_at_scale import synthetic_inputs

from crm_pipelines.golden.assemble import build_master


def test_every_row_of_a_large_staged_load_lands_in_one_golden_record_with_unique_ids() -> None:
    staged, clusters, links = synthetic_inputs(200_000)
    rows = sum(frame.height for frame in staged.values())
    master = build_master(staged, clusters, links, None, "scale", datetime(2026, 3, 1, tzinfo=UTC))

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
