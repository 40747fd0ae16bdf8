"""The steward's word is never lost silently: one check on the decision feed that fails when
a decision row was rejected as bad input or its ruling is not carried out by the clusters
(feeds.md, steward_decision). Non-blocking -- the rest of the master data is still right --
but failed, naming every decision row (file, line) and why."""

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetIn,
    AssetKey,
    MetadataValue,
    asset_check,
)

from crm_pipelines.orchestration.match_assets import clusters_key
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.staged import MATCHED_ENTITIES
from crm_pipelines.stewardship.decision_checks import PROBLEM_COLUMNS, decision_problems

DECISIONS_KEY = AssetKey(["staging", "steward_decision"])


@asset_check(
    asset=DECISIONS_KEY,
    name="every_steward_decision_applied",
    description=(
        "Every steward decision row was accepted and is carried out by the golden records "
        "(the latest decided_at per pair): none rejected, none naming an unknown record, "
        "pairing a record with itself or contradicting another decision."
    ),
    additional_ins={
        "rejected": AssetIn(key=AssetKey(["quality", "rejected"])),
        **{f"clusters_{e}": AssetIn(key=clusters_key(e)) for e in MATCHED_ENTITIES},
    },
)
def every_steward_decision_applied(
    steward_decision: pl.DataFrame,
    rejected: pl.DataFrame,
    clusters_address: pl.DataFrame,
    clusters_customer: pl.DataFrame,
    clusters_person: pl.DataFrame,
    clusters_lead: pl.DataFrame,
) -> AssetCheckResult:
    by_entity = {
        "address": clusters_address,
        "customer": clusters_customer,
        "person": clusters_person,
        "lead": clusters_lead,
    }
    problems = decision_problems(steward_decision, by_entity, rejected)
    counts = problems.group_by("status").len()
    return AssetCheckResult(
        passed=problems.is_empty(),
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "decision_rows": MetadataValue.int(steward_decision.height),
            "not_carried_out": MetadataValue.int(problems.height),
            **{
                f"not_carried_out.{status.lower()}": MetadataValue.int(n)
                for status, n in counts.iter_rows()
            },
            "rows": frame_table(problems.select(PROBLEM_COLUMNS), 50),
        },
    )
