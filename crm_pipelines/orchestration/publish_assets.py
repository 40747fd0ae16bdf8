"""Everything -> the published DuckDB warehouse and the campaign export files, atomically."""

from pathlib import Path

import polars as pl
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from crm_pipelines.orchestration.catalog import group_labels
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.publish.run_log import row_count
from crm_pipelines.stages.publish import PUBLISH_INPUTS, publish_stage


@asset(
    key=AssetKey(["publish", "warehouse"]),
    group_name="publish",
    **group_labels("publish"),
    ins=stage_ins(PUBLISH_INPUTS),
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
    published = publish_stage(
        settings.run_info(context.run.run_id),
        Path(settings.warehouse_path),
        run_guard,
        **inputs,
    )
    context.log.info(f"published {published.path} and {len(published.exports)} campaign exports")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(published.path)),
            "tables": MetadataValue.int(len(published.tables)),
            "exports": MetadataValue.int(len(published.exports)),
            **{
                f"rows.{name}": MetadataValue.int(row_count(table))
                for name, table in published.tables.items()
                if not name.startswith("meta.")
            },
        }
    )
