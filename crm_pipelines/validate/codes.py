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
    """Canonical code per value, null when the value is unknown (or null)."""
    lookup = _lookup(table)
    frame = pl.DataFrame(
        {
            "__up": values.str.strip_chars().str.to_uppercase(),
            "__src": sources
            if sources is not None
            else pl.Series([None] * len(values), dtype=pl.String),
        }
    ).with_row_index("__i")
    per_source = frame.join(lookup, on=["__src", "__up"], how="left").select("__i", "__code")
    generic = frame.join(
        lookup.filter(pl.col("__src") == "*").drop("__src"), on="__up", how="left"
    ).select("__i", pl.col("__code").alias("__generic"))
    out = (
        per_source.join(generic, on="__i")
        .sort("__i")
        .select(pl.coalesce("__code", "__generic"))
        .to_series()
    )
    return out.alias(values.name)


def codes_of(table: str) -> list[str]:
    return [str(c) for c in code_tables()[table]["codes"]]
