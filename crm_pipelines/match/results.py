"""What a match run hands on: the clusters, the pairs worth explaining, the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from crm_pipelines.match.ambiguity import THIRD_COLUMNS, name_the_third
from crm_pipelines.match.reasons import reason_expr
from crm_pipelines.match.settings import EntitySettings

REVIEW_SCHEMA = {
    "entity": pl.String,
    "left_source_system": pl.String,
    "left_source_id": pl.String,
    "right_source_system": pl.String,
    "right_source_id": pl.String,
    "score": pl.Float64,
    "reason": pl.String,
    "left_record_key": pl.String,
    "right_record_key": pl.String,
    "model_version": pl.String,  # the trained model (model_store) that scored the pair
}


@dataclass
class MatchResult:
    """Clusters (cluster_id = min record_key), scored pairs, review queue and run metrics.

    pairs.score is the posterior match probability 0..1 (log2_odds and the per-field
    log2 Bayes factors w_<field> explain it); level_<field> holds the agreement level codes
    (names in comparisons.COMPARISONS); rule is the first blocking rule that found the pair.
    Clear non-matches (score below settings' pairs_min_score, not steward-decided) are left
    out of `pairs` to keep it small; metrics["pairs_scored"] counts them all.
    """

    entity: str
    clusters: pl.DataFrame
    pairs: pl.DataFrame
    review: pl.DataFrame
    metrics: dict = field(default_factory=dict)


def clusters_of(record_keys: pl.Series, labels: np.ndarray) -> tuple[pl.DataFrame, dict]:
    """(record_key, cluster_id -- the smallest record key of its cluster) and the cluster
    counts of the metrics."""
    clusters = (
        pl.DataFrame({"record_key": record_keys})
        .with_columns(pl.Series("label", labels))
        .with_columns(pl.col("record_key").min().over("label").alias("cluster_id"))
        .select("record_key", "cluster_id")
    )
    sizes = np.bincount(labels)  # a label per cluster_id, so the same sizes
    sizes = sizes[sizes > 0]
    largest = int(sizes.max()) if len(sizes) else 0
    return clusters, {"clusters": len(sizes), "largest_cluster": largest}


def outputs(
    entity: str,
    scored: pl.DataFrame,
    keys: pl.DataFrame,
    fields: list[str],
    min_score: float,
    model_version: str,
    labels: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs worth explaining (not the clear non-matches below min_score) and the review
    queue: REVIEW pairs whose records the clusters (labels, per row index) keep apart. A
    REVIEW pair the other MATCH edges already joined asks nothing a steward's MATCH would
    change (at 20k customers 43% of the person queue); it stays in the pairs."""
    weight_cols = [f"w_{f}" for f in fields]
    level_cols = [f"level_{f}" for f in fields]
    needed = ["l", "r", "score", "decision", "log2_odds", "rule", *weight_cols, *level_cols]
    needed += ["note", *[c for c in THIRD_COLUMNS if c in scored.columns]]
    kept = scored.select(needed).filter(
        (pl.col("score") >= min_score) | (pl.col("decision") != "NO_MATCH")
    )
    named = _with_record_columns(kept, keys, ["record_key"])
    pairs_out = named.select(
        "left_record_key",
        "right_record_key",
        "score",
        "decision",
        "log2_odds",
        "rule",
        *weight_cols,
        *level_cols,
    )
    queued = named.filter(
        (pl.col("decision") == "REVIEW")
        & pl.Series(labels[named["l"].to_numpy()] != labels[named["r"].to_numpy()])
    ).with_columns(_review_reason(fields).alias("reason"))
    if THIRD_COLUMNS[0] in queued.columns:
        queued = queued.with_columns(name_the_third(pl.col("reason"), keys["record_key"]))
    review = (
        _with_record_columns(queued, keys, ["source_system", "source_id"])
        .with_columns(pl.lit(entity).alias("entity"), pl.lit(model_version).alias("model_version"))
        .select(list(REVIEW_SCHEMA))
        .cast(REVIEW_SCHEMA)
        .sort("score", descending=True)
    )
    return pairs_out, review


def _with_record_columns(
    pairs: pl.DataFrame, keys: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """left_<c> / right_<c> of each pair's records, gathered by row index."""
    return pairs.with_columns(
        *[keys[c].gather(pairs["l"]).alias(f"left_{c}") for c in columns],
        *[keys[c].gather(pairs["r"]).alias(f"right_{c}") for c in columns],
    )


def _review_reason(fields: list[str]) -> pl.Expr:
    """Why a steward sees the pair: the guard that held it back (if any), then the evidence."""
    return pl.concat_str([pl.col("note"), reason_expr(fields)], separator="; ", ignore_nulls=True)


def empty_result(entity: str, cfg: EntitySettings) -> MatchResult:
    clusters = pl.DataFrame(schema={"record_key": pl.String, "cluster_id": pl.String})
    pairs = pl.DataFrame(
        schema={
            "left_record_key": pl.String,
            "right_record_key": pl.String,
            "score": pl.Float64,
            "decision": pl.String,
        }
    )
    metrics = {
        "candidate_pairs_by_rule": {r.rule: 0 for r in cfg.blocking},
        "records": 0,
        "candidate_pairs": 0,
        "pairs_scored": 0,
        "auto_matched": 0,
        "sent_to_review": 0,
        "clusters": 0,
        "largest_cluster": 0,
        "seconds": 0.0,
        "pairs_per_second": 0.0,
    }
    return MatchResult(entity, clusters, pairs, pl.DataFrame(schema=REVIEW_SCHEMA), metrics)
