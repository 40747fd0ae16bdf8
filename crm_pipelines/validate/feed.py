"""Validate one feed (the landing's driver, validate/landing.py, runs it per feed): pick each
record's winning version, run the column rules, then the row rules, and sort the findings into
ERROR (reject the row) and WARNING (keep the row, leave the value out).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import polars as pl

from crm_pipelines.ingest.landing import RawFeed
from crm_pipelines.ingest.specs import FeedSpec, feed_spec
from crm_pipelines.validate import values
from crm_pipelines.validate.codes import canonical_codes
from crm_pipelines.validate.column_checks import ColumnOutcome, RowContext, run_column_check
from crm_pipelines.validate.issues import ISSUE_SCHEMA, RuleIssues, rule_issues
from crm_pipelines.validate.parsing import CONTROL_CHARACTERS, without_control_characters
from crm_pipelines.validate.row_rules import apply_row_rules
from crm_pipelines.validate.rules import warning_rule_ids

log = logging.getLogger(__name__)


@dataclass
class FeedValidation:
    feed: str
    winners: pl.DataFrame  # one row per (source_system, source_id): raw text + typed "t_" columns
    issues: pl.DataFrame  # __row, rule_id, column, message
    checked: dict[str, int] = field(default_factory=dict)  # rows each rule looked at
    superseded: int = 0

    def add(self, found: RuleIssues) -> None:
        self.issues = pl.concat([self.issues, found.issues.select(list(ISSUE_SCHEMA))])
        self.checked[found.rule_id] = self.checked.get(found.rule_id, 0) + found.checked

    def slim(self) -> FeedValidation:
        """Drop the raw text columns once every check that quotes them has run."""
        # __ss/__sid/__ts already hold source_system, source_id and updated_at
        duplicates = {"t_source_system", "t_source_id", "__ts", "__missing", "__file_rank"}
        keep = [
            c for c in self.winners.columns if c.startswith(("t_", "__")) and c not in duplicates
        ]
        self.winners = self.winners.select(keep)
        return self

    def error_rows(self) -> pl.Series:
        # A rule id missing from the catalogue counts as an ERROR: its row is never lost.
        errors = self.issues.filter(~pl.col("rule_id").is_in(warning_rule_ids()))
        return errors["__row"].unique()


def _key_text(source_id: pl.Series) -> pl.Series:
    """The source id as a key: trimmed, and without control characters (they never reach
    the master; the column's check reports them)."""
    if source_id.str.contains(CONTROL_CHARACTERS).any():
        source_id = without_control_characters(source_id)
    return source_id.str.strip_chars()


def select_winners(raw: RawFeed) -> tuple[pl.DataFrame, int]:
    """The latest version of each (source_system, source_id); superseded ones state nothing.

    Rows whose key or updated_at is unusable cannot be ordered: they are kept (and will be
    rejected) only when their key has no usable version at all.
    """
    frame = raw.frame.with_row_index("__in")
    source_system = canonical_codes(frame["source_system"], None, "source_system")
    timestamps = values.parse_timestamp(frame["updated_at"])["value"]
    frame = frame.with_columns(
        pl.coalesce(source_system, frame["source_system"].str.strip_chars()).alias("__ss"),
        _key_text(frame["source_id"]).alias("__sid"),
        timestamps.alias("__ts"),
    )
    orderable = (
        pl.col("__ss").is_not_null() & pl.col("__sid").is_not_null() & pl.col("__ts").is_not_null()
    )
    key = (
        pl.when(pl.col("__sid").is_null() | pl.col("__ss").is_null())
        .then(pl.format("\u0000{}", pl.col("__in")))
        .otherwise(pl.concat_str([pl.col("__ss"), pl.col("__sid")], separator="\u0001"))
    )
    # Order and deduplicate on the narrow key columns only, then gather the winning rows
    # once: sorting the whole wide text frame would copy it twice at a million customers.
    winning_rows = (
        frame.select(
            "__in",
            "__ts",
            "__file_rank",
            "__line",
            key.alias("__key"),
            orderable.alias("__orderable"),
        )
        .sort(["__orderable", "__ts", "__file_rank", "__line"], nulls_last=False)
        .unique(subset=["__key"], keep="last")
        .get_column("__in")
        .sort()
    )
    winners = frame.drop("__in").gather(winning_rows).with_row_index("__row")
    return winners, frame.height - winners.height


def _context_country(
    winners: pl.DataFrame, spec: FeedSpec, owner_country: pl.DataFrame | None
) -> pl.Series:
    if "country" in spec.columns:
        return values.check_country(winners["country"])["country"]
    if owner_country is not None and "customer_source_id" in winners.columns:
        joined = winners.select("__ss", pl.col("customer_source_id").str.strip_chars()).join(
            owner_country,
            left_on=["__ss", "customer_source_id"],
            right_on=["source_system", "source_id"],
            how="left",
            maintain_order="left",
        )
        return joined["country"]
    return pl.Series("country", [None] * winners.height, dtype=pl.String)


def _column_checks(
    winners: pl.DataFrame, spec: FeedSpec, ctx: RowContext
) -> tuple[pl.DataFrame, list[RuleIssues]]:
    """Every column's check: the typed "t_" columns, and what each check found."""
    typed: dict[str, pl.Series] = {}
    found: list[RuleIssues] = []
    for column in spec.columns.values():
        if column.name == "updated_at":
            outcome = ColumnOutcome(
                "updated_at",
                winners["__ts"],
                winners["__ts"].is_null() & winners["updated_at"].is_not_null(),
                "INVALID_TIMESTAMP",
                "updated_at '{value}' is not an ISO 8601 timestamp",
            )
        else:
            outcome = run_column_check(column, winners[column.name], ctx)
        typed[column.name] = outcome.typed
        for name, series in outcome.extra.items():
            typed[name] = series
        given = int(winners[column.name].is_not_null().sum())
        if outcome.rule_id:
            message = outcome.messages if outcome.messages is not None else outcome.message
            found.append(
                rule_issues(winners, outcome.failed, outcome.rule_id, column.name, message, given)
            )
        for rule_id, failed, message in outcome.also:
            found.append(rule_issues(winners, failed, rule_id, column.name, message, given))
    if "country" not in typed:  # person: the country of its customer, CZ when unknown
        typed["country"] = ctx.country.fill_null("CZ")
    return pl.DataFrame({f"t_{k}": v for k, v in typed.items()}), found


def validate_winners(
    feed: str,
    winners: pl.DataFrame,
    superseded: int,
    as_of: dt.date,
    owner_country: pl.DataFrame | None = None,
) -> FeedValidation:
    """The winning rows (select_winners) through the column rules, then the row rules."""
    spec = feed_spec(feed)
    ctx = RowContext(
        winners, winners["__ss"], _context_country(winners, spec, owner_country), as_of, spec.feed
    )
    typed, column_issues = _column_checks(winners, spec, ctx)
    completed, row_issues = apply_row_rules(
        pl.concat([winners, typed], how="horizontal"), spec, as_of
    )
    result = FeedValidation(
        feed, completed, pl.DataFrame(schema=ISSUE_SCHEMA), superseded=superseded
    )
    for found in column_issues + row_issues:
        result.add(found)
    log.info(
        "%s: %d winning rows, %d superseded, %d issues",
        feed,
        winners.height,
        superseded,
        result.issues.height,
    )
    return result


def validate_feed(
    raw: RawFeed, as_of: dt.date, owner_country: pl.DataFrame | None = None
) -> FeedValidation:
    """One feed as read; `raw` is left as it was (a caller that wants its memory back early
    reads, selects winners and drops the raw feed itself, as validate/landing.py does)."""
    winners, superseded = select_winners(raw)
    return validate_winners(raw.feed, winners, superseded, as_of, owner_country)
