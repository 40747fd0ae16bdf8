"""Candidate pairs: several blocking rules, OR-combined, each a polars self-join on its keys."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from crm_pipelines.match.settings import BlockingRule

log = logging.getLogger(__name__)

PAIR_SCHEMA = {"l": pl.UInt32, "r": pl.UInt32, "rule": pl.String}
# one 64-bit id per (l < r) pair
PAIR_ID = pl.col("l").cast(pl.UInt64) * (1 << 32) + pl.col("r").cast(pl.UInt64)


def not_yet_paired(extra: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Rows of the (few) extra pairs not among `pairs` (both l < r), hashing only the few."""
    extra_ids = extra.select(PAIR_ID).to_series()
    known = pairs.filter(PAIR_ID.is_in(extra_ids.implode())).select(PAIR_ID).to_series()
    return extra.filter(~extra_ids.is_in(known.implode()))


def block_rule(
    features: pl.DataFrame, rule: str, keys: list[str], max_block_size: int
) -> pl.DataFrame:
    """Pairs (l < r) of rows sharing every key; blocks above max_block_size are skipped."""
    missing = [k for k in keys if k not in features.columns]
    if missing:
        raise KeyError(f"blocking rule {rule}: unknown feature columns {missing}")
    # one 64-bit hash per key tuple: joins on an integer instead of several strings (a rare
    # hash collision only adds a candidate pair, which scoring then rejects)
    keyed = features.select("rid", *keys)
    # a list feature (the building keys a record owns) blocks on each of its values
    listed = [k for k in keys if isinstance(features.schema[k], pl.List)]
    for k in listed:
        keyed = keyed.explode(k)
    keyed = keyed.drop_nulls(keys)
    keyed = keyed.select("rid", pl.struct(keys).hash(seed=7).alias("_k"))
    keyed = keyed.with_columns(pl.len().over("_k").alias("_n"))
    oversized = keyed.filter(pl.col("_n") > max_block_size)
    if oversized.height:
        example = features["rid"].gather(oversized["rid"].head(1))
        log.warning(
            "blocking rule %s: skipped %d blocks larger than %d (%d records), e.g. %s",
            rule,
            oversized["_k"].n_unique(),
            max_block_size,
            oversized.height,
            features.select(keys).gather(example).row(0),
        )
    keyed = keyed.filter((pl.col("_n") > 1) & (pl.col("_n") <= max_block_size)).drop("_n")
    pairs = (
        keyed.join(keyed, on="_k", suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .select(
            pl.col("rid").cast(pl.UInt32).alias("l"), pl.col("rid_r").cast(pl.UInt32).alias("r")
        )
    )
    if listed:  # two records sharing two values meet twice
        pairs = pairs.unique(["l", "r"])
    return pairs


def candidate_pairs(
    features: pl.DataFrame, rules: Sequence[BlockingRule]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Distinct pairs (l, r, rule = first rule that found it) and the pair count per rule."""
    per_rule = [block_rule(features, r.rule, list(r.keys), r.max_block_size) for r in rules]
    counts = {r.rule: p.height for r, p in zip(rules, per_rule, strict=True)}
    if not per_rule:
        return pl.DataFrame(schema=PAIR_SCHEMA), counts
    # the rule as a small index while the pairs of all rules (54M at 1M customers, most
    # found by several rules) are deduplicated, named only on the distinct pairs
    pairs = pl.concat(
        p.with_columns(pl.lit(i, dtype=pl.UInt8).alias("_rule")) for i, p in enumerate(per_rule)
    )
    del per_rule
    pairs = pairs.filter(PAIR_ID.is_first_distinct())
    names = pl.Series([r.rule for r in rules], dtype=pl.String)
    return pairs.select("l", "r", names.gather(pairs["_rule"]).alias("rule")), counts
