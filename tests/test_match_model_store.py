"""A matching model trained on purpose: stored, versioned, reused, retrained when told to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.match.engine import match_entity
from crm_pipelines.run import run_nightly
from crm_pipelines.validate.landing import stage_landing


@pytest.fixture(scope="module")
def staged(sample_landing: Path) -> dict[str, pl.DataFrame]:
    return stage_landing(sample_landing, as_of=AS_OF).staged


def test_a_stored_model_is_reused_until_retrained_on_purpose(staged, tmp_path: Path) -> None:
    leads = staged["lead"]
    first = match_entity("lead", leads, model_dir=tmp_path)
    stored = json.loads((tmp_path / "lead.json").read_text(encoding="utf-8"))
    assert first.metrics["model_trained"] == 1
    assert stored["version"] == first.metrics["model_version"]
    # readable: per field and level the probabilities and the weight in bits
    assert {"m", "u", "weight_bits"} <= set(stored["fields"]["email"]["same"])
    assert stored["fields"]["email"]["same"]["weight_bits"] > 0

    again = match_entity("lead", leads, model_dir=tmp_path)
    assert again.metrics["model_trained"] == 0
    assert again.metrics["model_version"] == first.metrics["model_version"]
    assert again.metrics["model_drift"] == 0.0
    assert set(again.review["model_version"]) <= {first.metrics["model_version"]}
    assert again.clusters.sort("record_key").equals(first.clusters.sort("record_key"))

    retrained = match_entity("lead", leads, model_dir=tmp_path, retrain=True)
    assert retrained.metrics["model_trained"] == 1


def test_a_model_trained_for_other_comparisons_is_not_used(staged, tmp_path: Path) -> None:
    match_entity("lead", staged["lead"], model_dir=tmp_path)
    path = tmp_path / "lead.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["signature"] = "an older set of comparisons"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = match_entity("lead", staged["lead"], model_dir=tmp_path)
    assert result.metrics["model_trained"] == 1
    assert json.loads(path.read_text(encoding="utf-8"))["signature"] != document["signature"]


def test_candidates_that_drifted_retrain_the_model(staged, tmp_path: Path) -> None:
    match_entity("lead", staged["lead"], model_dir=tmp_path)
    path = tmp_path / "lead.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    levels = document["level_mix"]["email"]
    document["level_mix"]["email"] = {name: 0.0 for name in levels} | {"missing": 1.0}
    path.write_text(json.dumps(document), encoding="utf-8")
    result = match_entity("lead", staged["lead"], model_dir=tmp_path)
    assert result.metrics["model_trained"] == 1


def _xref(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("SELECT entity, source_system, source_id, master_id FROM master.xref").pl()


def test_a_small_delta_moves_no_unrelated_golden_id(
    sample_landing: Path, dagster_home: Path, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(sample_landing, landing)
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    assert run_nightly(landing, warehouse, AS_OF).success
    before = _xref(warehouse)
    assert (warehouse.parent / "models" / "person.json").exists()

    bss = pl.read_csv(landing / "person" / "bss_person_delta_20261128.csv", infer_schema=False)
    returning = bss.head(1).with_columns(pl.lit("2026-11-28T06:00:00+01:00").alias("updated_at"))
    new = bss.slice(1, 1).with_columns(
        pl.lit("P-NEW-0001").alias("source_id"),
        pl.lit("Zdislava").alias("first_name"),
        pl.lit("Přemyslová").alias("last_name"),
        pl.lit(None, dtype=pl.String).alias("email"),
        pl.lit(None, dtype=pl.String).alias("phone"),
        pl.lit(None, dtype=pl.String).alias("customer_source_id"),
        pl.lit(None, dtype=pl.String).alias("national_id"),
        pl.lit("1931-03-03").alias("birth_date"),
        pl.lit("2026-11-28T06:00:00+01:00").alias("updated_at"),
    )
    pl.concat([returning, new]).write_csv(landing / "person" / "bss_person_delta_20261129.csv")
    assert run_nightly(landing, warehouse, AS_OF).success
    after = _xref(warehouse)

    keys = ["entity", "source_system", "source_id"]
    moved = before.join(after, on=keys, suffix="_after").filter(
        pl.col("master_id") != pl.col("master_id_after")
    )
    assert moved.height == 0, moved
    assert after.height == before.height + 1
