"""Steward decisions: which one is in force per pair, which can be applied, and whether the
clusters honour them.

feeds.md (steward_decision): a decision is identified by its entity and its pair of records
in either order; when a pair is decided more than once, the latest `decided_at` wins (a
steward may reverse a decision). A MATCH is applied whatever the vetoes say; a NO_MATCH is
never crossed, not even by a chain. What cannot be applied -- a record nobody knows, a record
paired with itself, a MATCH that a chain of MATCH decisions would carry across a NO_MATCH --
is named (file, line) so the steward sees the ruling was not carried out.

Validation reports these as findings (validate/decision_rules.py); matching applies only
the APPLICABLE decisions, so both always agree on what a decision file means.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from crm_pipelines.match.clustering import cluster, connected_components

log = logging.getLogger(__name__)

APPLICABLE = "APPLICABLE"
SUPERSEDED = "SUPERSEDED"  # a later decision on the same pair overrules it: not a problem
UNKNOWN_RECORD = "UNKNOWN_RECORD"
SELF_PAIR = "SELF_PAIR"
CONTRADICTED = "CONTRADICTED"
NOT_APPLIED = (UNKNOWN_RECORD, SELF_PAIR, CONTRADICTED)

UTC_TS = pl.Datetime("us", "UTC")
DECISION_COLUMNS: dict[str, pl.DataType | type[pl.DataType]] = {
    "entity": pl.String,
    "left_record_key": pl.String,
    "right_record_key": pl.String,
    "decision": pl.String,
    "decided_at": UTC_TS,
    "updated_at": UTC_TS,
    "file": pl.String,
    "line": pl.Int64,
}


def _where(prefix: str = "") -> pl.Expr:
    """ "decisions/x.csv line 4": where a decision row is, for a steward's message."""
    return pl.format("{} line {}", pl.col(f"{prefix}file"), pl.col(f"{prefix}line"))


def _typed(decisions: pl.DataFrame) -> pl.DataFrame:
    """The columns resolution reads (hand-built frames may lack the audit ones), a row
    number, and the pair in either order."""
    present = set(decisions.columns)
    return decisions.select(
        [
            (pl.col(c) if c in present else pl.lit(None)).cast(dtype).alias(c)
            for c, dtype in DECISION_COLUMNS.items()
        ]
    ).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("decision_no"),
        pl.min_horizontal("left_record_key", "right_record_key").alias("first_key"),
        pl.max_horizontal("left_record_key", "right_record_key").alias("second_key"),
    )


def _latest_per_pair(candidates: pl.DataFrame) -> pl.Series:
    """decision_no of the decision in force per entity and pair: the latest decided_at
    (no decided_at = oldest), then updated_at, the later file, the later line."""
    return (
        candidates.sort("decided_at", "updated_at", "file", "line", "decision_no", nulls_last=False)
        .unique(["entity", "first_key", "second_key"], keep="last", maintain_order=True)
        .get_column("decision_no")
    )


def _contradicted(in_force: pl.DataFrame) -> pl.DataFrame:
    """MATCH decisions (decision_no, problem) that a chain of MATCH decisions would carry
    across a NO_MATCH pair. NO_MATCH holds; among the MATCH decisions the later ones are
    applied first, so the one left out is the one closing the forbidden join."""
    nodes = (
        pl.concat(
            [
                in_force.select("entity", pl.col("first_key").alias("key")),
                in_force.select("entity", pl.col("second_key").alias("key")),
            ]
        )
        .unique()
        .sort("entity", "key")
        .with_row_index("node")
    )
    indexed = in_force.join(
        nodes.rename({"key": "first_key", "node": "l"}), on=["entity", "first_key"]
    ).join(nodes.rename({"key": "second_key", "node": "r"}), on=["entity", "second_key"])
    matches = indexed.filter(pl.col("decision") == "MATCH")
    apart = indexed.filter(pl.col("decision") == "NO_MATCH")
    if matches.is_empty() or apart.is_empty():
        return pl.DataFrame(schema={"decision_no": pl.UInt32, "problem": pl.String})
    recency = pl.col("decided_at").dt.epoch("us").fill_null(np.iinfo(np.int64).min)
    edges = matches.select("l", "r", recency.cast(pl.Float64).alias("strength"))
    labels, _ = cluster(nodes.height, edges, apart.select("l", "r"), nodes.height + 1)
    chained = connected_components(nodes.height, matches["l"].to_numpy(), matches["r"].to_numpy())
    ends = {name: frame["l"].to_numpy() for name, frame in (("m", matches), ("a", apart))}
    refused = matches.filter(pl.Series(labels[ends["m"]] != labels[matches["r"].to_numpy()]))
    crossed = apart.with_columns(
        pl.Series("chain", chained[ends["a"]]),
        pl.Series("chain_r", chained[apart["r"].to_numpy()]),
    ).filter(pl.col("chain") == pl.col("chain_r"))
    return (
        refused.with_columns(pl.Series("chain", chained[refused["l"].to_numpy()]))
        .join(
            crossed.sort("file", "line")
            .unique("chain", keep="first", maintain_order=True)
            .select("chain", _where().alias("kept_apart_by")),
            on="chain",
            how="left",
        )
        .select(
            "decision_no",
            pl.format(
                "MATCH not applied: with the other MATCH decisions it would join two records "
                "that the NO_MATCH decision at {} keeps apart",
                pl.col("kept_apart_by").fill_null("?"),
            ).alias("problem"),
        )
    )


def resolve_decisions(decisions: pl.DataFrame, known: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every decision row with its `status` (APPLICABLE, SUPERSEDED, UNKNOWN_RECORD,
    SELF_PAIR, CONTRADICTED) and, when it cannot be applied, a `problem` in words.

    known: (entity, record_key) of the records there are; None = every record named exists.
    """
    typed = _typed(decisions)
    self_pair = pl.col("left_record_key") == pl.col("right_record_key")
    missing = pl.lit(False)
    if known is not None:
        known_keys = known.select("entity", "record_key").unique()
        typed = typed.with_columns(
            *[
                typed.select("entity", pl.col(f"{side}_record_key").alias("record_key"))
                .join(
                    known_keys.with_columns(pl.lit(True).alias("k")),
                    on=["entity", "record_key"],
                    how="left",
                )["k"]
                .fill_null(False)
                .alias(f"{side}_known")
                for side in ("left", "right")
            ]
        )
        missing = ~(pl.col("left_known") & pl.col("right_known"))
    usable = typed.filter(~self_pair.fill_null(True) & ~missing)
    in_force = usable.filter(pl.col("decision_no").is_in(_latest_per_pair(usable).implode()))
    contradicted = _contradicted(in_force)
    status = (
        pl.when(self_pair.fill_null(True))
        .then(pl.lit(SELF_PAIR))
        .when(missing)
        .then(pl.lit(UNKNOWN_RECORD))
        .when(pl.col("decision_no").is_in(contradicted["decision_no"].implode()))
        .then(pl.lit(CONTRADICTED))
        .when(pl.col("decision_no").is_in(in_force["decision_no"].implode()))
        .then(pl.lit(APPLICABLE))
        .otherwise(pl.lit(SUPERSEDED))
    )
    problem = (
        pl.when(pl.col("status") == SELF_PAIR)
        .then(pl.lit("the decision pairs a record with itself; ignored"))
        .when(pl.col("status") == UNKNOWN_RECORD)
        .then(
            pl.format(
                "the decision names a {} record matching does not know: {} or {}; ignored",
                "entity",
                "left_record_key",
                "right_record_key",
            )
        )
        .otherwise(pl.col("problem"))
    )
    return (
        typed.with_columns(status.alias("status"))
        .join(contradicted, on="decision_no", how="left")
        .with_columns(problem.alias("problem"))
        .sort("decision_no")
        .drop("decision_no", "left_known", "right_known", strict=False)
    )


def applicable(decisions: pl.DataFrame, entity: str, record_keys: pl.Series) -> pl.DataFrame:
    """The decisions of one entity that matching applies (the one in force per pair, on
    known records, contradicting no other): entity, left/right_record_key, decision."""
    chosen = (
        decisions.filter(pl.col("entity") == entity)
        if "entity" in decisions.columns
        else (decisions.with_columns(pl.lit(entity).alias("entity")))
    )
    # only whether the named records exist matters: not every record key hashed (1M: seconds)
    named = pl.concat([chosen["left_record_key"], chosen["right_record_key"]]).implode()
    known = pl.DataFrame({"record_key": record_keys.filter(record_keys.is_in(named))})
    resolved = resolve_decisions(chosen, known.with_columns(pl.lit(entity).alias("entity")))
    return resolved.filter(pl.col("status") == APPLICABLE).select(
        "entity", "left_record_key", "right_record_key", "decision"
    )


def veto_links_outranked(cannot: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """Cannot-links (l, r) without the vetoed pairs a chain of steward MATCH edges joins:
    a MATCH is applied whatever the vetoes say. Steward NO_MATCH links are always kept."""
    ruled = scored.lazy().filter(pl.col("decision") == "STEWARD_MATCH").select("l", "r").collect()
    if ruled.is_empty() or cannot.is_empty():
        return cannot
    size = int(max(scored["l"].max(), scored["r"].max(), cannot["l"].max(), cannot["r"].max())) + 1
    joined = connected_components(size, ruled["l"].to_numpy(), ruled["r"].to_numpy())
    steward_apart = (
        scored.lazy().filter(pl.col("decision") == "STEWARD_NO_MATCH").select("l", "r").collect()
    )
    outranked = pl.Series(joined[cannot["l"].to_numpy()] == joined[cannot["r"].to_numpy()])
    vetoed = cannot.filter(outranked).join(steward_apart, on=["l", "r"], how="anti")
    return cannot.join(vetoed, on=["l", "r"], how="anti")


def unhonoured(decisions: pl.DataFrame, clusters: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Decision rows whose ruling the clusters do not carry out -- those that could not be
    applied and, as a guard, any APPLICABLE one that still did not hold: entity, pair,
    decision, file, line, problem."""
    known = pl.concat(
        [frame.select(pl.lit(e).alias("entity"), "record_key") for e, frame in clusters.items()]
    )
    resolved = resolve_decisions(decisions, known)
    cluster_of = pl.concat(
        [
            frame.select(pl.lit(e).alias("entity"), "record_key", "cluster_id")
            for e, frame in clusters.items()
        ]
    )
    checked = resolved.join(
        cluster_of.rename({"record_key": "left_record_key", "cluster_id": "left_cluster"}),
        on=["entity", "left_record_key"],
        how="left",
    ).join(
        cluster_of.rename({"record_key": "right_record_key", "cluster_id": "right_cluster"}),
        on=["entity", "right_record_key"],
        how="left",
    )
    together = pl.col("left_cluster") == pl.col("right_cluster")
    broken = (pl.col("status") == APPLICABLE) & (
        ((pl.col("decision") == "MATCH") & ~together)
        | ((pl.col("decision") == "NO_MATCH") & together)
    )
    return checked.filter(pl.col("status").is_in(NOT_APPLIED) | broken).select(
        "entity",
        "left_record_key",
        "right_record_key",
        "decision",
        "file",
        "line",
        "status",
        pl.when(broken)
        .then(pl.lit("the clusters do not carry out this decision"))
        .otherwise(pl.col("problem"))
        .alias("problem"),
    )


def steward_pairs(entity: str, decisions: pl.DataFrame | None, keys: pl.DataFrame) -> pl.DataFrame:
    """Steward decisions as (l, r, steward) on row indices: the one in force per pair, on
    known records, contradicting no other (stewardship.py; validation reports the rest)."""
    empty = pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "steward": pl.String})
    if decisions is None or decisions.height == 0:
        return empty
    chosen = applicable(decisions, entity, keys["record_key"])
    named = pl.concat([chosen["left_record_key"], chosen["right_record_key"]]).implode()
    index = keys.select("record_key", "rid").filter(pl.col("record_key").is_in(named))
    mapped = (
        chosen.select("left_record_key", "right_record_key", "decision")
        .join(
            index.rename({"record_key": "left_record_key", "rid": "a"}),
            on="left_record_key",
            how="left",
        )
        .join(
            index.rename({"record_key": "right_record_key", "rid": "b"}),
            on="right_record_key",
            how="left",
        )
    )
    unknown = mapped.filter(
        pl.col("a").is_null() | pl.col("b").is_null() | (pl.col("a") == pl.col("b"))
    )
    if unknown.height:
        log.warning(
            "%s: ignored %d steward decisions naming unknown records", entity, unknown.height
        )
    known = mapped.filter(
        pl.col("a").is_not_null() & pl.col("b").is_not_null() & (pl.col("a") != pl.col("b"))
    )
    return known.select(
        pl.min_horizontal("a", "b").cast(pl.UInt32).alias("l"),
        pl.max_horizontal("a", "b").cast(pl.UInt32).alias("r"),
        pl.col("decision").alias("steward"),
    ).unique(["l", "r"], keep="last", maintain_order=True)


def decided_record_keys(entity: str, decisions: pl.DataFrame | None) -> pl.Series:
    if decisions is None or decisions.height == 0:
        return pl.Series("record_key", [], dtype=pl.String)
    chosen = decisions
    if "entity" in decisions.columns:
        chosen = decisions.filter(pl.col("entity") == entity)
    return pl.concat([chosen["left_record_key"], chosen["right_record_key"]]).unique()
