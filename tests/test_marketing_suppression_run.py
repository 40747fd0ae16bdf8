"""Consent that holds when matching errs, on a real run: a human's second person record is
kept apart by a steward NO_MATCH (and a different name), and withdraws the e-mail consent
its first record gave. The mailbox is not targeted; a later re-consent lifts that."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.run import run_nightly

PERSON_HEADER = (
    "source_system,source_id,updated_at,role_type,first_name,last_name,email,consent_email\n"
)
DECISION_HEADER = (
    "source_system,source_id,updated_at,entity,left_source_system,left_source_id,"
    "right_source_system,right_source_id,decision,decided_by\n"
)
SPLIT_ID = "SPLIT-WITHDRAWS-0001"


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def run_ok(landing: Path, warehouse: Path) -> None:
    outcome = run_nightly(landing, warehouse, AS_OF)
    assert outcome.success, outcome.failure


def email_target(warehouse: Path) -> dict:
    """A customer targeted by e-mail through a person-feed record of its contact person."""
    return query(
        warehouse,
        """
            SELECT t.campaign_key, t.target_id, t.person_id, t.contact,
                   x.source_system, x.source_id
            FROM marketing.campaign_target t
            JOIN master.xref x ON x.master_id = t.person_id AND x.entity = 'person'
            WHERE t.channel = 'EMAIL' AND t.target_kind = 'CUSTOMER'
            ORDER BY t.contact, x.source_system, x.source_id
            LIMIT 1
            """,
    ).row(0, named=True)


@pytest.fixture(scope="module")
def split_run(sample_run, sample_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("suppression")
    landing = root / "landing"
    shutil.copytree(sample_landing, landing)
    warehouse = root / "warehouse.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    target = email_target(warehouse)
    system = target["source_system"]
    (landing / "person" / "zz_split_withdrawal.csv").write_text(
        PERSON_HEADER
        + f"{system},{SPLIT_ID},2026-11-27T12:00:00,TECHNICAL_CONTACT,Xaver,Qwertzuiop,"
        + f"{target['contact'].upper()},false\n",
        encoding="utf-8",
    )
    (landing / "steward_decision" / "zz_split_decision.csv").write_text(
        DECISION_HEADER
        + f"{system},SPLIT-DECISION-1,2026-11-27T12:00:00,person,{system},"
        + f"{target['source_id']},{system},{SPLIT_ID},NO_MATCH,test\n",
        encoding="utf-8",
    )
    run_ok(landing, warehouse)
    return landing, warehouse, target


def test_a_withdrawal_on_a_record_matching_split_off_stops_the_mailbox(split_run) -> None:
    _, warehouse, target = split_run
    system = target["source_system"]
    golden = query(
        warehouse,
        f"SELECT source_id, master_id FROM master.xref WHERE entity = 'person' "
        f"AND source_system = '{system}' AND source_id IN ('{target['source_id']}', '{SPLIT_ID}')",
    )
    assert golden.height == 2 and golden["master_id"].n_unique() == 2  # matching kept apart
    suppression = query(warehouse, "SELECT * FROM marketing.suppression")
    assert suppression.filter(pl.col("contact") == target["contact"]).select(
        "channel", "feed", "source_system", "source_id"
    ).rows() == [("EMAIL", "person", system, SPLIT_ID)]
    targeted = query(
        warehouse,
        f"SELECT * FROM marketing.campaign_target WHERE contact = '{target['contact']}' "
        "AND channel = 'EMAIL'",
    )
    assert targeted.is_empty()
    excluded = query(
        warehouse,
        f"SELECT * FROM marketing.campaign_exclusion WHERE campaign_key = "
        f"'{target['campaign_key']}' AND target_id = '{target['target_id']}'",
    ).row(0, named=True)
    assert excluded["reason"] == "CONTACT_WITHDRAWN"
    assert (excluded["withdrawn_source_system"], excluded["withdrawn_source_id"]) == (
        system,
        SPLIT_ID,
    )
    assert SPLIT_ID in excluded["reason_text"]


def test_no_target_of_the_run_contradicts_the_suppression_list(split_run) -> None:
    _, warehouse, _ = split_run
    contradicting = query(
        warehouse,
        "SELECT t.* FROM marketing.campaign_target t JOIN marketing.suppression s "
        "ON s.channel = t.channel AND s.contact = t.contact",
    )
    assert contradicting.is_empty()
    assert query(warehouse, "SELECT count(*) AS n FROM marketing.suppression").item() > 0


def test_a_later_re_consent_on_the_mailbox_lifts_the_suppression(split_run) -> None:
    landing, warehouse, target = split_run
    (landing / "person" / "zz_split_reconsent.csv").write_text(
        PERSON_HEADER
        + f"{target['source_system']},{SPLIT_ID},2026-11-28T08:00:00,TECHNICAL_CONTACT,"
        + f"Xaver,Qwertzuiop,{target['contact']},true\n",
        encoding="utf-8",
    )
    run_ok(landing, warehouse)
    suppressed = query(
        warehouse, f"SELECT * FROM marketing.suppression WHERE contact = '{target['contact']}'"
    )
    assert suppressed.is_empty()
    targeted = query(
        warehouse,
        f"SELECT target_id FROM marketing.campaign_target WHERE contact = '{target['contact']}' "
        f"AND campaign_key = '{target['campaign_key']}'",
    )
    assert targeted["target_id"].to_list() == [target["target_id"]]


def test_the_suppression_guard_is_a_blocking_check_evaluated_on_every_run(split_run) -> None:
    from dagster import DagsterEventType, DagsterInstance

    from crm_pipelines.orchestration.marketing_assets import campaign_targets

    (spec,) = [
        s
        for s in campaign_targets.check_specs
        if s.name == "no_target_on_a_withdrawn_contact_point"
    ]
    assert spec.blocking
    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
    evaluations = {
        r.event_log_entry.dagster_event.event_specific_data.check_name: r.event_log_entry.dagster_event.event_specific_data
        for r in records
    }
    guard = evaluations["no_target_on_a_withdrawn_contact_point"]
    assert guard.passed and guard.metadata["violations"].value == 0
