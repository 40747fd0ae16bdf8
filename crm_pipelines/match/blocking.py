"""Candidate pairs: several blocking rules, OR-combined, each a polars self-join on its keys."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
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
    # one 64-bit hash per key tuple: blocks on an integer instead of several strings (a rare
    # hash collision only adds a candidate pair, which scoring then rejects)
    keyed = features.select("rid", *keys)
    # a list feature (the building keys a record owns) blocks on each of its values
    listed = [k for k in keys if isinstance(features.schema[k], pl.List)]
    for k in listed:
        keyed = keyed.explode(k)
    keyed = keyed.drop_nulls(keys)
    keyed = keyed.select("rid", pl.struct(keys).hash(seed=7).alias("_k"))
    # sorted by key, a block is a run of rows (stable: rids ascending within it)
    keyed = keyed.sort("_k", maintain_order=True)
    block, rid = keyed["_k"].to_numpy(), keyed["rid"].to_numpy()
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]]) if len(block) else []
    sizes = np.diff(np.r_[starts, len(block)]).astype(np.int64)
    oversized = sizes > max_block_size
    if oversized.any():
        example = rid[np.repeat(oversized, sizes)].min()
        log.warning(
            "blocking rule %s: skipped %d blocks larger than %d (%d records), e.g. %s",
            rule,
            int(oversized.sum()),
            max_block_size,
            int(sizes[oversized].sum()),
            features.select(keys).row(int(example)),
        )
    kept = (sizes > 1) & ~oversized
    left, right = _pairs_within(rid[np.repeat(kept, sizes)], sizes[kept])
    pairs = pl.DataFrame(
        {"l": pl.Series(left, dtype=pl.UInt32), "r": pl.Series(right, dtype=pl.UInt32)}
    )
    if listed:  # two records sharing two values meet twice
        # deduplicated as one u64 per pair: hashing two columns cost 1.5 s a rule at 1M
        pair = pairs.select(PAIR_ID).to_series().unique()
        pairs = pl.DataFrame(
            {"l": (pair // (1 << 32)).cast(pl.UInt32), "r": (pair % (1 << 32)).cast(pl.UInt32)}
        )
    return pairs


def _pairs_within(rids: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (earlier, later) pair of rows within each run of `sizes` consecutive rids:
    the self-join of the blocks, without the n^2 rows a join makes before keeping l < r.

    Row i pairs with row i + d wherever both lie in one run, for each offset d below the
    largest run (blocks are capped small): a few passes over the rows instead of building
    per-pair index arrays (repeat / cumsum over every pair: seconds at 1M customers)."""
    if len(sizes) == 0:
        return rids[:0], rids[:0]
    run = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    lefts, rights = [], []
    for offset in range(1, int(sizes.max())):
        left = np.flatnonzero(run[offset:] == run[:-offset])
        lefts.append(rids[left])
        rights.append(rids[left + offset])
    if not lefts:
        return rids[:0], rids[:0]
    return np.concatenate(lefts), np.concatenate(rights)


def candidate_pairs(
    features: pl.DataFrame, rules: Sequence[BlockingRule]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Distinct pairs (l, r, rule = first rule that found it) and the pair count per rule."""
    per_rule = [block_rule(features, r.rule, list(r.keys), r.max_block_size) for r in rules]
    counts = {r.rule: p.height for r, p in zip(rules, per_rule, strict=True)}
    if not per_rule:
        return pl.DataFrame(schema=PAIR_SCHEMA), counts
    names = pl.Series([r.rule for r in rules], dtype=pl.String)
    n, width = features.height, 1 << max(1, (len(rules) - 1).bit_length())
    if n * n * width >= 1 << 64:  # too many records to pack a pair and its rule in 64 bits
        return _first_rule_hashed(per_rule, names), counts
    # one u64 per (pair, rule index): sorted, the rows of a pair are adjacent and its first
    # rule comes first -- the pairs of all rules (45M at 1M customers, most found by several
    # rules) deduplicated by a sort, not a hash table (a third of the time)
    packed = (
        pl.concat(
            p.select(
                (pl.col("l").cast(pl.UInt64) * n + pl.col("r").cast(pl.UInt64)) * width + i
            ).to_series()
            for i, p in enumerate(per_rule)
        )
        .sort()
        .to_frame("packed")
    )
    del per_rule
    pair = pl.col("packed") // width
    first = packed.filter(pair.ne_missing(pair.shift(1)))
    return first.select(
        (pair // n).cast(pl.UInt32).alias("l"),
        (pair % n).cast(pl.UInt32).alias("r"),
        names.gather(first["packed"] % width).alias("rule"),
    ), counts


def _first_rule_hashed(per_rule: list[pl.DataFrame], names: pl.Series) -> pl.DataFrame:
    """Distinct pairs with their first rule, deduplicated by hashing the pair ids."""
    pairs = pl.concat(
        p.with_columns(pl.lit(i, dtype=pl.UInt8).alias("_rule")) for i, p in enumerate(per_rule)
    )
    pairs = pairs.filter(PAIR_ID.is_first_distinct())
    return pairs.select("l", "r", names.gather(pairs["_rule"]).alias("rule"))
