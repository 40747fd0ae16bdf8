"""Landing files per feed and source: formats, source code aliases, snapshot + delta.

Each source system has its own habits: BSS plain CSV with offsets, the e-shop natively typed
Parquet, the legacy CRM gzipped CSV in local time with its own codes and 1/0 booleans, the
partner portal all-string Parquet with Y/N, marketing CSV with a BOM and yes/no.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.ingest.specs import feed_spec
from crm_pipelines.sample.defects import OMITTED
from crm_pipelines.sample.text import reference

log = logging.getLogger(__name__)

SNAPSHOT_DAY, DELTA_DAY = "20261127", "20261128"
FORMAT = {
    "BSS": "csv",
    "ESHOP": "parquet_native",
    "LEGACY_CRM": "csv_gz",
    "PARTNER_PORTAL": "parquet_text",
    "MARKETING": "csv_bom",
}
EXTENSION = {
    "csv": "csv",
    "csv_bom": "csv",
    "csv_gz": "csv.gz",
    "parquet_native": "parquet",
    "parquet_text": "parquet",
}
BOOLEAN_STYLE = {"LEGACY_CRM": ("1", "0"), "PARTNER_PORTAL": ("Y", "N"), "MARKETING": ("yes", "no")}
DELTA_SOURCES = {
    "customer": ("BSS", "ESHOP", "LEGACY_CRM"),
    "person": ("BSS", "ESHOP"),
    "account": ("BSS",),
    "address": ("BSS", "ESHOP"),
}
SPLIT_SNAPSHOT = {("customer", "BSS"), ("person", "BSS"), ("address", "BSS")}
# what a newer version typically changed
MUTABLE = {
    "customer": ("email", "phone", "consent_email", "segment"),
    "person": ("email", "phone", "consent_sms"),
    "account": ("credit_limit", "name"),
    "address": ("latitude", "address_line"),
}
# The contract's columns per feed, in the order of the feed specs under assets/feeds/.
COLUMNS: dict[str, tuple[str, ...]] = {
    feed: tuple(feed_spec(feed).columns)
    for feed in ("customer", "person", "account", "address", "lead")
}
NATIVE = {
    "birth_date": pl.Date,
    "consent_email": pl.Boolean,
    "consent_sms": pl.Boolean,
    "consent_post": pl.Boolean,
    "credit_limit": pl.Float64,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
}


def apply_aliases(frame: pl.DataFrame, feed: str) -> pl.DataFrame:
    """Sources that send their own codes (listed in data/source_code_aliases.csv)."""
    aliases = reference("source_code_aliases").filter(pl.col("feed") == feed)
    for (column, source), group in aliases.group_by("column", "source_system", maintain_order=True):
        mapping = dict(zip(group["canonical"], group["alias"], strict=True))
        frame = frame.with_columns(
            pl.when(pl.col("_src") == source)
            .then(pl.col(column).replace(mapping))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame


def _stamp(col: str, source: str) -> pl.Expr:
    ts = pl.col(col)
    local = ts.dt.convert_time_zone("Europe/Prague")
    if source == "LEGACY_CRM":
        return local.dt.strftime("%Y-%m-%d %H:%M:%S")
    if source == "PARTNER_PORTAL":
        return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.dt.strftime("%Y-%m-%dT%H:%M:%S%:z")


def _render(frame: pl.DataFrame, feed: str, source: str) -> pl.DataFrame:
    """Source-styled output columns (meta columns dropped)."""
    columns = [c for c in COLUMNS[feed] if c not in OMITTED[feed].get(source, ())]
    out = frame
    if FORMAT[source] == "parquet_native":
        casts = {}
        for c, dtype in NATIVE.items():
            if c not in columns:
                continue
            if dtype == pl.Boolean:
                casts[c] = pl.col(c).replace_strict(
                    {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
                )
            elif dtype == pl.Date:
                casts[c] = pl.col(c).str.to_date("%Y-%m-%d", strict=False)
            else:
                casts[c] = pl.col(c).cast(dtype, strict=False)
        return out.with_columns(**casts).select(columns)
    updates = {"updated_at": pl.coalesce(pl.col("_ts_bad"), _stamp("updated_at", source))}
    if "created_at" in columns:
        updates["created_at"] = pl.coalesce(pl.col("_created_bad"), _stamp("created_at", source))
    yes, no = BOOLEAN_STYLE.get(source, ("true", "false"))
    for c in ("consent_email", "consent_sms", "consent_post"):
        if c in columns:
            updates[c] = pl.col(c).replace({"true": yes, "false": no})
    return out.with_columns(**updates).select(columns)


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt.startswith("parquet"):
        frame.write_parquet(path, compression="zstd", statistics=False)
    elif fmt == "csv_gz":
        frame.write_csv(path, compression="gzip", compression_level=3)
    else:
        frame.write_csv(path, include_bom=fmt == "csv_bom")


def _older_versions(
    frame: pl.DataFrame, feed: str, changed: pl.Series, rng: np.random.Generator
) -> pl.DataFrame:
    """The superseded snapshot version of rows a delta re-sends: earlier, sometimes different."""
    n = frame.height
    back = pl.Series(rng.integers(86400, 200 * 86400, n) * 1_000_000).cast(pl.Duration("us"))
    differs = pl.lit(pl.Series(rng.random(n) < 0.6)) & pl.lit(changed)
    col = MUTABLE[feed][int(rng.integers(0, len(MUTABLE[feed])))] if feed in MUTABLE else None
    updates = {
        "updated_at": pl.when(pl.lit(changed))
        .then(pl.col("updated_at") - back)
        .otherwise("updated_at")
    }
    if col is not None and col in frame.columns:
        updates[col] = pl.when(differs).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col(col))
    return frame.with_columns(**updates)


def write_feed(
    frame: pl.DataFrame, feed: str, out_dir: Path, rng: np.random.Generator
) -> list[str]:
    """Write one feed folder; returns the written file names."""
    folder = out_dir / feed
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    rows = 0
    sources = frame["_src"].to_numpy()
    for source in ("BSS", "ESHOP", "LEGACY_CRM", "PARTNER_PORTAL", "MARKETING"):
        rows_of_source = np.flatnonzero(sources == source)
        if len(rows_of_source) == 0:
            continue
        sub = frame[rng.permutation(rows_of_source)]  # file order says nothing about the party
        fmt, ext = FORMAT[source], EXTENSION[FORMAT[source]]
        stem = source.lower()
        if source in DELTA_SOURCES.get(feed, ()):
            u = rng.random(sub.height)
            clean_ts = sub["_ts_bad"].is_null().to_numpy()
            changed = clean_ts & (u < 0.08)
            new = clean_ts & (u >= 0.08) & (u < 0.10)
            delta = sub.filter(pl.Series(changed | new))
            sub = _older_versions(sub, feed, pl.Series(changed), rng).filter(pl.Series(~new))
            name = f"{stem}_{feed}_delta_{DELTA_DAY}.{ext}"
            _write(_render(delta, feed, source), folder / name, fmt)
            written.append(name)
            rows += delta.height
        rendered = _render(sub, feed, source)
        if (feed, source) in SPLIT_SNAPSHOT and rendered.height > 1:
            half = rendered.height // 2
            parts = [
                (f"{stem}_{feed}_full_{SNAPSHOT_DAY}_part{i + 1}.{ext}", p)
                for i, p in enumerate((rendered.head(half), rendered.slice(half)))
            ]
        else:
            parts = [(f"{stem}_{feed}_full_{SNAPSHOT_DAY}.{ext}", rendered)]
        for name, part in parts:
            _write(part, folder / name, fmt)
            written.append(name)
            rows += part.height
    log.info("wrote %s: %d rows in %d files", feed, rows, len(written))
    return rows
