"""The nightly job end to end: generated dirty feeds -> Dagster in-process -> DuckDB file."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl
from landing_keys import readable_keys

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract" / "warehouse.md"
FEED_ENTITY = {
    "customer": "customer",
    "person": "person",
    "account": "account",
    "address": "address",
    "lead": "lead",
    "campaign": "campaign",
    "steward_decision": "steward_decision",
}


# The contract as of this writing, for checkouts without ../shared beside them.
CONTRACT_TABLES = {
    "master.customer": [
        "customer_id",
        "customer_key",
        "party_type",
        "customer_type",
        "status",
        "segment",
        "name",
        "first_name",
        "last_name",
        "birth_date",
        "organization_name",
        "legal_form",
        "registration_no",
        "vat_no",
        "email",
        "phone",
        "country",
        "consent_email",
        "consent_sms",
        "consent_post",
        "chars",
    ],
    "master.person": [
        "person_id",
        "person_key",
        "first_name",
        "last_name",
        "birth_date",
        "national_id",
        "email",
        "phone",
        "consent_email",
        "consent_sms",
        "consent_post",
        "chars",
    ],
    "master.person_role": ["person_id", "customer_id", "role_type"],
    "master.account": [
        "account_id",
        "account_key",
        "customer_id",
        "account_type",
        "status",
        "currency",
        "billing_cycle",
        "payment_method",
        "iban",
        "credit_limit",
        "billing_contact_person_id",
    ],
    "master.crm_address": [
        "address_id",
        "address_key",
        "street",
        "house_number",
        "city",
        "postcode",
        "country",
        "quality_status",
    ],
    "master.crm_address_role": ["address_id", "owner_kind", "owner_id", "role_type"],
    "master.lead": [
        "lead_id",
        "lead_key",
        "first_name",
        "last_name",
        "organization_name",
        "email",
        "phone",
        "status",
        "matched_customer_id",
    ],
    "master.campaign": [
        "campaign_id",
        "campaign_key",
        "name",
        "status",
        "channel",
        "start_date",
        "end_date",
    ],
    "master.xref": ["entity", "source_system", "source_id", "master_id"],
    "quality.rejected": [
        "feed",
        "source_system",
        "source_id",
        "file",
        "line",
        "rule_id",
        "severity",
        "message",
    ],
    "quality.finding": [
        "feed",
        "source_system",
        "source_id",
        "file",
        "line",
        "rule_id",
        "severity",
        "message",
    ],
    "quality.rule_result": ["rule_id", "entity", "severity", "checked", "failed"],
    "quality.match_review": [
        "entity",
        "left_source_system",
        "left_source_id",
        "right_source_system",
        "right_source_id",
        "score",
        "reason",
    ],
    "marketing.campaign_target": [
        "campaign_key",
        "target_kind",
        "target_id",
        "person_id",
        "channel",
        "contact",
    ],
}


def contract_tables() -> dict[str, list[str]]:
    """schema.table -> listed columns, parsed from warehouse.md (the copy above when absent)."""
    if not CONTRACT.exists():
        return CONTRACT_TABLES
    tables: dict[str, list[str]] = {}
    schema = None
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## Schema `(\w+)`", line)
        if heading:
            schema = heading.group(1)
        row = re.match(r"\| (\w+) \| ([a-z_, ()A-Z]+) \|$", line)
        if schema and row and row.group(1) not in ("table",):
            columns = [c.strip().split(" ")[0] for c in row.group(2).split(",")]
            tables[f"{schema}.{row.group(1)}"] = columns
    return tables


def test_every_contract_table_exists_with_rows_and_columns(sample_run) -> None:
    tables = contract_tables()
    assert len(tables) >= 14
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        for name, columns in tables.items():
            present = {r[0] for r in con.sql(f"DESCRIBE {name}").fetchall()}
            assert set(columns) <= present, f"{name} lacks {set(columns) - present}"
            assert con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0] > 0, f"{name} is empty"


def test_every_source_key_is_in_xref_or_quarantine(sample_run, sample_landing: Path) -> None:
    keys = readable_keys(sample_landing)
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        xref = con.sql("SELECT entity, source_system, source_id FROM master.xref").pl()
        rejected = con.sql("SELECT feed, source_system, source_id FROM quality.rejected").pl()
    xref = xref.with_columns(pl.col("entity").replace({"person_holder": "customer"}))
    accounted = pl.concat(
        [xref.rename({"entity": "feed"}), rejected], how="vertical_relaxed"
    ).unique()
    lost = keys.filter(
        pl.col("source_id").is_not_null() & pl.col("source_system").is_not_null()
    ).join(accounted, on=["feed", "source_system", "source_id"], how="anti")
    assert lost.height == 0, lost.head(10)


def test_ids_are_uuids_and_tables_are_documented(sample_run) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        bad = con.sql(
            "SELECT count(*) FROM master.customer WHERE TRY_CAST(customer_id AS UUID) IS NULL"
        ).fetchall()[0][0]
        assert bad == 0
        undocumented = con.sql(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE comment IS NULL"
        ).fetchall()
        assert undocumented == []


def test_quality_tables_say_why(sample_run) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        rules = con.sql("SELECT rule_id, severity, checked, failed FROM quality.rule_result").pl()
        rejected = con.sql("SELECT * FROM quality.rejected").pl()
        finding = con.sql("SELECT * FROM quality.finding").pl()
    assert set(rejected["severity"]) == {"ERROR"}
    assert set(finding["severity"]) == {"WARNING"}
    assert rejected["message"].null_count() == 0 and finding["message"].null_count() == 0
    assert (rules["failed"] <= rules["checked"]).all() or rules.filter(
        pl.col("rule_id") == "FILE_UNREADABLE"
    ).height
    failed_rules = set(rules.filter(pl.col("failed") > 0)["rule_id"])
    # The generator plants bad rows of every kind feeds.md names.
    for rule in (
        "REQUIRED_FIELD",
        "UNKNOWN_CODE",
        "INVALID_EMAIL",
        "INVALID_PHONE",
        "MISSING_REFERENCE",
    ):
        assert rule in failed_rules, rule
