"""Readable Dagster metadata: numbers stewards can plot, tables they can read."""

from __future__ import annotations

from typing import Any

import polars as pl
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

SAMPLE_ROWS = 10
MAX_CELL = 120


def frame_table(
    frame: pl.DataFrame, limit: int = SAMPLE_ROWS, max_cell: int | None = MAX_CELL
) -> MetadataValue:
    """A small frame as a MetadataValue.table (rendered inline on the check page);
    max_cell=None keeps whole texts (review reasons)."""
    head = frame.head(limit)
    columns = [TableColumn(name, "string") for name in head.columns]
    records = [
        TableRecord({k: ("" if v is None else str(v)[:max_cell]) for k, v in row.items()})
        for row in head.iter_rows(named=True)
    ]
    return MetadataValue.table(records=records, schema=TableSchema(columns=columns))


def numbers(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (MetadataValue.int(int(v)) if isinstance(v, int) else MetadataValue.float(float(v)))
        for k, v in stats.items()
        if isinstance(v, int | float)
    }


def spread_sample(frame: pl.DataFrame, limit: int = SAMPLE_ROWS, by: str = "source_system"):
    """Up to `limit` rows taking turns across the values of `by` (the first row of every
    source system, then the second of each, ...), so one noisy source does not fill it."""
    if frame.height == 0 or by not in frame.columns:
        return frame.head(limit)
    turn = pl.int_range(pl.len()).over(by).alias("__turn")
    return (
        frame.with_columns(turn).sort("__turn", by, maintain_order=True).head(limit).drop("__turn")
    )


def probability_text(score: pl.Expr) -> pl.Expr:
    """A match probability as a percentage a person reads: "87.5 %"; never "100 %" for a
    pair that is not certain (">99.9 %"), nor "0 %" for one that is possible ("<0.1 %")."""
    pct = (score * 100).round(1)
    return (
        pl.when(score.is_null())
        .then(None)
        .when((score < 1) & (pct >= 100))
        .then(pl.lit(">99.9 %"))
        .when((score > 0) & (pct <= 0))
        .then(pl.lit("<0.1 %"))
        .otherwise(pl.format("{} %", pct))
    )


def review_sample(review: pl.DataFrame, limit: int = SAMPLE_ROWS) -> MetadataValue:
    """Review pairs with the probability as a rounded percentage and the whole reason."""
    shown = review.select(
        "entity",
        "left_source_system",
        "left_source_id",
        "right_source_system",
        "right_source_id",
        probability_text(pl.col("score")).alias("probability"),
        "reason",
    )
    return frame_table(shown, limit, max_cell=None)
