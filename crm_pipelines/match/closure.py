"""Vetoes across chains: records a chain of MATCH edges put in one cluster are checked
against each other even where no blocking rule paired them.

A son's record (born 1977) and a bare record of his name at his building match; so do the
bare record and his father's record (born 1945) with a misspelt surname that no name block
shares with the son. The son and the father were never compared, so their birth dates never
vetoed the chain. Here the pairs inside each cluster are compared on the fields
the across_chains vetoes read (facts that never differ within one party: birth date, ids,
house number -- not contacts, which a party collects and a chain legitimately bridges); a
vetoed pair becomes a cannot-link and the cluster is rebuilt. Only pairs no blocking rule
paired are checked: a scored pair's vetoes decided it already (a cannot-link, or outranked
by a steward MATCH or holder link). A veto marked chains_only holds only there: a pair the
model scored was weighed on all its evidence, a chain-joined pair on none -- unless
one of the two has a MATCH edge to a record holding the other's very value (a birth date
mistyped in one system, MATCHed by the model against the correct date, conflicts with every
other record of that date: the difference was weighed on that edge, it is no new fact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from crm_pipelines.match.blocking import not_yet_paired
from crm_pipelines.match.clustering import connected_components
from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for
from crm_pipelines.match.decisions import veto_expr
from crm_pipelines.match.encode import Encoded

if TYPE_CHECKING:
    from crm_pipelines.match.settings import Veto


def pairs_in_clusters(
    labels: np.ndarray, holds_value: np.ndarray, max_cluster_size: int
) -> pl.DataFrame:
    """l < r pairs of records in one cluster (up to the size cap) that both hold a value a
    chain veto reads -- a record without one can conflict with nobody. Clusters of two are
    left out: their one pair is the MATCH edge that joined them, scored already."""
    members = (
        pl.DataFrame(
            {
                "rid": np.arange(len(labels), dtype=np.uint32),
                "label": labels,
                "holds": holds_value,
            }
        )
        .filter(pl.len().over("label").is_between(3, max_cluster_size))
        .filter("holds")
        .filter(pl.len().over("label") >= 2)
    )
    return (
        members.join(members, on="label", suffix="_r")
        .filter(pl.col("rid") < pl.col("rid_r"))
        .select(pl.col("rid").alias("l"), pl.col("rid_r").alias("r"))
    )


def scoring_vetoes(vetoes: Sequence[Veto]) -> list[Veto]:
    """The vetoes a scored pair is judged by (all but the chains_only ones)."""
    return [v for v in vetoes if not v.chains_only]


def _chain_vetoes(vetoes: Sequence[Veto]) -> tuple[list[Veto], list[str]]:
    """The across_chains and chains_only vetoes and the fields they read."""
    chained = [v for v in vetoes if v.across_chains or v.chains_only]
    read = sorted({f for v in chained for f in v.fields})
    return chained, read


def holds_chain_value(
    chain_codes: Encoded, features: pl.DataFrame, vetoes: Sequence[Veto]
) -> np.ndarray:
    """Per record: whether any field an across_chains veto reads has a value."""
    read = _chain_vetoes(vetoes)[1]
    columns = [
        frame[c]
        for f in read
        for c in COMPARISONS[f].columns
        for frame in (chain_codes.codes, features)
        if c in frame.columns
    ]
    if not columns:
        return np.zeros(features.height, dtype=bool)
    return pl.select(pl.any_horizontal([c.is_not_null() for c in columns])).to_series().to_numpy()


def codes_for_chain_vetoes(enc: Encoded, vetoes: Sequence[Veto]) -> Encoded:
    """The part of the pair codes the across_chains vetoes read: kept past scoring instead
    of every compared column (at 1M persons the whole set was ~0.4 GiB of peak)."""
    read = _chain_vetoes(vetoes)[1]
    columns = [c for f in read for c in COMPARISONS[f].columns if c in enc.codes.columns]
    groups = {c: g for c, g in enc.groups.items() if c in columns}
    dictionaries = {g: enc.dictionaries[g] for g in set(groups.values())}
    return Encoded(enc.codes.select(columns), dictionaries, groups)


def vetoed_across_chains(
    enc: Encoded,
    features: pl.DataFrame,
    unscored: pl.DataFrame,
    fields: list[str],
    vetoes: Sequence[Veto],
    scored: pl.DataFrame,
) -> pl.DataFrame:
    """The pairs (l, r) inside clusters, never scored, that a veto marked across_chains or
    chains_only keeps apart (a scored pair's vetoes decided it already: a cannot-link, or
    outranked by a steward MATCH or holder link).

    enc: codes_for_chain_vetoes of the compared fields; features: the columns of veto-only
    fields; scored: the scored pairs, whose MATCH edges may have weighed a chains_only
    veto's difference already (_unweighed)."""
    vetoes, read = _chain_vetoes(vetoes)
    if unscored.height == 0 or not read:
        return unscored.clear()
    compared = [f for f in read if f in fields]
    levels = _chain_levels(enc, features, unscored, compared, read)
    vetoed = unscored.filter(levels.select(veto_expr(scoring_vetoes(vetoes))).to_series())
    chain_only = [v for v in vetoes if v.chains_only]
    if not chain_only:
        return vetoed
    held = unscored.filter(levels.select(veto_expr(chain_only)).to_series())
    read_by_chain_only = sorted({f for v in chain_only for f in v.when} & set(compared))
    held = _unweighed(held, scored, enc, read_by_chain_only)
    return pl.concat([vetoed, held]).unique(["l", "r"], maintain_order=True)


def _chain_levels(
    enc: Encoded, features: pl.DataFrame, pairs: pl.DataFrame, compared: list[str], read: list[str]
) -> pl.DataFrame:
    """level_<field> of the (few) pairs for every field read: only the records they name are
    coded and compared (at 1M persons, coding every record's veto-only fields cost 2 s for
    60k pairs)."""
    rows = pl.concat([pairs["l"], pairs["r"]]).unique().sort()
    local = pairs.select(
        pl.Series("l", np.searchsorted(rows.to_numpy(), pairs["l"].to_numpy()), pl.UInt32),
        pl.Series("r", np.searchsorted(rows.to_numpy(), pairs["r"].to_numpy()), pl.UInt32),
    )
    few = Encoded(enc.codes[rows], enc.dictionaries, enc.groups)
    levels = compare_pairs(few, local, compared) if compared else pl.DataFrame()
    veto_only = [f for f in read if f not in compared]
    if veto_only:
        coded = encode_for(features[rows], veto_only)
        levels = levels.hstack(compare_pairs(coded, local, veto_only))
    return levels.rename({f: f"level_{f}" for f in levels.columns})


def _unweighed(
    held: pl.DataFrame, scored: pl.DataFrame, enc: Encoded, fields: list[str]
) -> pl.DataFrame:
    """The held pairs (l, r) whose conflict no MATCH edge weighed: drops those where l (or r)
    MATCHes a record x that holds r's (l's) values on every field the veto found apart --
    l against x was scored on that very difference."""
    columns = [c for f in fields for c in COMPARISONS[f].columns if c in enc.codes.columns]
    if not columns or held.height == 0:
        return held
    matched = scored.lazy().filter(pl.col("decision").is_in(["MATCH", "STEWARD_MATCH"]))
    edges = pl.concat(
        [
            matched.select(pl.col("l").alias("a"), pl.col("r").alias("x")),
            matched.select(pl.col("r").alias("a"), pl.col("l").alias("x")),
        ]
    )
    ends = held.lazy().with_row_index("pair")
    sides = pl.concat(
        [
            ends.select("pair", pl.col("l").alias("a"), pl.col("r").alias("b")),
            ends.select("pair", pl.col("r").alias("a"), pl.col("l").alias("b")),
        ]
    )
    triples = sides.join(edges, on="a").select("pair", "x", "b").collect()
    same = pl.Series(np.ones(triples.height, dtype=bool))
    for c in columns:
        codes = enc.codes[c]
        same &= (codes.gather(triples["x"]) == codes.gather(triples["b"])).fill_null(False)
    weighed = triples.filter(same)["pair"].unique()
    return held.with_row_index("pair").filter(~pl.col("pair").is_in(weighed.implode())).drop("pair")


def chain_cannot_links(
    labels: np.ndarray,
    scored: pl.DataFrame,
    chain_codes: Encoded,
    features: pl.DataFrame,
    fields: list[str],
    vetoes: Sequence[Veto],
    max_cluster_size: int,
) -> tuple[pl.DataFrame, int]:
    """Pairs (l, r) inside clusters that an across_chains veto keeps apart, and how many pairs
    were checked (those no blocking rule paired: at 1M persons 4.9M pairs inside clusters,
    nearly all of them scored). A steward MATCH or holder link -- on the pair or through a
    chain of them -- outranks the veto: those pairs are left out (the steward's ruling
    stands)."""
    inside = pairs_in_clusters(
        labels, holds_chain_value(chain_codes, features, vetoes), max_cluster_size
    )
    ends = scored.select("l", "r")
    together = labels[ends["l"].to_numpy()] == labels[ends["r"].to_numpy()]
    unscored = not_yet_paired(inside, ends.filter(pl.Series(together)))
    across = vetoed_across_chains(chain_codes, features, unscored, fields, vetoes, scored)
    if across.height:
        ruled = (
            scored.lazy()
            .filter((pl.col("decision") == "STEWARD_MATCH") | pl.col("forced"))
            .select("l", "r")
            .collect()
        )
        ruling = connected_components(len(labels), ruled["l"].to_numpy(), ruled["r"].to_numpy())
        joined = ruling[across["l"].to_numpy()] == ruling[across["r"].to_numpy()]
        across = across.filter(pl.Series(~joined))
    return across, unscored.height
