"""Readable Dagster metadata: numbers stewards can plot, tables they can read."""

from __future__ import annotations

from typing import Any

import polars as pl
from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

SAMPLE_ROWS = 10
MAX_CELL = 120


def frame_table(frame: pl.DataFrame, limit: int = SAMPLE_ROWS) -> MetadataValue:
    """A small frame as a MetadataValue.table (rendered inline on the check page)."""
    head = frame.head(limit)
    columns = [TableColumn(name, "string") for name in head.columns]
    records = [
        TableRecord({k: ("" if v is None else str(v)[:MAX_CELL]) for k, v in row.items()})
        for row in head.iter_rows(named=True)
    ]
    return MetadataValue.table(records=records, schema=TableSchema(columns=columns))


def numbers(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (MetadataValue.int(int(v)) if isinstance(v, int) else MetadataValue.float(float(v)))
        for k, v in stats.items()
        if isinstance(v, int | float)
    }
