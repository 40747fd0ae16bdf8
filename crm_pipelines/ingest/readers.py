"""Read one landing file into an all-string polars frame of contract columns with physical
line numbers.

Everything is read as text so that one validation path serves CSV and Parquet alike, and a
bad value becomes a finding instead of a failed file. Whatever goes wrong with one file --
an unreadable encoding, a header collision, a nested contract column, a gzip past its size
cap, a symlink leading out of the landing folder, even a panic inside polars -- quarantines
that file with a reason; the run goes on.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from polars.exceptions import PanicException

from crm_pipelines.ingest.entries import SUFFIXES, LandingEntry, landing_entries
from crm_pipelines.ingest.header import HeaderPlan, plan_header
from crm_pipelines.ingest.limits import LandingLimits, landing_limits
from crm_pipelines.ingest.specs import FeedSpec

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
# polars Date is days since 1970-01-01; years 1..9999 are what ISO 8601 text can say
FIRST_DAY, LAST_DAY = -719_162, 2_932_896

__all__ = ["SUFFIXES", "FileRead", "LandingEntry", "landing_entries", "read_landing_file"]


class FileRejected(Exception):
    """A landing file that is quarantined as a whole; the message is the reason."""


@dataclass
class FileRead:
    feed: str
    file: str  # relative to the landing folder
    status: str  # READ | EMPTY | UNREADABLE
    rows: int
    message: str | None
    frame: pl.DataFrame | None  # contract columns only (as text) + __line
    ignored_columns: list[str] = field(default_factory=list)


def _csv_lines(frame: pl.DataFrame) -> pl.Series:
    """Physical start line of each record: header is line 1; quoted newlines push later rows down."""
    if frame.height == 0:
        return pl.Series("line", [], dtype=pl.Int64)
    embedded = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n").fill_null(0) for c in frame.columns]
    )
    extent = (embedded + 1).cast(pl.Int64)
    return frame.select((extent.cum_sum() - extent + 2).alias("line")).to_series()


def csv_bytes(path: Path, limits: LandingLimits) -> bytes:
    """The CSV text, a gzip decompressed as a stream that stops at its size cap."""
    size = path.stat().st_size
    if not path.name.lower().endswith(".gz"):
        if size > limits.max_csv_bytes:
            raise FileRejected(
                f"file too large: {size:,} bytes, more than max_csv_mib allows "
                f"({limits.max_csv_bytes:,} bytes, quality_rules/landing_limits.yaml)"
            )
        return path.read_bytes()
    budget = limits.gzip_budget(size)
    data = bytearray()
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            data += chunk
            if len(data) > budget:
                raise FileRejected(
                    f"gzip decompresses past its cap: more than {budget:,} bytes from "
                    f"{size:,} compressed (max_csv_mib / max_gzip_ratio, "
                    "quality_rules/landing_limits.yaml); decompression stopped"
                )
    return bytes(data)


def _select_contract(frame: pl.DataFrame, plan: HeaderPlan) -> pl.DataFrame:
    """Contract columns by header position (the frame's own names may be deduplicated)."""
    if plan.problem:
        raise FileRejected(plan.problem)
    picked = [
        pl.col(name).alias(column)
        for name, column in zip(frame.columns, plan.contract, strict=False)
        if column is not None
    ]
    return frame.select([*picked, "__line"])


def _read_csv(path: Path, spec: FeedSpec, limits: LandingLimits) -> tuple[pl.DataFrame, HeaderPlan]:
    data = csv_bytes(path, limits)
    if not data.strip():
        return pl.DataFrame(), plan_header([], spec)
    frame = pl.read_csv(data, infer_schema=False, encoding="utf8", raise_if_empty=False)
    # polars renames a repeated name (email_duplicated_0); the header row as written decides
    header = pl.read_csv(data, infer_schema=False, has_header=False, n_rows=1, encoding="utf8")
    plan = plan_header([str(v) if v is not None else "" for v in header.row(0)], spec)
    frame = frame.with_columns(_csv_lines(frame).alias("__line"))
    return _select_contract(frame, plan), plan


def _as_text(name: str, dtype: pl.DataType, name_is_chars: bool = False) -> pl.Expr:
    """One Parquet column as text; a date outside years 1..9999 becomes text that says so
    (polars panics formatting it), which the date checks then report for that row."""
    column = pl.col(name)
    if dtype == pl.Date:
        days = column.cast(pl.Int32)
        return (
            pl.when(days.is_between(FIRST_DAY, LAST_DAY))
            .then(days.clip(FIRST_DAY, LAST_DAY).cast(pl.Date).dt.to_string("%Y-%m-%d"))
            .otherwise(pl.format("out-of-range date (day {} from 1970-01-01)", days))
        )
    if name_is_chars and isinstance(dtype, pl.Struct):  # chars as a struct: the JSON object it is
        return column.struct.json_encode()
    if isinstance(dtype, pl.Datetime) and dtype.time_zone:
        return column.dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    return column.cast(pl.String)


def _read_parquet(path: Path, spec: FeedSpec) -> tuple[pl.DataFrame, HeaderPlan]:
    schema = pl.read_parquet_schema(path)
    plan = plan_header(list(schema), spec)
    if plan.problem:
        raise FileRejected(plan.problem)
    wanted = {name: column for name, column in zip(schema, plan.contract, strict=True) if column}
    nested = [
        f"{name} ({schema[name]})"
        for name, column in wanted.items()
        if schema[name].is_nested() and not (column == "chars" and schema[name] == pl.Struct)
    ]
    if nested:
        raise FileRejected(
            f"nested contract column {', '.join(nested)}: the contract needs one value per row"
        )
    # Ignored columns are never read, so an unknown list or struct column costs nothing.
    frame = pl.read_parquet(path, columns=list(wanted))
    frame = frame.select(
        [
            _as_text(name, dtype, wanted[name] == "chars").alias(wanted[name])
            for name, dtype in frame.schema.items()
        ]
    )
    frame = frame.with_row_index("__line", offset=1).with_columns(pl.col("__line").cast(pl.Int64))
    return frame, plan


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileRejected):
        return str(exc)
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"


def read_landing_file(landing: Path, feed: str, entry: LandingEntry, spec: FeedSpec) -> FileRead:
    relative = entry.path.relative_to(landing).as_posix()
    try:
        if entry.problem:
            raise FileRejected(entry.problem)
        if entry.path.name.lower().endswith(".parquet"):
            frame, plan = _read_parquet(entry.path, spec)
        else:
            frame, plan = _read_csv(entry.path, spec, landing_limits())
    except (Exception, PanicException) as exc:  # one bad file quarantines itself, not the run
        reason = _reason(exc)
        log.warning("unreadable landing file %s: %s", relative, reason)
        return FileRead(feed, relative, "UNREADABLE", 0, reason, None)
    if frame.width == 0 or frame.height == 0:
        return FileRead(feed, relative, "EMPTY", 0, "no data rows", None)
    return FileRead(feed, relative, "READ", frame.height, None, frame, plan.ignored)
