"""Nothing accepted is lost: the rows behind the master's every_record_accounted_for check."""

from __future__ import annotations

import polars as pl

# the golden entities a feed's records become (a person feed row, or a customer's holder row)
ENTITIES_OF_FEED = {"person": ["person", "person_holder"]}


def unaccounted_records(staged: dict[str, pl.DataFrame], xref: pl.DataFrame) -> pl.DataFrame:
    """Accepted staged records missing from master.xref: must be empty (nothing lost)."""
    missing = []
    for feed, frame in staged.items():
        entities = ENTITIES_OF_FEED.get(feed, [feed])
        known = xref.filter(pl.col("entity").is_in(entities)).select("record_key")
        missing.append(
            frame.select(pl.lit(feed).alias("feed"), "record_key").join(
                known, on="record_key", how="anti"
            )
        )
    return pl.concat(missing)
