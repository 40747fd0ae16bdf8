"""Is the steward's word carried out? The rows behind the match assets' NO_MATCH check and
the steward decision feed's check (orchestration/match_assets.py, steward_checks.py)."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.stewardship import applicable, unhonoured

PROBLEM_COLUMNS = ["status", "file", "line", "entity", "decision", "problem"]


def no_match_violations(
    clusters: pl.DataFrame, decisions: pl.DataFrame, entity: str
) -> pl.DataFrame:
    """NO_MATCH pairs in force (a later MATCH may reverse one) whose two records ended up
    in one cluster."""
    no_match = applicable(decisions, entity, clusters["record_key"]).filter(
        pl.col("decision") == "NO_MATCH"
    )
    return (
        no_match.join(
            clusters.rename({"record_key": "left_record_key", "cluster_id": "left_cluster"}),
            on="left_record_key",
        )
        .join(
            clusters.rename({"record_key": "right_record_key", "cluster_id": "right_cluster"}),
            on="right_record_key",
        )
        .filter(pl.col("left_cluster") == pl.col("right_cluster"))
        .select("left_record_key", "right_record_key", "left_cluster")
    )


def decision_problems(
    decisions: pl.DataFrame, clusters: dict[str, pl.DataFrame], rejected: pl.DataFrame
) -> pl.DataFrame:
    """Every decision row that is not carried out: rejected as bad input, or not applied."""
    lost = rejected.filter(pl.col("feed") == "steward_decision").select(
        pl.lit("REJECTED").alias("status"),
        pl.col("file").cast(pl.String),
        pl.col("line").cast(pl.Int64),
        pl.lit(None, dtype=pl.String).alias("entity"),
        pl.lit(None, dtype=pl.String).alias("decision"),
        pl.format("rejected ({}): {}", "rule_id", "message").alias("problem"),
    )
    not_applied = unhonoured(decisions, clusters).select(PROBLEM_COLUMNS)
    return pl.concat([lost, not_applied]).sort("file", "line")
