"""rapidfuzz scores for pairs of values, computed once per distinct pair of differing values.

`process.cpdist` scores the distinct pairs in one batch call (all cores); equal values
need no call at all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

JW = distance.JaroWinkler.normalized_similarity
OSA = distance.OSA.distance
PERCENT_SCORERS = (fuzz.token_sort_ratio, fuzz.token_set_ratio, fuzz.ratio)


def _scores(a: list[str], b: list[str], scorer: Callable) -> np.ndarray:
    scores = process.cpdist(a, b, scorer=scorer, workers=-1, dtype="float32")
    return scores / 100.0 if scorer in PERCENT_SCORERS else scores


def similarity(left: pl.Series, right: pl.Series, scorer: Callable = JW) -> pl.Series:
    """Similarity of two string columns per row (equal: 1, or 0 for a distance; null: null)."""
    frame = pl.DataFrame({"a": left, "b": right})
    distinct = frame.drop_nulls().filter(pl.col("a") != pl.col("b")).unique()
    distinct = distinct.with_columns(
        pl.Series("s", _scores(distinct["a"].to_list(), distinct["b"].to_list(), scorer))
    )
    equal = 0.0 if scorer is OSA else 1.0
    out = frame.join(distinct, on=["a", "b"], how="left", maintain_order="left")
    return out.select(
        pl.when(pl.col("a") == pl.col("b")).then(pl.lit(equal, pl.Float32)).otherwise(pl.col("s"))
    ).to_series()


def code_similarity(
    left: pl.Series,
    right: pl.Series,
    text: pl.Series,
    scorer: Callable = JW,
    max_length_gap: int | None = None,
) -> pl.Series:
    """Like `similarity`, for coded columns: texts looked up once per distinct code pair.

    A code pair travels as one u64 (left code in the high half): finding the distinct pairs
    and joining their scores back hash one integer column instead of two."""
    pair = (left.cast(pl.UInt64) * (1 << 32) + right.cast(pl.UInt64)).alias("pair")
    differ = (left != right).fill_null(False)
    distinct = pair.filter(differ).unique().to_frame()
    a = (distinct["pair"] // (1 << 32)).cast(pl.UInt32)
    b = (distinct["pair"] % (1 << 32)).cast(pl.UInt32)
    if max_length_gap is not None:  # a typo keeps the length: skip hopeless pairs
        lengths = text.str.len_chars().cast(pl.Int64)  # (unsigned: 5 - 7 would wrap)
        near = (lengths.gather(a) - lengths.gather(b)).abs() <= max_length_gap
        distinct, a, b = distinct.filter(near), a.filter(near), b.filter(near)
    scores = _scores(text.gather(a).to_list(), text.gather(b).to_list(), scorer)
    distinct = distinct.with_columns(pl.Series("s", scores))
    equal = 0.0 if scorer is OSA else 1.0
    out = pair.to_frame().join(distinct, on="pair", how="left", maintain_order="left")
    return out.select(
        pl.when(left == right).then(pl.lit(equal, pl.Float32)).otherwise(pl.col("s"))
    ).to_series()
