"""Stable identity across real runs: same input, a delta file, a steward merge and split."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.run import run_nightly

DECISION_HEADER = (
    "source_system,source_id,updated_at,entity,left_source_system,left_source_id,"
    "right_source_system,right_source_id,decision,decided_by\n"
)


def xref(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("SELECT entity, source_system, source_id, master_id FROM master.xref").pl()


def run_ok(landing: Path, warehouse: Path) -> None:
    outcome = run_nightly(landing, warehouse, AS_OF)
    assert outcome.success, outcome.failure


@pytest.fixture(scope="module")
def workspace(sample_run, sample_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("identity")
    landing = root / "landing"
    shutil.copytree(sample_landing, landing)
    warehouse = root / "warehouse.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    return landing, warehouse


def test_same_input_twice_gives_identical_ids(workspace, sample_run) -> None:
    landing, warehouse = workspace
    first = xref(warehouse)
    run_ok(landing, warehouse)
    second = xref(warehouse)
    assert first.sort(first.columns).equals(second.sort(second.columns))


def test_delta_changes_only_what_it_touches_and_steward_decisions_merge_and_split(
    workspace,
) -> None:
    landing, warehouse = workspace
    before = xref(warehouse).filter(pl.col("entity") == "customer")
    sizes = before.group_by("master_id").len()
    singles = before.join(sizes.filter(pl.col("len") == 1), on="master_id").sort(
        "source_system", "source_id"
    )
    pairs = before.join(sizes.filter(pl.col("len") == 2), on="master_id").sort(
        "master_id", "source_system", "source_id"
    )
    a, b = singles.row(0, named=True), singles.row(len(singles) // 2, named=True)
    x, y = pairs.row(0, named=True), pairs.row(1, named=True)
    assert x["master_id"] == y["master_id"]
    (landing / "steward_decision" / "zz_test_decisions.csv").write_text(
        DECISION_HEADER
        + f"BSS,TEST-MERGE,2026-11-28T09:00:00,customer,{a['source_system']},{a['source_id']},{b['source_system']},{b['source_id']},MATCH,test\n"
        + f"BSS,TEST-SPLIT,2026-11-28T09:00:00,customer,{x['source_system']},{x['source_id']},{y['source_system']},{y['source_id']},NO_MATCH,test\n",
        encoding="utf-8",
    )
    (landing / "customer" / "zz_delta_new.csv").write_text(
        "source_system,source_id,updated_at,party_type,customer_type,status,first_name,last_name,country,email\n"
        "BSS,NEW-0001,2026-11-28T10:00:00,INDIVIDUAL,RESIDENTIAL,ACTIVE,Xaver,Qwertzuiop,CZ,xaver.q@example.cz\n",
        encoding="utf-8",
    )
    run_ok(landing, warehouse)
    after = xref(warehouse).filter(pl.col("entity") == "customer")
    joined = before.join(after, on=["source_system", "source_id"], suffix="_after")
    changed = joined.filter(pl.col("master_id") != pl.col("master_id_after"))
    touched = {(r["source_system"], r["source_id"]) for r in (a, b, x, y)}
    unrelated = changed.filter(
        ~pl.struct("source_system", "source_id").map_elements(
            lambda s: (s["source_system"], s["source_id"]) in touched, return_dtype=pl.Boolean
        )
    )
    assert unrelated.height == 0, unrelated
    ids = {
        (r["source_system"], r["source_id"]): r["master_id"] for r in after.iter_rows(named=True)
    }
    assert ids[(a["source_system"], a["source_id"])] == ids[(b["source_system"], b["source_id"])]
    assert ids[(a["source_system"], a["source_id"])] in {a["master_id"], b["master_id"]}
    assert ids[(x["source_system"], x["source_id"])] != ids[(y["source_system"], y["source_id"])]
    assert x["master_id"] in {
        ids[(x["source_system"], x["source_id"])],
        ids[(y["source_system"], y["source_id"])],
    }
    assert ("BSS", "NEW-0001") in ids
    with duckdb.connect(str(warehouse), read_only=True) as con:
        retired = con.sql(
            "SELECT retired_id, surviving_id, reason FROM master.identity_retired WHERE entity = 'customer'"
        ).pl()
    survivor = ids[(a["source_system"], a["source_id"])]
    loser = ({a["master_id"], b["master_id"]} - {survivor}).pop()
    assert (
        retired.filter(
            (pl.col("retired_id") == loser) & (pl.col("surviving_id") == survivor)
        ).height
        == 1
    )
