"""Read a landing folder independently of the pipeline: the distinct keys a run must account for."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl

FEEDS = ("customer", "person", "account", "address", "lead", "campaign", "steward_decision")


def readable_keys(landing: Path, skip: set[str] = frozenset()) -> pl.DataFrame:
    """(feed, source_system, source_id) of every row of every readable file, as sent (trimmed);
    `skip` names files (relative to the landing folder) the run quarantined as a whole."""
    frames = []
    for feed in FEEDS:
        for path in sorted((landing / feed).glob("*")) if (landing / feed).is_dir() else []:
            if path.relative_to(landing).as_posix() in skip:
                continue
            try:
                if path.name.endswith(".parquet"):
                    frame = pl.read_parquet(path)
                elif path.name.endswith((".csv", ".csv.gz")):
                    data = path.read_bytes()
                    data = gzip.decompress(data) if path.name.endswith(".gz") else data
                    data.decode("utf-8")
                    frame = (
                        pl.read_csv(data, infer_schema=False) if data.strip() else pl.DataFrame()
                    )
                else:
                    continue
            except Exception:
                continue
            if {"source_system", "source_id"} <= set(frame.columns):
                frames.append(
                    frame.select(
                        pl.lit(feed).alias("feed"),
                        pl.col("source_system").cast(pl.String).str.strip_chars(),
                        pl.col("source_id").cast(pl.String).str.strip_chars(),
                    )
                )
    return pl.concat(frames).unique() if frames else pl.DataFrame()
