"""staging + quality -> quality/source_rule_rate: each source system's rejection and finding
rates per rule, with numbers per source that the UI plots across runs."""

import polars as pl
from dagster import AssetExecutionContext, AssetIn, AssetKey, MetadataValue, Output, asset

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.stewardship.source_quality import per_source_totals, source_rule_rates

SOURCE_RATE_KEY = AssetKey(["quality", "source_rule_rate"])


@asset(
    **published_out(SOURCE_RATE_KEY, "quality"),
    ins={
        **{
            f"staging_{feed}": AssetIn(key=AssetKey(["staging", feed]), metadata={"as_path": True})
            for feed in FEEDS
            if feed != "steward_decision"
        },
        "rejected": AssetIn(key=AssetKey(["quality", "rejected"])),
        "finding": AssetIn(key=AssetKey(["quality", "finding"])),
    },
)
def source_rule_rate(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    rejected: pl.DataFrame,
    finding: pl.DataFrame,
    **staged,
) -> Output:
    staged = {name.removeprefix("staging_"): path for name, path in staged.items()}
    rates = source_rule_rates(staged, rejected, finding).with_columns(
        pl.lit(context.run.run_id).alias("run_id"), pl.lit(settings.as_of_date()).alias("as_of")
    )
    totals = per_source_totals(rates)
    meta: dict = {"rows": MetadataValue.int(rates.height), "per_source": frame_table(totals, 50)}
    for row in totals.iter_rows(named=True):
        meta[f"rejected_pct.{row['source_system']}"] = MetadataValue.float(row["rejected_pct"])
        meta[f"finding_pct.{row['source_system']}"] = MetadataValue.float(row["finding_pct"])
    return Output(rates, metadata=meta)
