"""Read one landing file into an all-string polars frame with its physical line numbers.

Everything is read as text so that one validation path serves CSV and Parquet alike, and a
bad value becomes a finding instead of a failed file.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class FileRead:
    feed: str
    file: str  # relative to the landing folder
    status: str  # READ | EMPTY | UNREADABLE
    rows: int
    message: str | None
    frame: pl.DataFrame | None


def landing_files(landing: Path, feed: str) -> list[Path]:
    folder = landing / feed
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def _csv_lines(frame: pl.DataFrame) -> pl.Series:
    """Physical start line of each record: header is line 1; quoted newlines push later rows down."""
    if frame.height == 0:
        return pl.Series("line", [], dtype=pl.Int64)
    embedded = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n").fill_null(0) for c in frame.columns]
    )
    extent = (embedded + 1).cast(pl.Int64)
    return frame.select((extent.cum_sum() - extent + 2).alias("line")).to_series()


def _read_csv(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    if not data.strip():
        return pl.DataFrame()
    frame = pl.read_csv(
        data,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
    )
    return frame.with_columns(_csv_lines(frame).alias("__line"))


def _read_parquet(path: Path) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    frame = frame.select(
        [
            (
                pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
                if isinstance(dtype, pl.Datetime) and dtype.time_zone
                else pl.col(c).cast(pl.String)
            ).alias(c)
            for c, dtype in frame.schema.items()
        ]
    )
    return frame.with_row_index("__line", offset=1).with_columns(pl.col("__line").cast(pl.Int64))


def read_landing_file(landing: Path, feed: str, path: Path) -> FileRead:
    relative = path.relative_to(landing).as_posix()
    try:
        if path.name.lower().endswith(".parquet"):
            frame = _read_parquet(path)
        else:
            frame = _read_csv(path)
    except Exception as exc:  # any reader failure quarantines the file, not the run
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        log.warning("unreadable landing file %s: %s", relative, reason)
        return FileRead(feed, relative, "UNREADABLE", 0, reason, None)
    if frame.width == 0 or frame.height == 0:
        return FileRead(feed, relative, "EMPTY", 0, "no data rows", None)
    frame = frame.rename({c: c.strip().lower() for c in frame.columns if c != "__line"})
    return FileRead(feed, relative, "READ", frame.height, None, frame)
