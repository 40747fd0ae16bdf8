"""staging + match -> master: golden records with stable ids, relations, xref and lineage."""

from datetime import UTC, datetime
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

from crm_pipelines.golden.accounting import unaccounted_records
from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.stages.master import MASTER_INPUTS, MASTER_TABLES, master_stage, staged_feeds

XREF_KEY = AssetKey(["master", "xref"])
TABLE_ENTITY = {
    "crm_address": "address"
}  # identity metrics (merges, splits vs the previous run) per table


def _table_metadata(frame: pl.DataFrame, metrics: dict) -> dict:
    meta = {"rows": MetadataValue.int(frame.height)}
    for metric, value in (metrics or {}).items():
        if isinstance(value, int | float):
            meta[metric] = (
                MetadataValue.int(int(value))
                if isinstance(value, int)
                else MetadataValue.float(float(value))
            )
    return meta


@multi_asset(
    outs={
        name: AssetOut(**published_out(AssetKey(["master", name]), "master"))
        for name in MASTER_TABLES
    },
    ins=stage_ins(MASTER_INPUTS),
    check_specs=[
        AssetCheckSpec(
            "every_record_accounted_for",
            asset=XREF_KEY,
            blocking=True,
            description="Every accepted source record is in master.xref (rejected ones are in quality.rejected).",
        ),
    ],
    can_subset=False,
)
def master_data(context: AssetExecutionContext, settings: PipelineSettings, **inputs: pl.DataFrame):
    """Survivorship per quality_rules/survivorship.yaml; ids carried over from the published warehouse."""
    stage = master_stage(
        Path(settings.warehouse_path), context.run.run_id, datetime.now(UTC), **inputs
    )
    previous, master = stage.previous, stage.master
    context.log.info(
        "previous identity: "
        + ("none (first run)" if previous is None else f"{previous.xref.height} xref rows")
    )
    for name in MASTER_TABLES:
        frame = getattr(master, name)
        metrics = master.metrics.get(TABLE_ENTITY.get(name, name))
        yield Output(frame, output_name=name, metadata=_table_metadata(frame, metrics))
    missing = unaccounted_records(staged_feeds(inputs), master.xref)
    yield AssetCheckResult(
        asset_key=XREF_KEY,
        check_name="every_record_accounted_for",
        passed=missing.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.int(missing.height), "sample": frame_table(missing)},
    )
