"""Pair-level building blocks every comparison shares: a side's column, missing, the level,
a column's similarity.

A candidate pair frame carries each feature twice, `<name>_l` and `<name>_r`; a comparison
turns them into a small level code (0 = missing, 1 = different, higher = closer).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from crm_pipelines.match.encode import Encoded
from crm_pipelines.match.similarity import JW, code_similarity


def left(name: str) -> pl.Expr:
    return pl.col(f"{name}_l")


def right(name: str) -> pl.Expr:
    return pl.col(f"{name}_r")


def missing(name: str) -> pl.Expr:
    return left(name).is_null() | right(name).is_null()


def pair_levels(p: pl.DataFrame, conditions: list[pl.Expr], absent: pl.Expr) -> pl.Series:
    """Level = 0 when absent, else the first true condition counted from the top level down."""
    top = len(conditions) + 1
    expr = pl.when(absent).then(pl.lit(0, dtype=pl.Int8))
    for i, cond in enumerate(conditions):
        expr = expr.when(cond.fill_null(False)).then(pl.lit(top - i, dtype=pl.Int8))
    return p.select(expr.otherwise(pl.lit(1, dtype=pl.Int8))).to_series()


def column_similarity(
    p: pl.DataFrame, enc: Encoded, column: str, scorer: Callable = JW
) -> pl.Series:
    """A coded column's two sides scored by `scorer`, once per distinct pair of codes."""
    return code_similarity(p[f"{column}_l"], p[f"{column}_r"], enc.text(column), scorer)
