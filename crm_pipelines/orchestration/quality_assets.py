"""staging + quality -> quality/source_rule_rate: each source system's rejection and finding
rates per rule, with numbers per source that the UI plots across runs."""

import polars as pl
from dagster import AssetExecutionContext, AssetKey, MetadataValue, Output, asset

from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.stages.frames import SOURCE_RULE_RATE
from crm_pipelines.stages.landing import SOURCE_RATE_INPUTS, source_rate_stage
from crm_pipelines.stewardship.source_quality import per_source_totals

SOURCE_RATE_KEY = AssetKey(list(SOURCE_RULE_RATE))


@asset(
    **published_out(SOURCE_RATE_KEY, "quality"),
    ins=stage_ins(SOURCE_RATE_INPUTS),
)
def source_rule_rate(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    rejected: pl.DataFrame,
    finding: pl.DataFrame,
    **staged,
) -> Output:
    rates = source_rate_stage(
        context.run.run_id, settings.as_of_date(), rejected, finding, **staged
    )
    totals = per_source_totals(rates)
    meta: dict = {"rows": MetadataValue.int(rates.height), "per_source": frame_table(totals, 50)}
    for row in totals.iter_rows(named=True):
        meta[f"rejected_pct.{row['source_system']}"] = MetadataValue.float(row["rejected_pct"])
        meta[f"finding_pct.{row['source_system']}"] = MetadataValue.float(row["finding_pct"])
    return Output(rates, metadata=meta)
