"""What analysts read: comments everywhere, the source schema, lineage values, consent proof
that joins one to one, customer_360 and the TMF views and export (warehouse.md, analysts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from tmf_fields import parse_tmf_fields, violations

from crm_pipelines.publish.tmf_export import TMF_RESOURCES

SYSTEM_SCHEMAS = "('information_schema', 'pg_catalog')"


@pytest.fixture(scope="module")
def con(sample_run):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as connection:
        yield connection


def one(con, query: str, params=None):
    return con.execute(query, params or []).fetchall()[0][0]


def test_every_table_view_and_column_carries_a_comment(con) -> None:
    uncommented = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE comment IS NULL "
        "UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() "
        f"WHERE NOT internal AND comment IS NULL AND schema_name NOT IN {SYSTEM_SCHEMAS} "
        "UNION ALL SELECT schema_name || '.' || table_name || '.' || column_name "
        f"FROM duckdb_columns() WHERE NOT internal AND comment IS NULL AND schema_name NOT IN {SYSTEM_SCHEMAS}"
    ).fetchall()
    assert uncommented == []
    views = {
        r[0]
        for r in con.execute(
            "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    }
    assert {"master.customer_360", *(f"tmf.{v}" for v in TMF_RESOURCES)} <= views


def test_source_schema_holds_every_accepted_record_with_its_standardised_values(con) -> None:
    for feed, entity in (("customer", "customer"), ("account", "account"), ("lead", "lead")):
        assert one(con, f"SELECT count(*) FROM source.{feed}") == one(
            con, "SELECT count(*) FROM master.xref WHERE entity = ?", [entity]
        )
    # standardised: e-mail lower-cased, phone E.164, no invalid value left
    assert one(con, "SELECT count(*) FROM source.customer WHERE email <> lower(email)") == 0
    assert one(con, "SELECT count(*) FROM source.person WHERE phone NOT LIKE '+%'") == 0
    assert one(con, "SELECT count(*) FROM source.person WHERE origin = 'customer_holder'") > 0


def test_lineage_rows_carry_the_golden_value_and_the_rule_that_chose_it(con) -> None:
    mismatched = one(
        con,
        "SELECT count(*) FROM master.attribute_lineage l JOIN master.customer c "
        "ON l.entity = 'customer' AND l.master_id = c.customer_id AND l.attribute = 'email' "
        "WHERE l.value IS DISTINCT FROM c.email",
    )
    assert mismatched == 0
    assert (
        one(
            con, "SELECT count(*) FROM master.attribute_lineage WHERE rule IS NULL OR value IS NULL"
        )
        == 0
    )
    rules = dict(
        con.execute(
            "SELECT DISTINCT attribute, rule FROM master.attribute_lineage WHERE entity = 'customer'"
        ).fetchall()
    )
    assert rules["registration_no"] == "source_priority(BSS, LEGACY_CRM) > most_recent"
    assert rules["phone_is_mobile"] == "with phone (same record)"
    assert rules["consent_email"].startswith("most_recent_statement")
    # the value is what the named source record sent (standardised)
    differs = one(
        con,
        "SELECT count(*) FROM master.attribute_lineage l JOIN source.customer s USING (record_key) "
        "WHERE l.entity = 'customer' AND l.attribute = 'last_name' AND l.value <> s.last_name",
    )
    assert differs == 0


def test_consent_proof_joins_xref_exactly_once_per_target(con) -> None:
    targets = one(con, "SELECT count(*) FROM marketing.campaign_target")
    joined = con.execute(
        "SELECT count(*), count(DISTINCT t.campaign_key || t.contact) "
        "FROM marketing.campaign_target t JOIN master.xref x "
        "ON x.entity = t.consent_feed AND x.source_system = t.consent_source_system "
        "AND x.source_id = t.consent_feed_source_id"
    ).fetchall()[0]
    assert targets > 0 and joined == (targets, targets)
    feeds = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT consent_feed FROM marketing.campaign_target"
        ).fetchall()
    }
    assert feeds <= {"person", "customer", "lead"} and "customer" in feeds


def test_customer_360_is_one_row_per_golden_customer_with_nested_lists(con) -> None:
    assert one(con, "SELECT count(*) FROM master.customer_360") == one(
        con, "SELECT count(*) FROM master.customer"
    )
    assert one(con, "SELECT sum(len(accounts)) FROM master.customer_360") == one(
        con, "SELECT count(*) FROM master.account WHERE customer_id IS NOT NULL"
    )
    assert one(con, "SELECT sum(len(persons)) FROM master.customer_360") == one(
        con, "SELECT count(*) FROM master.person_role"
    )
    assert one(con, "SELECT sum(len(campaign_targets)) FROM master.customer_360") == one(
        con, "SELECT count(*) FROM marketing.campaign_target WHERE target_kind = 'CUSTOMER'"
    )
    owner_kind = one(
        con,
        "SELECT count(*) FROM master.customer_360, unnest(persons) AS p(person) "
        "WHERE person.role_type = 'OWNER'",
    )
    assert owner_kind > 0


def test_tmf_export_writes_one_ndjson_per_resource_with_tmf_field_names(
    sample_run, tmp_path: Path
) -> None:
    out = tmp_path / "tmf"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_pipelines.cli",
            "export",
            "tmf",
            "--out",
            str(out),
            "--warehouse",
            str(sample_run.warehouse),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    apis = parse_tmf_fields()
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        for view, (api, resource) in TMF_RESOURCES.items():
            lines = (out / f"{view}.ndjson").read_text(encoding="utf-8").splitlines()
            assert len(lines) == one(con, f"SELECT count(*) FROM tmf.{view}") > 0
            problems = [
                p
                for line in lines
                for p in violations(apis, f"{api} v4", resource, json.loads(line))
            ]
            assert problems == [], problems[:5]


def test_the_tmf_validator_rejects_a_field_the_api_does_not_have() -> None:
    apis = parse_tmf_fields()
    bad = {"id": "1", "name": "x", "engagedParty": {"id": "2"}, "customer_key": "C-1"}
    found = violations(apis, "TMF629 v4", "Customer", bad)
    assert "customer_key: not a Customer field" in found
    assert "engagedParty.@referredType: required by RelatedParty, missing" in found
