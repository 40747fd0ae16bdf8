"""pandera (polars) models of the staged feeds, generated from the feed specs in assets/.

The rules engine already rejected or blanked every bad value; validating the staged frames
against these models proves it, so a regression in the engine fails loudly instead of
publishing an uncoded status or a mistyped date.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from crm_pipelines.ingest.specs import feed_spec
from crm_pipelines.staged import STAGED_SCHEMAS
from crm_pipelines.validate.codes import codes_of

ALWAYS_PRESENT = ("record_key", "source_system", "source_id", "updated_at")
NEVER_BLANKED_TYPES = ("code", "string", "timestamp", "country", "currency", "date")


@cache
def staged_model(feed: str) -> pa.DataFrameSchema:
    spec = feed_spec(feed)
    columns = {}
    for name, dtype in STAGED_SCHEMAS[feed].items():
        column = spec.columns.get(name)
        checks = []
        if column is not None and column.type == "code" and column.code_table:
            checks.append(pa.Check.isin(codes_of(column.code_table)))
        # A required value is never null, unless a WARNING rule may blank it (end_date < start_date).
        # A feed may make the common columns optional (steward_decision, feeds.md).
        optional_common = column is not None and not column.required and name != "record_key"
        required = (name in ALWAYS_PRESENT and not optional_common) or (
            column is not None
            and column.required
            and column.type in NEVER_BLANKED_TYPES
            and not column.not_before
        )
        columns[name] = pa.Column(dtype, checks=checks, nullable=not required)
    return pa.DataFrameSchema(columns, strict=True, ordered=True, name=f"staged_{feed}")


def validate_staged(feed: str, frame: pl.DataFrame) -> pl.DataFrame:
    return staged_model(feed).validate(frame, lazy=True)
