"""A landing folder in, staged frames plus quality results out: ingest + validate, no Dagster."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crm_pipelines.ingest.landing import read_feed
from crm_pipelines.ingest.readers import FileRead
from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.validate.decision_rules import check_decision_pairs
from crm_pipelines.validate.engine import FeedValidation, validate_feed
from crm_pipelines.validate.parsing import clear_value_memo
from crm_pipelines.validate.quality_tables import (
    file_load_table,
    quality_rows,
    rule_results,
    unreadable_file_rows,
)
from crm_pipelines.validate.references import (
    accepted_keys,
    check_decision_references,
    check_owner_reference,
    check_reference,
    check_soft_reference,
)
from crm_pipelines.validate.schemas import validate_staged
from crm_pipelines.validate.staging import staged_frames

log = logging.getLogger(__name__)


@dataclass
class StagedLanding:
    staged: dict[str, pl.DataFrame]
    rejected: pl.DataFrame
    finding: pl.DataFrame
    rule_result: pl.DataFrame
    file_load: pl.DataFrame
    feed_stats: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class FeedInput:
    """What is left of a raw feed once it is validated: its files and row count."""

    files: list[FileRead]
    rows_in: int


def _countries(result: FeedValidation) -> pl.DataFrame:
    return result.winners.select(
        pl.col("__ss").alias("source_system"),
        pl.col("__sid").alias("source_id"),
        pl.col("t_country").alias("country"),
    ).unique(subset=["source_system", "source_id"])


def validate_landing(
    landing: Path, as_of: dt.date
) -> tuple[dict[str, FeedValidation], dict[str, FeedInput]]:
    """Feeds in reference order, so a reference can only name an already accepted record.

    Each feed is read just before it is validated and slimmed to its typed columns once its
    last reference check ran: at a million customers holding every raw feed at once costs
    gigabytes.
    """
    results: dict[str, FeedValidation] = {}
    inputs: dict[str, FeedInput] = {}

    def validate(feed: str, **context: pl.DataFrame) -> FeedValidation:
        raw = read_feed(landing, feed)
        inputs[feed] = FeedInput(raw.files, raw.frame.height)
        results[feed] = validate_feed(raw, as_of, **context)
        return results[feed]

    customers = accepted_keys(validate("customer").slim())
    person = validate("person", owner_country=_countries(results["customer"]))
    check_reference(person, "customer_source_id", customers, "customer")
    persons = accepted_keys(person.slim())
    account = validate("account")
    check_reference(account, "customer_source_id", customers, "customer")
    check_soft_reference(
        account, "billing_contact_source_id", persons, "UNKNOWN_BILLING_CONTACT", "person"
    )
    accounts = accepted_keys(account.slim())
    leads = accepted_keys(validate("lead").slim())
    validate("campaign").slim()
    address = validate("address")
    check_owner_reference(
        address, {"CUSTOMER": customers, "ACCOUNT": accounts, "PERSON": persons, "LEAD": leads}
    )
    address.slim()
    decisions = validate("steward_decision")
    # an individual customer's holder is a person record too (match_review names it)
    holders = customers.with_columns(
        pl.concat_str([pl.lit("customer:"), "source_id"]).alias("source_id")
    )
    check_decision_references(
        decisions,
        {
            "customer": customers,
            "person": pl.concat([persons, holders]),
            "address": accepted_keys(address),
            "lead": leads,
        },
    )
    check_decision_pairs(decisions)
    decisions.slim()
    return results, inputs


def stage_landing(landing: Path, as_of: dt.date | None = None) -> StagedLanding:
    as_of = as_of or dt.date.today()
    try:
        results, inputs = validate_landing(Path(landing), as_of)
    finally:
        clear_value_memo()
    reads: list[FileRead] = [read for feed in inputs.values() for read in feed.files]
    staged = {feed: validate_staged(feed, frame) for feed, frame in staged_frames(results).items()}
    rejected, finding = quality_rows(results)
    rejected = pl.concat([unreadable_file_rows(reads), rejected])
    stats = {
        feed: {
            "rows_in": inputs[feed].rows_in,
            "superseded": results[feed].superseded,
            "records": results[feed].winners.height,
            "accepted": results[feed].winners.height - results[feed].error_rows().len(),
            "rejected": results[feed].error_rows().len(),
            "findings": int(finding.filter(pl.col("feed") == feed).height),
            "files": len(inputs[feed].files),
            "unreadable_files": sum(1 for r in inputs[feed].files if r.status == "UNREADABLE"),
        }
        for feed in FEEDS
    }
    return StagedLanding(
        staged, rejected, finding, rule_results(results, reads), file_load_table(reads), stats
    )
