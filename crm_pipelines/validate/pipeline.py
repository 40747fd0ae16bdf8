"""A landing folder in, staged frames plus quality results out: ingest + validate, no Dagster."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crm_pipelines.ingest.landing import RawFeed, read_feed
from crm_pipelines.ingest.readers import FileRead
from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.validate.engine import FeedValidation, validate_feed
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


def ingest_landing(landing: Path) -> dict[str, RawFeed]:
    return {feed: read_feed(landing, feed) for feed in FEEDS}


def _countries(result: FeedValidation) -> pl.DataFrame:
    return result.winners.select(
        pl.col("__ss").alias("source_system"),
        pl.col("__sid").alias("source_id"),
        pl.col("t_country").alias("country"),
    ).unique(subset=["source_system", "source_id"])


def validate_landing(raw: dict[str, RawFeed], as_of: dt.date) -> dict[str, FeedValidation]:
    """Feeds in reference order, so a reference can only name an already accepted record."""
    results: dict[str, FeedValidation] = {}
    results["customer"] = validate_feed(raw["customer"], as_of)
    customers = accepted_keys(results["customer"])
    customer_country = _countries(results["customer"])
    results["person"] = validate_feed(raw["person"], as_of, owner_country=customer_country)
    check_reference(results["person"], "customer_source_id", customers, "customer")
    results["account"] = validate_feed(raw["account"], as_of)
    check_reference(results["account"], "customer_source_id", customers, "customer")
    persons = accepted_keys(results["person"])
    check_soft_reference(
        results["account"],
        "billing_contact_source_id",
        persons,
        "UNKNOWN_BILLING_CONTACT",
        "person",
    )
    results["lead"] = validate_feed(raw["lead"], as_of)
    results["campaign"] = validate_feed(raw["campaign"], as_of)
    results["address"] = validate_feed(raw["address"], as_of)
    check_owner_reference(
        results["address"],
        {
            "CUSTOMER": customers,
            "ACCOUNT": accepted_keys(results["account"]),
            "PERSON": persons,
            "LEAD": accepted_keys(results["lead"]),
        },
    )
    results["steward_decision"] = validate_feed(raw["steward_decision"], as_of)
    check_decision_references(
        results["steward_decision"],
        {
            entity: accepted_keys(results[entity])
            for entity in ("customer", "person", "address", "lead")
        },
    )
    return results


def stage_landing(landing: Path, as_of: dt.date | None = None) -> StagedLanding:
    as_of = as_of or dt.date.today()
    raw = ingest_landing(Path(landing))
    reads: list[FileRead] = [read for feed in raw.values() for read in feed.files]
    results = validate_landing(raw, as_of)
    staged = {feed: validate_staged(feed, frame) for feed, frame in staged_frames(results).items()}
    rejected, finding = quality_rows(results)
    rejected = pl.concat([unreadable_file_rows(reads), rejected])
    stats = {
        feed: {
            "rows_in": raw[feed].frame.height,
            "superseded": results[feed].superseded,
            "records": results[feed].winners.height,
            "accepted": results[feed].winners.height - results[feed].error_rows().len(),
            "rejected": results[feed].error_rows().len(),
            "findings": int(finding.filter(pl.col("feed") == feed).height),
            "files": len(raw[feed].files),
            "unreadable_files": sum(1 for r in raw[feed].files if r.status == "UNREADABLE"),
        }
        for feed in FEEDS
    }
    return StagedLanding(
        staged, rejected, finding, rule_results(results, reads), file_load_table(reads), stats
    )
