"""Ambiguous attachments: a record that two provably different records could each absorb.

A bare record (name + building, nothing else) matches the father and the son of one name
at one address equally well; whichever edge is stronger would silently decide. When a
record has MATCH edges to two records kept apart (vetoed or steward NO_MATCH), neither
edge is auto-merged: both go to review. Two records kept apart only by a contact conflict
(another phone at one building) are no such pair: a party's numbers and mailboxes change
and older systems keep the old ones, so a record meeting both is no riddle (on feeds
another program wrote this halved the review queues at no cost in wrong merges).
Nor is a record whose evidence for one side outweighs that for the other by the decisive
margin (a record with the father's birth date, name and building against the son's name and
building): it joins the stronger side, and only the weaker edge goes to review.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.match.decisions import demote_to_review

AMBIGUOUS_NOTE = "ambiguous: also matches a record kept apart from this one"


def demote_ambiguous_attachments(
    scored: pl.DataFrame, decisive_margin: float, only_apart: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, int]:
    """scored with such MATCH edges turned into REVIEW (with a `note`); and their count.

    scored: l < r, decision, note, veto, forced (steward and holder-link decisions are kept),
    log2_odds. decisive_margin: log2 odds by which one edge of a wedge must beat the other
    to keep its MATCH.
    only_apart: when given, the l < r pairs kept apart after a first pass over `scored`
    (vetoed across a chain, never scored): the wedges the scored pairs kept apart were
    demoted by that pass already, so only these pairs are looked at (at 1M customers the
    full second pass cost 5 s).
    """
    if only_apart is not None:
        apart = only_apart.select(pl.col("l").alias("a"), pl.col("r").alias("b"))
    else:
        apart = _kept_apart(scored)
    if apart.height == 0:
        return scored, 0
    edges = _edges_to_demote(_wedges(scored, apart), decisive_margin)
    if edges.len() == 0:
        return scored, 0
    demoted = np.zeros(scored.height, dtype=bool)
    demoted[edges.to_numpy()] = True
    return demote_to_review(scored, pl.lit(pl.Series(demoted)), AMBIGUOUS_NOTE)


def _kept_apart(scored: pl.DataFrame) -> pl.DataFrame:
    """(a, b): pairs a steward NO_MATCH or an identity veto keeps apart."""
    # (lazy: only the columns read are filtered, not every scored column)
    return (
        scored.lazy()
        .filter(
            (pl.col("decision") == "STEWARD_NO_MATCH")
            | ((pl.col("decision") == "NO_MATCH") & pl.col("veto") & pl.col("veto_identity"))
        )
        .select(pl.col("l").alias("a"), pl.col("r").alias("b"))
        .collect()
    )


def _wedges(scored: pl.DataFrame, apart: pl.DataFrame) -> pl.DataFrame:
    """Two MATCH edges (row `_edge`, `_edge_2`, their log2_odds) from one record x to two
    records kept apart from each other (other < other_2)."""
    kept_apart = pl.concat([apart["a"], apart["b"]]).unique().implode()
    matched = (
        scored.lazy()
        .with_row_index("_edge")
        .filter((pl.col("decision") == "MATCH") & ~pl.col("forced"))
        .select("_edge", "l", "r", "log2_odds")
        .collect()
    )
    ends = pl.concat(
        [
            matched.select(
                "_edge", pl.col("l").alias("x"), pl.col("r").alias("other"), "log2_odds"
            ),
            matched.select(
                "_edge", pl.col("r").alias("x"), pl.col("l").alias("other"), "log2_odds"
            ),
        ]
    ).filter(pl.col("other").is_in(kept_apart))
    return (
        ends.join(ends, on="x", suffix="_2")
        .filter(pl.col("other") < pl.col("other_2"))
        .join(apart, left_on=["other", "other_2"], right_on=["a", "b"], how="semi")
    )


def _edges_to_demote(wedges: pl.DataFrame, decisive_margin: float) -> pl.Series:
    """The weaker edge of every wedge, and the stronger one too unless it wins by the margin."""
    lead = pl.col("log2_odds") - pl.col("log2_odds_2")
    weaker = wedges.select(pl.when(lead >= 0).then("_edge_2").otherwise("_edge").alias("e"))
    close = wedges.filter(lead.abs() < decisive_margin).select(
        pl.when(lead >= 0).then("_edge").otherwise("_edge_2").alias("e")
    )
    return pl.concat([weaker["e"], close["e"]]).unique()


def named_ambiguity(review: pl.DataFrame) -> pl.Series:
    """The reason with an ambiguous attachment's third record named: the record both sides
    are kept apart from is the far end of the sibling review pair sharing one record."""
    ambiguous = review.with_row_index("__pair").filter(
        pl.col("reason").str.starts_with(AMBIGUOUS_NOTE)
    )
    if ambiguous.height == 0:
        return review["reason"]
    ends = pl.concat(
        [
            ambiguous.select(
                "__pair",
                pl.col("left_record_key").alias("shared"),
                pl.col("right_record_key").alias("far"),
            ),
            ambiguous.select(
                "__pair",
                pl.col("right_record_key").alias("shared"),
                pl.col("left_record_key").alias("far"),
            ),
        ]
    )
    thirds = (
        ends.join(ends, on="shared", suffix="_sibling")
        .filter(pl.col("__pair") != pl.col("__pair_sibling"))
        .group_by("__pair")
        .agg(
            pl.format("{} also matches {}, kept apart from {}", "shared", "far_sibling", "far")
            .unique()
            .sort()
            .str.join(", ")
            .alias("who")
        )
    )
    named = (
        review.with_row_index("__pair")
        .join(thirds, on="__pair", how="left")
        .select(
            pl.when(pl.col("who").is_not_null())
            .then(
                pl.col("reason").str.replace(
                    AMBIGUOUS_NOTE,
                    pl.format("ambiguous: {}", "who"),
                    literal=True,
                )
            )
            .otherwise(pl.col("reason"))
        )
    )
    return named.to_series().alias("reason")
