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
    if edges.height == 0:
        return scored, 0
    demoted = np.zeros(scored.height, dtype=bool)
    demoted[edges["e"].to_numpy()] = True
    scored, count = demote_to_review(scored, pl.lit(pl.Series(demoted)), AMBIGUOUS_NOTE)
    return _with_thirds(scored, edges), count


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


def _edges_to_demote(wedges: pl.DataFrame, decisive_margin: float) -> pl.DataFrame:
    """(e, x, third): the weaker edge of every wedge, and the stronger one too unless it wins
    by the margin -- each with its shared record x and the record its other end is kept
    apart from (one per edge: the lowest)."""
    lead = pl.col("log2_odds") - pl.col("log2_odds_2")

    def edge(stronger: bool) -> list[pl.Expr]:
        first = (lead >= 0) if stronger else (lead < 0)
        return [
            pl.when(first).then("_edge").otherwise("_edge_2").alias("e"),
            pl.col("x"),
            pl.when(first).then("other_2").otherwise("other").alias("third"),
        ]

    weaker = wedges.select(edge(stronger=False))
    close = wedges.filter(lead.abs() < decisive_margin).select(edge(stronger=True))
    return pl.concat([weaker, close]).sort("e", "third").unique("e", keep="first")


THIRD_COLUMNS = ("ambiguous_x", "ambiguous_third")


def _with_thirds(scored: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """`ambiguous_x` / `ambiguous_third` (record rows, null elsewhere): the record an edge
    was demoted at and the record its other end is kept apart from, for the steward's
    reason (a first pass's values are kept where a second pass names none)."""
    rows = edges["e"].cast(pl.Int64)
    columns = []
    for name, source in zip(THIRD_COLUMNS, ("x", "third"), strict=True):
        if name in scored.columns:
            base = scored[name]
        else:
            base = pl.repeat(None, scored.height, dtype=pl.UInt32, eager=True).alias(name)
        columns.append(base.scatter(rows, edges[source].cast(pl.UInt32)).alias(name))
    return scored.with_columns(columns)


def name_the_third(reason: pl.Expr, keys: pl.Series) -> list[pl.Expr]:
    """An ambiguous attachment's reason with its records named ("ambiguous: A|bare also
    matches B|father, kept apart from C|son"), from the pair (l, r) and the THIRD_COLUMNS;
    keys: record_key per record row."""
    x, third = pl.col("ambiguous_x"), pl.col("ambiguous_third")
    far = pl.when(x == pl.col("l")).then(pl.col("r")).otherwise(pl.col("l"))

    def key(row: pl.Expr) -> pl.Expr:
        return pl.lit(keys).gather(row)

    named = pl.format(
        "ambiguous: {} also matches {}, kept apart from {}", key(x), key(third), key(far)
    )
    return [
        pl.when(x.is_not_null())
        .then(reason.str.replace(AMBIGUOUS_NOTE, named, literal=True))
        .otherwise(reason)
        .alias("reason")
    ]
