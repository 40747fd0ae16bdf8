"""Code tables from quality_rules/code_tables.yaml: canonical codes plus per-source aliases."""

from __future__ import annotations

from functools import cache

import polars as pl

from crm_pipelines.paths import quality_rules


@cache
def code_tables() -> dict[str, dict]:
    return quality_rules("code_tables.yaml")


@cache
def _lookup(table: str) -> pl.DataFrame:
    """(source_system or '*', UPPER(code or alias)) -> canonical code."""
    spec = code_tables()[table]
    rows = [("*", str(code).strip().upper(), str(code)) for code in spec["codes"]]
    for source, aliases in (spec.get("aliases") or {}).items():
        rows += [(source, str(a).strip().upper(), str(c)) for a, c in (aliases or {}).items()]
    return pl.DataFrame(
        rows, schema={"__src": pl.String, "__up": pl.String, "__code": pl.String}, orient="row"
    ).unique(subset=["__src", "__up"], keep="first")


def canonical_codes(values: pl.Series, sources: pl.Series | None, table: str) -> pl.Series:
    """Canonical code per value, null when the value is unknown (or null).

    Looked up once per distinct (source, value) -- a feed holds a handful -- then joined
    back to the rows."""
    lookup = _lookup(table)
    frame = pl.DataFrame(
        {
            "__src": sources
            if sources is not None
            else pl.Series([None] * len(values), dtype=pl.String),
            "__up": values.str.strip_chars().str.to_uppercase(),
        }
    )
    generic = lookup.filter(pl.col("__src") == "*").select(
        "__up", pl.col("__code").alias("__generic")
    )
    codes = (
        frame.unique()
        .join(lookup, on=["__src", "__up"], how="left")
        .join(generic, on="__up", how="left")
        .select("__src", "__up", pl.coalesce("__code", "__generic").alias("__canonical"))
    )
    out = frame.join(
        codes, on=["__src", "__up"], how="left", maintain_order="left", nulls_equal=True
    )
    return out["__canonical"].alias(values.name)


def codes_of(table: str) -> list[str]:
    return [str(c) for c in code_tables()[table]["codes"]]
