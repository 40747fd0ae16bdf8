"""Accepted winning rows -> the staged frames of crm_pipelines.staged (plus holder persons)."""

from __future__ import annotations

import polars as pl

from crm_pipelines.staged import STAGED_SCHEMAS, conform
from crm_pipelines.validate.feed import FeedValidation
from crm_pipelines.validate.names import with_parsed_names

NAMED_FEEDS = ("customer", "person", "lead")  # name fields may carry titles

HOLDER_COLUMNS = (
    "first_name",
    "last_name",
    "title_before",
    "title_after",
    "generation",
    "birth_date",
    "email",
    "phone",
    "phone_is_mobile",
    "country",
    "consent_email",
    "consent_sms",
    "consent_post",
)


def _accepted(result: FeedValidation) -> pl.DataFrame:
    errors = result.error_rows()
    accepted = result.winners.filter(~pl.col("__row").is_in(errors.implode()))
    typed = [c for c in accepted.columns if c.startswith("t_")]
    return accepted.select(
        pl.concat_str([pl.col("__ss"), pl.col("__sid")], separator="|").alias("record_key"),
        pl.col("__ss").alias("source_system"),
        pl.col("__sid").alias("source_id"),
        pl.lit(result.feed).alias("feed"),
        pl.col("__file").cast(pl.String).alias("file"),
        pl.col("__line").alias("line"),
        *[pl.col(c).alias(c[2:]) for c in typed if c[2:] not in ("source_system", "source_id")],
    )


def holder_persons(customers: pl.DataFrame) -> pl.DataFrame:
    """feeds.md: an INDIVIDUAL customer's row speaks for its holder, a person with role OWNER."""
    individuals = customers.filter(pl.col("party_type") == "INDIVIDUAL")
    return individuals.select(
        pl.concat_str(
            [pl.col("source_system"), pl.lit("customer:"), pl.col("source_id")], separator=""
        )
        .str.replace("customer:", "|customer:", literal=True)
        .alias("record_key"),
        "source_system",
        pl.concat_str([pl.lit("customer:"), pl.col("source_id")]).alias("source_id"),
        "updated_at",
        pl.lit(None, dtype=pl.String).alias("chars"),
        "feed",
        "file",
        "line",
        pl.lit("customer_holder").alias("origin"),
        pl.col("source_id").alias("customer_source_id"),
        pl.lit("OWNER").alias("role_type"),
        *HOLDER_COLUMNS,
    )


def staged_frames(results: dict[str, FeedValidation]) -> dict[str, pl.DataFrame]:
    staged: dict[str, pl.DataFrame] = {}
    for feed, result in results.items():
        frame = _accepted(result)
        if feed in NAMED_FEEDS:
            frame = with_parsed_names(frame)
        if feed == "person":
            frame = frame.with_columns(pl.lit("person_feed").alias("origin"))
        if feed == "steward_decision":
            # Decisions naming unknown records stay (as findings) but name no pair the matcher
            # knows. A decision without source_system/source_id (feeds.md allows it) is
            # keyed by where it was written.
            frame = frame.with_columns(
                pl.coalesce(
                    "record_key", pl.format("decision@{}:{}", pl.col("file"), pl.col("line"))
                ).alias("record_key"),
                pl.concat_str(
                    [pl.col("left_source_system"), pl.col("left_source_id").str.strip_chars()],
                    separator="|",
                ).alias("left_record_key"),
                pl.concat_str(
                    [pl.col("right_source_system"), pl.col("right_source_id").str.strip_chars()],
                    separator="|",
                ).alias("right_record_key"),
            )
        staged[feed] = conform(feed, frame)
        # From here on only the quality tables need the winners, and only their keys.
        result.winners = result.winners.select("__row", "__ss", "__sid", "__file", "__line")
    staged["person"] = pl.concat(
        [staged["person"], conform("person", holder_persons(staged["customer"]))]
    )
    assert set(staged) == set(STAGED_SCHEMAS)
    return staged
