"""landing -> staging + quality, and each source's rejection and finding rates per rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.stages.frames import (
    QUALITY_TABLES,
    Key,
    StageInput,
    staging,
)
from crm_pipelines.stewardship.source_quality import source_rule_rates
from crm_pipelines.validate.landing import StagedLanding, stage_landing

# --- landing -> staging + quality ---------------------------------------------------------


def validate_landing(landing: Path, as_of: date) -> StagedLanding:
    """Read every landing feed and validate it against assets/ specs and quality_rules/."""
    if not landing.is_dir():
        raise FileNotFoundError(
            f"landing folder {landing} does not exist; generate one with `crm-mdm sample --out {landing}`"
        )
    return stage_landing(landing, as_of)


def staging_outputs(staged: StagedLanding) -> dict[Key, pl.DataFrame]:
    return {("staging", feed): staged.staged[feed] for feed in FEEDS} | {
        ("quality", table): getattr(staged, table) for table in QUALITY_TABLES
    }


# --- staging + quality -> quality.source_rule_rate ----------------------------------------

SOURCE_RATE_INPUTS = {
    **{
        f"staging_{feed}": staging(feed, as_path=True)
        for feed in FEEDS
        if feed != "steward_decision"
    },
    "rejected": StageInput(("quality", "rejected")),
    "finding": StageInput(("quality", "finding")),
}


def source_rate_stage(
    run_id: str, as_of: date, rejected: pl.DataFrame, finding: pl.DataFrame, **staged: Path
) -> pl.DataFrame:
    """Each source system's rejection and finding rates per rule, for this run."""
    staged_files = {name.removeprefix("staging_"): path for name, path in staged.items()}
    return source_rule_rates(staged_files, rejected, finding).with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(as_of).alias("as_of")
    )
