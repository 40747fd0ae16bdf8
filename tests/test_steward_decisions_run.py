"""Steward decisions on a real run over generated feeds: the generator's decision file in the
old form (with source_system, source_id, updated_at) plus a hand-written one in the form
feeds.md describes (without them), holding every case of feeds.md: a MATCH across a veto,
a reversed decision, a MATCH chain across a NO_MATCH, a self pair, an unknown record and a
row rejected as bad input. Never a crash, never silence."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import AS_OF
from dagster import DagsterEventType, DagsterInstance

from crm_pipelines.run import run_nightly
from crm_pipelines.validate.landing import stage_landing

HAND_FILE = "steward_decision/zz_hand_decisions.csv"
HEADER = "entity,left_source_system,left_source_id,right_source_system,right_source_id,decision,decided_by,decided_at,note\n"


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def golden_person(warehouse: Path) -> dict[str, str]:
    xref = query(
        warehouse,
        "SELECT source_system || '|' || source_id AS k, master_id FROM master.xref "
        "WHERE entity IN ('person', 'person_holder')",
    )
    return dict(zip(xref["k"], xref["master_id"], strict=True))


def person_records(sample_run, landing: Path) -> pl.DataFrame:
    """Person-feed records with a birth date, their golden person, from the first run.

    The staged frames are staged again here: a run keeps its frames in a private folder
    that is removed after it succeeds."""
    staged = stage_landing(landing, AS_OF).staged["person"]
    golden = golden_person(sample_run.warehouse)
    return (
        staged.filter((pl.col("origin") == "person_feed") & pl.col("birth_date").is_not_null())
        .with_columns(pl.col("record_key").replace_strict(golden, default=None).alias("golden"))
        .sort("record_key")
    )


def row(left: str, right: str, decision: str, day: int, note: str = "") -> str:
    ls, lid = left.split("|", 1)
    rs, rid = right.split("|", 1)
    return f"person,{ls},{lid},{rs},{rid},{decision},test,2026-11-{day:02d}T09:00:00+01:00,{note}\n"


@pytest.fixture(scope="module")
def ruled_run(sample_run, sample_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("steward")
    landing = root / "landing"
    shutil.copytree(sample_landing, landing)
    persons = person_records(sample_run, sample_landing)
    singles = persons.filter(pl.len().over("golden") == 1)
    twins = persons.filter(pl.len().over("golden") == 2).sort("golden", "record_key")
    # distinct golden persons with different birth dates: a veto keeps each pair apart
    a, b, x, y, z = (
        singles.unique("birth_date", keep="first", maintain_order=True)
        .head(5)["record_key"]
        .to_list()
    )
    p, q, r, s = twins["record_key"].head(4).to_list()  # two pairs matching joined
    cases = {
        "veto": (a, b),
        "reversed_to_match": (x, y),
        "reversed_to_no_match": (p, q),
        "chain": (r, s),
    }
    lines = [
        row(a, b, "MATCH", 20, "across a birth-date veto"),  # line 2
        row(x, y, "NO_MATCH", 10),  # line 3, reversed by line 4
        row(y, x, "MATCH", 21),  # line 4
        row(p, q, "MATCH", 10),  # line 5, reversed by line 6
        row(q, p, "NO_MATCH", 22),  # line 6
        row(r, z, "MATCH", 10),  # line 7: with line 8 it crosses line 9
        row(z, s, "MATCH", 23),  # line 8
        row(s, r, "NO_MATCH", 11),  # line 9: r and s were one golden person
        row(a, a, "MATCH", 24),  # line 10: a record with itself
        row(a, "BSS|NO-SUCH-PERSON", "MATCH", 24),  # line 11: unknown record
        row(a, b, "PERHAPS", 24),  # line 12: rejected as bad input
    ]
    (landing / HAND_FILE).write_text(HEADER + "".join(lines), encoding="utf-8")
    warehouse = root / "warehouse.duckdb"
    outcome = run_nightly(landing, warehouse, AS_OF)
    assert outcome.success, outcome.failure  # never a crash
    return outcome, cases, z


def test_every_applicable_decision_of_either_form_is_carried_out(ruled_run) -> None:
    outcome, cases, z = ruled_run
    golden = golden_person(outcome.warehouse)
    a, b = cases["veto"]
    assert golden[a] == golden[b]  # a MATCH whatever the vetoes say
    x, y = cases["reversed_to_match"]
    assert golden[x] == golden[y]
    p, q = cases["reversed_to_no_match"]
    assert golden[p] != golden[q]
    r, s = cases["chain"]
    assert golden[r] != golden[s]  # the NO_MATCH is not crossed by the MATCH chain
    assert golden[z] == golden[s]  # the later MATCH of the chain holds


def test_the_generators_old_form_matches_are_all_applied(ruled_run, sample_landing) -> None:
    outcome, _, _ = ruled_run
    old = pl.read_csv(next((sample_landing / "steward_decision").glob("*.csv")), infer_schema=False)
    xref = query(
        outcome.warehouse,
        "SELECT replace(entity, 'person_holder', 'person') AS entity, "
        "source_system || '|' || source_id AS k, master_id FROM master.xref",
    )
    pairs = old.select(
        "entity",
        "decision",
        (pl.col("left_source_system") + "|" + pl.col("left_source_id")).alias("lk"),
        (pl.col("right_source_system") + "|" + pl.col("right_source_id")).alias("rk"),
    )
    for side in ("l", "r"):
        pairs = pairs.join(
            xref.rename({"k": f"{side}k", "master_id": f"{side}m"}),
            on=["entity", f"{side}k"],
            how="inner",
        )
    matches = pairs.filter(pl.col("decision") == "MATCH")
    assert matches.height == 8
    assert (matches["lm"] == matches["rm"]).all()
    no_matches = pairs.filter(pl.col("decision") == "NO_MATCH")
    assert no_matches.height == 4 and (no_matches["lm"] != no_matches["rm"]).all()


def test_what_cannot_be_applied_is_a_finding_naming_the_decision_row(ruled_run) -> None:
    outcome, _, _ = ruled_run
    findings = query(
        outcome.warehouse,
        f"SELECT line, rule_id, message FROM quality.finding WHERE file = '{HAND_FILE}' "
        "ORDER BY line",
    )
    assert findings.select("line", "rule_id").rows() == [
        (7, "DECISION_NOT_APPLIED"),
        (11, "UNKNOWN_DECISION_RECORD"),
    ]
    assert f"NO_MATCH decision at {HAND_FILE} line 9" in findings["message"][0]
    rejected = query(
        outcome.warehouse,
        f"SELECT line, rule_id FROM quality.rejected WHERE file = '{HAND_FILE}'",
    )
    # a record paired with itself is bad input (validate/references.py): quarantined, and
    # the decision feed's check names it with the rows not carried out
    assert sorted(rejected.rows()) == [(10, "SELF_PAIRED_DECISION"), (12, "UNKNOWN_CODE")]


def test_the_decision_feed_check_fails_naming_every_row_not_carried_out(ruled_run) -> None:
    outcome, _, _ = ruled_run
    with DagsterInstance.get() as instance:
        records = instance.get_records_for_run(
            outcome.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    (check,) = [e for e in evaluations if e.check_name == "every_steward_decision_applied"]
    assert check.asset_key.path == ["staging", "steward_decision"]
    assert not check.passed
    rows = [record.data for record in check.metadata["rows"].value.records]
    hand = sorted((int(r["line"]), r["status"]) for r in rows if r["file"] == HAND_FILE)
    assert hand == [
        (7, "CONTRADICTED"),
        (10, "REJECTED"),
        (11, "UNKNOWN_RECORD"),
        (12, "REJECTED"),
    ]
    # the generator's own decision naming a deleted record
    assert [r["status"] for r in rows if r["file"] != HAND_FILE] == ["UNKNOWN_RECORD"]


def test_the_run_summary_counts_the_steward_decisions_not_applied(ruled_run) -> None:
    outcome, _, _ = ruled_run
    refused = query(
        outcome.warehouse,
        "SELECT count(*) AS n FROM quality.finding WHERE rule_id = 'DECISION_NOT_APPLIED'",
    )["n"].item()
    assert refused >= 1  # line 7 of the hand file, contradicted by a NO_MATCH
    assert outcome.decisions_not_applied == refused
    summary = outcome.summary_text().splitlines()
    assert any(line.startswith(f"  {refused:,} steward decisions not applied") for line in summary)
