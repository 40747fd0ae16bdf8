"""Rejection and finding rates per source system, feed and rule: which source sends what.

A record is one (feed, source_system, source_id) of the run (its winning version):
accepted (staged) or rejected. A rule's rejection rate is the share of a source's records
it quarantined; its finding rate the share it flagged and kept. One row per rule that hit,
plus one row per (feed, source system) with rule_id null for the totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

RATE_SCHEMA: dict[str, pl.DataType] = {
    "feed": pl.String(),
    "source_system": pl.String(),
    "rule_id": pl.String(),
    "records": pl.Int64(),
    "rejected": pl.Int64(),
    "findings": pl.Int64(),
    "rejected_pct": pl.Float64(),
    "finding_pct": pl.Float64(),
}


def _accepted(staged: Mapping[str, pl.DataFrame | Path]) -> pl.DataFrame:
    frames = []
    for feed, source in staged.items():
        lazy = pl.scan_parquet(source) if isinstance(source, Path) else source.lazy()
        if "origin" in lazy.collect_schema().names():  # holder records are customer rows
            lazy = lazy.filter(pl.col("origin") != "customer_holder")
        frames.append(
            lazy.group_by("source_system")
            .agg(pl.len().cast(pl.Int64).alias("accepted"))
            .with_columns(pl.lit(feed).alias("feed"))
            .collect()
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema={"source_system": pl.String})


def _hits(issues: pl.DataFrame, name: str) -> pl.DataFrame:
    """Distinct records per (feed, source_system, rule_id), and per (feed, source_system)."""
    known = issues.filter(pl.col("source_system").is_not_null())
    per_rule = known.group_by("feed", "source_system", "rule_id").agg(
        pl.col("source_id").n_unique().cast(pl.Int64).alias(name)
    )
    total = known.group_by("feed", "source_system").agg(
        pl.col("source_id").n_unique().cast(pl.Int64).alias(name)
    )
    return pl.concat(
        [per_rule, total.with_columns(pl.lit(None, pl.String).alias("rule_id"))], how="diagonal"
    )


def source_rule_rates(
    staged: Mapping[str, pl.DataFrame | Path], rejected: pl.DataFrame, finding: pl.DataFrame
) -> pl.DataFrame:
    """Rates per (feed, source_system, rule_id); rule_id null = all rules of that source."""
    keys = ["feed", "source_system", "rule_id"]
    hits = _hits(rejected, "rejected").join(
        _hits(finding, "findings"), on=keys, how="full", coalesce=True, nulls_equal=True
    )
    rejected_records = hits.filter(pl.col("rule_id").is_null()).select(
        "feed", "source_system", pl.col("rejected").fill_null(0).alias("rejected_records")
    )
    records = (
        _accepted(staged)
        .join(rejected_records, on=["feed", "source_system"], how="full", coalesce=True)
        .select(
            "feed",
            "source_system",
            (pl.col("accepted").fill_null(0) + pl.col("rejected_records").fill_null(0)).alias(
                "records"
            ),
        )
    )
    totals = records.with_columns(pl.lit(None, pl.String).alias("rule_id"))
    rows = pl.concat([hits.select(keys), totals.select(keys)]).unique()
    return (
        rows.join(records, on=["feed", "source_system"], how="left")
        .join(hits, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("rejected", "findings").fill_null(0))
        .with_columns(
            (100 * pl.col("rejected") / pl.col("records")).round(2).alias("rejected_pct"),
            (100 * pl.col("findings") / pl.col("records")).round(2).alias("finding_pct"),
        )
        .select(list(RATE_SCHEMA))
        .cast(RATE_SCHEMA)
        .sort("feed", "source_system", "rule_id", nulls_last=False)
    )


def per_source_totals(rates: pl.DataFrame) -> pl.DataFrame:
    """One row per source system over all its feeds: records, rejected, findings, rates."""
    return (
        rates.filter(pl.col("rule_id").is_null())
        .group_by("source_system")
        .agg(pl.col("records", "rejected", "findings").sum())
        .with_columns(
            (100 * pl.col("rejected") / pl.col("records")).round(2).alias("rejected_pct"),
            (100 * pl.col("findings") / pl.col("records")).round(2).alias("finding_pct"),
        )
        .sort("source_system")
    )
