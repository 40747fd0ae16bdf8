"""Steward decisions that cannot be applied: a finding naming the decision row.

A decision naming an unknown record is UNKNOWN_DECISION_RECORD (references.py). Here: a
record paired with itself, and a MATCH that -- with the other MATCH decisions in force --
would join two records a NO_MATCH decision keeps apart (the NO_MATCH holds). Which decision
is in force per pair and which cannot be applied is decided in one place,
crm_pipelines/match/stewardship.py, which matching applies too.
"""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.stewardship import NOT_APPLIED, resolve_decisions
from crm_pipelines.validate.feed import FeedValidation
from crm_pipelines.validate.issues import RuleIssues, rule_issues

RULE_ID = "DECISION_NOT_APPLIED"


def _record_key(side: str) -> pl.Expr:
    return pl.concat_str(
        [pl.col(f"t_{side}_source_system"), pl.col(f"t_{side}_source_id").str.strip_chars()],
        separator="|",
    ).alias(f"{side}_record_key")


def check_decision_pairs(result: FeedValidation) -> RuleIssues:
    """WARNING on accepted decision rows with known records that cannot be applied."""
    w = result.winners
    usable = ~pl.col("__row").is_in(result.error_rows().implode())
    if "t___decision_ok" in w.columns:
        usable = usable & pl.col("t___decision_ok").fill_null(False)
    rows = w.filter(usable)
    decisions = rows.select(
        pl.col("t_entity").str.to_lowercase().alias("entity"),
        _record_key("left"),
        _record_key("right"),
        pl.col("t_decision").alias("decision"),
        pl.col("t_decided_at").alias("decided_at"),
        pl.col("t_updated_at").alias("updated_at"),
        pl.col("__file").cast(pl.String).alias("file"),
        pl.col("__line").cast(pl.Int64).alias("line"),
    )
    resolved = resolve_decisions(decisions).with_columns(rows["__row"])
    problems = resolved.filter(pl.col("status").is_in(NOT_APPLIED)).select("__row", "problem")
    joined = w.select("__row").join(problems, on="__row", how="left", maintain_order="left")
    failed = joined["problem"].is_not_null()
    return rule_issues(w, failed, RULE_ID, "decision", joined["problem"], rows.height)
