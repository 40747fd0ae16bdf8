"""Validate a landing folder (the landing's driver; validate/feed.py validates one feed): a
landing folder in, staged frames plus quality results out: ingest + validate, no Dagster."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from crm_pipelines.governance import check_governance_files
from crm_pipelines.ingest.landing import read_feed
from crm_pipelines.ingest.readers import FileRead
from crm_pipelines.ingest.specs import FEEDS, feed_spec, reference_order
from crm_pipelines.validate.decision_rules import check_decision_pairs
from crm_pipelines.validate.feed import FeedValidation, select_winners, validate_winners
from crm_pipelines.validate.parsing import clear_value_memo
from crm_pipelines.validate.quality_tables import (
    file_load_table,
    quality_rows,
    rule_results,
    unreadable_file_rows,
)
from crm_pipelines.validate.references import (
    accepted_keys,
    check_column_reference,
    check_decision_references,
)
from crm_pipelines.validate.rules import rule_catalogue
from crm_pipelines.validate.schemas import validate_staged
from crm_pipelines.validate.staged_frames import staged_frames

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


def _read_and_validate(
    landing: Path, feed: str, as_of: dt.date, owner_country: pl.DataFrame | None = None
) -> tuple[FeedValidation, FeedInput]:
    """One feed read and validated; its raw rows are let go as soon as the winning versions
    are picked (at a million customers the raw text of a feed is gigabytes)."""
    raw = read_feed(landing, feed)
    read = FeedInput(raw.files, raw.frame.height)
    winners, superseded = select_winners(raw)
    del raw  # the only reference: the raw frame is freed before the checks run
    return validate_winners(feed, winners, superseded, as_of, owner_country), read


def validate_landing(
    landing: Path, as_of: dt.date
) -> tuple[dict[str, FeedValidation], dict[str, FeedInput]]:
    """Feeds in reference order (from the feed specs' `references:`), so a reference can only
    name an already accepted record; steward decisions, which may name any entity, come last.

    Each feed is read just before it is validated and slimmed to its typed columns once its
    own reference checks ran: at a million customers holding every raw feed at once costs
    gigabytes.
    """
    results: dict[str, FeedValidation] = {}
    inputs: dict[str, FeedInput] = {}
    accepted: dict[str, pl.DataFrame] = {}
    for feed in [f for f in reference_order() if f != "steward_decision"]:
        owner_country = _countries(results["customer"]) if feed == "person" else None
        results[feed], inputs[feed] = _read_and_validate(landing, feed, as_of, owner_country)
        for column in feed_spec(feed).references():
            # straight into the result: a local name would keep the wide rows alive after slim()
            results[feed].winners, found = check_column_reference(results[feed], column, accepted)
            results[feed].add(found)
        accepted[feed] = accepted_keys(results[feed].slim())
    decisions, inputs["steward_decision"] = _read_and_validate(landing, "steward_decision", as_of)
    results["steward_decision"] = decisions
    # an individual customer's holder is a person record too (match_review names it)
    holders = accepted["customer"].with_columns(
        pl.concat_str([pl.lit("customer:"), "source_id"]).alias("source_id")
    )
    known = {entity: accepted[entity] for entity in ("customer", "address", "lead")}
    decisions.winners, found = check_decision_references(
        decisions, known | {"person": pl.concat([accepted["person"], holders])}
    )
    for rule in found:
        decisions.add(rule)
    decisions.add(check_decision_pairs(decisions))
    decisions.slim()
    return results, inputs


def stage_landing(landing: Path, as_of: dt.date | None = None) -> StagedLanding:
    as_of = as_of or dt.date.today()
    check_governance_files()  # a misspelt governance key fails the run before any data is read
    rule_catalogue()  # ... and so does a rule id the code emits that rules.yaml lacks
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
