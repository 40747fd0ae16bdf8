"""Read a whole feed folder: all files, contract column names, one frame with file and line."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_pipelines.ingest.readers import FileRead, landing_entries, read_landing_file
from crm_pipelines.ingest.specs import FeedSpec, feed_spec

log = logging.getLogger(__name__)


@dataclass
class RawFeed:
    feed: str
    frame: pl.DataFrame  # contract columns as text + __file, __line, __file_rank, __missing
    files: list[FileRead]
    unknown_columns: list[str]


def _to_contract_columns(frame: pl.DataFrame, spec: FeedSpec) -> pl.DataFrame:
    """All contract columns (missing ones null, named in __missing); blank text is null."""
    missing = [c for c in spec.columns if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
    # Empty or whitespace-only text is "no value" (feeds.md: empty field = null).
    frame = frame.with_columns(
        [
            pl.when(pl.col(c).str.strip_chars().str.len_bytes() == 0)
            .then(None)
            .otherwise(pl.col(c))
            .alias(c)
            for c in spec.columns
        ]
    ).with_columns(pl.lit(",".join(missing), dtype=pl.Categorical).alias("__missing"))
    return frame.select([*spec.columns, "__line", "__missing"])


def read_feed(landing: Path, feed: str) -> RawFeed:
    spec = feed_spec(feed)
    reads: list[FileRead] = []
    frames: list[pl.DataFrame] = []
    unknown: set[str] = set()
    for rank, entry in enumerate(landing_entries(landing, feed)):
        read = read_landing_file(landing, feed, entry, spec)
        if read.frame is not None:
            unknown |= {name.strip().lower() for name in read.ignored_columns}
            frames.append(
                _to_contract_columns(read.frame, spec).with_columns(
                    # one value per file: categorical, not a copy of the path on every row
                    pl.lit(read.file, dtype=pl.Categorical).alias("__file"),
                    pl.lit(rank, dtype=pl.Int32).alias("__file_rank"),
                )
            )
            read.frame = None  # keep memory for the combined frame only
        reads.append(read)
        log.info("%s: %s %s (%d rows)", feed, read.file, read.status, read.rows)
    if frames:
        combined = pl.concat(frames, how="vertical")
    else:
        combined = pl.DataFrame(
            schema={
                **{c: pl.String for c in spec.columns},
                "__line": pl.Int64,
                "__missing": pl.Categorical,
                "__file": pl.Categorical,
                "__file_rank": pl.Int32,
            }
        )
    return RawFeed(feed, combined, reads, sorted(unknown))
