"""Validation against the generator's own truth: exactly the broken rows are quarantined,
and every planted warning-level defect leaves a finding."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

WARNING_DEFECT_RULES = {
    "INVALID_EMAIL": "INVALID_EMAIL",
    "INVALID_PHONE": "INVALID_PHONE",
    "INVALID_ICO": "INVALID_REGISTRATION_NO",
    "INVALID_VAT": "INVALID_VAT",
    "INVALID_IBAN": "INVALID_IBAN",
    "INVALID_BIRTH_NUMBER": "INVALID_NATIONAL_ID",
    "INVALID_POSTCODE": "INVALID_POSTCODE",
    "BAD_BOOLEAN": "UNPARSEABLE_VALUE",
    "BAD_DECIMAL": "UNPARSEABLE_VALUE",
    "BIRTH_BEFORE_1900": "IMPLAUSIBLE_DATE",
    "BIRTH_IN_FUTURE": "IMPLAUSIBLE_DATE",
    "END_BEFORE_START": "IMPLAUSIBLE_DATE",
    "UNKNOWN_SEGMENT": "UNKNOWN_OPTIONAL_CODE",
    "UNKNOWN_LEGAL_FORM": "UNKNOWN_OPTIONAL_CODE",
    "UNKNOWN_BILLING_CYCLE": "UNKNOWN_OPTIONAL_CODE",
    "UNKNOWN_PAYMENT_METHOD": "UNKNOWN_OPTIONAL_CODE",
    "UNKNOWN_CHANNEL": "UNKNOWN_OPTIONAL_CODE",
    "BAD_CHARS": "INVALID_CHARS",
    "UNKNOWN_BILLING_CONTACT": "UNKNOWN_BILLING_CONTACT",
    "UNKNOWN_RECORD": "UNKNOWN_DECISION_RECORD",
}


def _truth(landing: Path) -> pl.DataFrame:
    return pl.read_parquet(landing / "_truth" / "records.parquet")


def test_quarantine_is_exactly_the_rows_the_generator_broke(
    sample_run, sample_landing: Path
) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        rejected = con.sql(
            "SELECT DISTINCT feed AS entity, source_system, source_id, true AS rejected FROM quality.rejected WHERE source_id IS NOT NULL"
        ).pl()
    truth = _truth(sample_landing).join(
        rejected, on=["entity", "source_system", "source_id"], how="left"
    )
    truth = truth.with_columns(pl.col("rejected").fill_null(False))
    wrongly_rejected = truth.filter(pl.col("expected_valid") & pl.col("rejected"))
    wrongly_kept = truth.filter(~pl.col("expected_valid") & ~pl.col("rejected"))
    assert wrongly_rejected.height == 0, wrongly_rejected.head(10)
    assert wrongly_kept.height == 0, wrongly_kept.head(10)
    assert truth.filter(~pl.col("expected_valid")).height > 0


def test_every_planted_warning_leaves_a_finding(sample_run, sample_landing: Path) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        findings = con.sql(
            "SELECT DISTINCT feed AS entity, source_system, source_id, rule_id FROM quality.finding"
        ).pl()
    planted = (
        _truth(sample_landing)
        .filter(pl.col("expected_valid") & pl.col("defect").is_not_null())
        .with_columns(pl.col("defect").str.split("+"))
        .explode("defect")
        .filter(pl.col("defect").is_in(list(WARNING_DEFECT_RULES)))
        .with_columns(pl.col("defect").replace_strict(WARNING_DEFECT_RULES).alias("rule_id"))
    )
    missing = planted.join(
        findings, on=["entity", "source_system", "source_id", "rule_id"], how="anti"
    )
    assert planted.height > 0
    assert missing.height == 0, missing.head(10)
