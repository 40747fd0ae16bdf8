"""staging + match -> master (golden records) -> marketing (campaign targets)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path

import polars as pl

from crm_pipelines.golden.assemble import MasterData, build_master
from crm_pipelines.golden.identity import PreviousIdentity, load_previous_identity
from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.marketing import (
    build_campaign_targets,
    consent_lineage,
    contact_statements,
    suppression_list,
    target_violations,
)
from crm_pipelines.marketing.suppression import STATEMENT_FEEDS
from crm_pipelines.marketing.targeting import CampaignTargets
from crm_pipelines.staged import MATCHED_ENTITIES, PROVENANCE_COLUMNS
from crm_pipelines.stages.frames import LEAD_LINK, Key, StageInput, clusters_key, staging

MASTER_TABLES = tuple(f.name for f in fields(MasterData) if f.name != "metrics")
MARKETING_TABLES = ("campaign_target", "campaign_exclusion", "campaign_summary", "suppression")


# --- staging + match -> master ------------------------------------------------------------

MASTER_INPUTS = {
    **{f"staging_{feed}": staging(feed, drop_columns=PROVENANCE_COLUMNS) for feed in FEEDS},
    **{f"clusters_{e}": StageInput(clusters_key(e)) for e in MATCHED_ENTITIES},
    "lead_customer_link": StageInput(LEAD_LINK),
}


@dataclass(frozen=True)
class MasterStage:
    master: MasterData
    previous: PreviousIdentity | None  # what the published warehouse held

    def outputs(self) -> dict[Key, pl.DataFrame]:
        return {("master", name): frame for name, frame in self.master.tables().items()}


def master_stage(
    warehouse: Path, run_id: str, run_at: datetime, **inputs: pl.DataFrame
) -> MasterStage:
    """Survivorship per quality_rules/survivorship.yaml; ids carried over from the published
    warehouse."""
    previous = load_previous_identity(warehouse)
    master = build_master(
        staged_feeds(inputs),
        {e: inputs[f"clusters_{e}"] for e in MATCHED_ENTITIES},
        inputs["lead_customer_link"],
        previous,
        run_id,
        run_at,
    )
    return MasterStage(master, previous)


def staged_feeds(inputs: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """feed -> staged frame, out of a stage's staging_<feed> inputs."""
    return {feed: inputs[f"staging_{feed}"] for feed in FEEDS}


# --- master -> marketing ------------------------------------------------------------------

MARKETING_INPUTS = {
    **{
        # tens of millions of lineage rows; only the consent statements are read
        name: StageInput(("master", name), as_path=name == "attribute_lineage")
        for name in (
            "customer",
            "person",
            "person_role",
            "crm_address",
            "crm_address_role",
            "lead",
            "campaign",
            "attribute_lineage",
        )
    },
    # the source records themselves: a withdrawal holds whatever matching made of them
    **{f"staging_{feed}": staging(feed, as_path=True) for feed in STATEMENT_FEEDS},
}


@dataclass(frozen=True)
class MarketingStage:
    targets: CampaignTargets
    suppression: pl.DataFrame
    violations: dict[str, pl.DataFrame]  # per guard: the targets that break it
    targeting_seconds: float  # statements, suppression and targets, without the guards

    def outputs(self) -> dict[Key, pl.DataFrame]:
        frames = {
            "campaign_target": self.targets.campaign_target,
            "campaign_exclusion": self.targets.campaign_exclusion,
            "campaign_summary": self.targets.summary,
            "suppression": self.suppression,
        }
        return {("marketing", name): frames[name] for name in MARKETING_TABLES}


def marketing_stage(as_of: date, **inputs: pl.DataFrame | Path) -> MarketingStage:
    """Targets for every campaign ACTIVE on the as-of date (warehouse.md, schema marketing),
    and every target that breaks a guard."""
    master = dict(inputs)
    staged = {feed: master.pop(f"staging_{feed}") for feed in STATEMENT_FEEDS}
    master["attribute_lineage"] = consent_lineage(master["attribute_lineage"])
    started = time.perf_counter()
    statements = contact_statements(staged)
    suppression = suppression_list(statements)
    targets = build_campaign_targets(master, as_of, suppression)
    targeting_seconds = time.perf_counter() - started
    violations = target_violations(targets, master, statements)
    return MarketingStage(targets, suppression, violations, targeting_seconds)
