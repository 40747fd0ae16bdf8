"""Everything -> the published DuckDB warehouse and the campaign export files, atomically."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.marketing import write_campaign_exports
from crm_pipelines.marketing.targeting import CampaignTargets
from crm_pipelines.orchestration.catalog import group_labels
from crm_pipelines.orchestration.guard_assets import RUN_GUARD_KEY
from crm_pipelines.orchestration.master_assets import MASTER_TABLES
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.publish.analyst import build_analyst_layer
from crm_pipelines.publish.run_files import fault_pause, publish_staged_models, swap_in_exports
from crm_pipelines.publish.warehouse import publish_warehouse, read_previous

PUBLISHED = (
    [("master", t) for t in MASTER_TABLES]
    + [("quality", t) for t in ("rejected", "finding", "rule_result", "file_load", "match_review")]
    + [
        ("marketing", t)
        for t in ("campaign_target", "campaign_exclusion", "campaign_summary", "suppression")
    ]
    + [("quality", "source_rule_rate")]
)
# The accepted source records with their standardised values: schema `source`, one per feed.
SOURCE_TABLES = [("staging", feed) for feed in FEEDS]


def published_name(schema: str, table: str) -> str:
    return f"{'source' if schema == 'staging' else schema}.{table}"


EXPORT_INPUTS = (
    "master.campaign",
    "marketing.campaign_target",
    "marketing.campaign_exclusion",
    "marketing.campaign_summary",
)


def row_count(table: pl.DataFrame | Path) -> int:
    return (
        table.height
        if isinstance(table, pl.DataFrame)
        else pl.scan_parquet(table).select(pl.len()).collect().item()
    )


def run_row(
    context_run_id: str, settings: PipelineSettings, tables: dict[str, pl.DataFrame | Path]
) -> pl.DataFrame:
    counts = {name.replace(".", "_"): row_count(table) for name, table in tables.items()}
    return pl.DataFrame(
        [
            {
                "run_id": context_run_id,
                "published_at": datetime.now(UTC),
                "as_of": settings.as_of_date(),
                "landing_dir": str(Path(settings.landing_dir).resolve()),
                "accepted_shrink": ", ".join(settings.accept_shrink) or None,
                **counts,
            }
        ]
    )


def with_earlier_runs(
    current: pl.DataFrame | Path, settings: PipelineSettings, table: str
) -> pl.DataFrame:
    """This run's rows and the earlier runs' rows of the published table (for trends)."""
    frame = pl.read_parquet(current) if isinstance(current, Path) else current
    earlier = read_previous(Path(settings.warehouse_path), f"SELECT * FROM {table}")
    if earlier is None or earlier.height == 0:
        return frame
    earlier = earlier.filter(~pl.col("run_id").is_in(frame["run_id"].unique().implode()))
    return pl.concat([earlier.cast(frame.schema), frame])


@asset(
    key=AssetKey(["publish", "warehouse"]),
    group_name="publish",
    **group_labels("publish"),
    ins={
        "run_guard": AssetIn(key=RUN_GUARD_KEY),
        **{
            f"{schema}__{table}": AssetIn(
                key=AssetKey([schema, table]),
                # big tables go from their Parquet file straight into DuckDB, never all in memory
                metadata={"as_path": f"{schema}.{table}" not in EXPORT_INPUTS},
            )
            for schema, table in PUBLISHED + SOURCE_TABLES
        },
    },
)
def warehouse(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    run_guard: pl.DataFrame,
    **inputs: pl.DataFrame | Path,
) -> MaterializeResult:
    """Build the new warehouse and the campaign exports beside the published ones, then swap
    in the warehouse (the commit point) and the exports right after it (a run killed between
    the two is rolled forward at the next start, see publish/run_files.py)."""
    tables = {published_name(*name.split("__")): table for name, table in inputs.items()}
    run = run_row(context.run.run_id, settings, tables)
    history = read_previous(Path(settings.warehouse_path), "SELECT * FROM meta.run_log")
    if history is not None:  # DuckDB hands timestamps back as Etc/UTC
        history = history.with_columns(
            pl.col(pl.Datetime("us", "Etc/UTC")).dt.convert_time_zone("UTC")
        )
    tables["quality.source_rule_rate"] = with_earlier_runs(
        tables["quality.source_rule_rate"], settings, "quality.source_rule_rate"
    )
    tables["meta.run"] = run
    tables["meta.run_log"] = (
        pl.concat([history, run], how="diagonal_relaxed") if history is not None else run
    )
    targets = CampaignTargets(
        tables["marketing.campaign_target"],
        tables["marketing.campaign_exclusion"],
        tables["marketing.campaign_summary"],
        settings.as_of_date(),
    )
    tables["meta.run_guard"] = run_guard
    staged = settings.staged_export_dir(context.run.run_id)
    exports = write_campaign_exports(targets, tables["master.campaign"], staged)
    fault_pause("exports_staged")
    path = publish_warehouse(tables, Path(settings.warehouse_path), finish=build_analyst_layer)
    fault_pause("warehouse_swapped")
    swap_in_exports(staged, settings.export_dir())
    fault_pause("exports_swapped")
    publish_staged_models(Path(settings.warehouse_path), context.run.run_id)
    context.log.info(f"published {path} and {len(exports)} campaign exports")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "tables": MetadataValue.int(len(tables)),
            "exports": MetadataValue.int(len(exports)),
            **{
                f"rows.{name}": MetadataValue.int(row_count(table))
                for name, table in tables.items()
                if not name.startswith("meta.")
            },
        }
    )
