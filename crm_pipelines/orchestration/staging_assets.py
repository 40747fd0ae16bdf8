"""Landing -> staging: one multi-asset reads and validates every feed (references cross feeds),
emitting a staged frame per feed, the quality tables, and one asset check per rule."""

from collections.abc import Iterator
from pathlib import Path

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.metadata import frame_table, numbers, spread_sample
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.stages.frames import QUALITY_TABLES
from crm_pipelines.stages.landing import validate_landing
from crm_pipelines.validate.rules import rules_for

SAMPLE_COLUMNS = ["source_system", "source_id", "file", "line", "column_name", "message"]


def staging_key(feed: str) -> AssetKey:
    return AssetKey(["staging", feed])


def quality_key(table: str) -> AssetKey:
    return AssetKey(["quality", table])


# ERROR rules quarantine their rows and the run goes on: ERROR severity, never blocking.
CHECK_SEVERITY = {"ERROR": AssetCheckSeverity.ERROR, "WARNING": AssetCheckSeverity.WARN}

RULE_CHECKS = [
    AssetCheckSpec(
        name=rule.id.lower(),
        asset=staging_key(feed),
        description=f"{rule.severity}: {rule.description}",
        blocking=False,
    )
    for feed in FEEDS
    for rule in rules_for(feed)
]


def _rule_checks(staged, rule_result: pl.DataFrame) -> Iterator[AssetCheckResult]:
    issues = pl.concat([staged.rejected, staged.finding])
    for row in rule_result.iter_rows(named=True):
        failing = issues.filter(
            (pl.col("rule_id") == row["rule_id"]) & (pl.col("feed") == row["entity"])
        )
        yield AssetCheckResult(
            asset_key=staging_key(row["entity"]),
            check_name=row["rule_id"].lower(),
            passed=row["failed"] == 0,
            severity=CHECK_SEVERITY[row["severity"]],
            metadata={
                "checked": MetadataValue.int(row["checked"]),
                "failed": MetadataValue.int(row["failed"]),
                "severity": MetadataValue.text(row["severity"]),
                "rule": MetadataValue.text(row["description"]),
                "failing_sample": frame_table(spread_sample(failing.select(SAMPLE_COLUMNS))),
            },
        )


@multi_asset(
    outs={
        **{
            f"staging_{feed}": AssetOut(**published_out(staging_key(feed), "staging"))
            for feed in FEEDS
        },
        **{
            f"quality_{table}": AssetOut(**published_out(quality_key(table), "quality"))
            for table in QUALITY_TABLES
        },
    },
    check_specs=RULE_CHECKS,
    can_subset=False,
)
def landing_feeds(context: AssetExecutionContext, settings: PipelineSettings):
    """Read every landing feed and validate it against assets/ specs and quality_rules/."""
    staged = validate_landing(Path(settings.landing_dir), settings.as_of_date())
    for feed in FEEDS:
        stats = staged.feed_stats[feed]
        context.log.info(f"{feed}: {stats}")
        yield Output(staged.staged[feed], output_name=f"staging_{feed}", metadata=numbers(stats))
    for table in QUALITY_TABLES:
        frame = getattr(staged, table)
        yield Output(
            frame,
            output_name=f"quality_{table}",
            metadata={"rows": MetadataValue.int(frame.height)},
        )
    yield from _rule_checks(staged, staged.rule_result)
