"""staging + match -> master: golden records with stable ids, relations, xref and lineage."""

from dataclasses import fields
from datetime import UTC, datetime

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from crm_pipelines.golden.assemble import MasterData, build_master
from crm_pipelines.golden.identity import load_previous_identity
from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.match_assets import clusters_key
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.staged import MATCHED_ENTITIES, PROVENANCE_COLUMNS

MASTER_TABLES = [f.name for f in fields(MasterData) if f.name != "metrics"]
XREF_KEY = AssetKey(["master", "xref"])
TABLE_ENTITY = {
    "crm_address": "address"
}  # identity metrics (merges, splits vs the previous run) per table


def unaccounted_records(staged: dict[str, pl.DataFrame], xref: pl.DataFrame) -> pl.DataFrame:
    """Accepted staged records missing from master.xref: must be empty (nothing lost)."""
    entity_of = {"person": ["person", "person_holder"]}
    missing = []
    for feed, frame in staged.items():
        entities = entity_of.get(feed, [feed])
        known = xref.filter(pl.col("entity").is_in(entities)).select("record_key")
        missing.append(
            frame.select(pl.lit(feed).alias("feed"), "record_key").join(
                known, on="record_key", how="anti"
            )
        )
    return pl.concat(missing)


@multi_asset(
    outs={
        name: AssetOut(**published_out(AssetKey(["master", name]), "master"))
        for name in MASTER_TABLES
    },
    ins={
        **{
            f"staging_{feed}": AssetIn(
                key=AssetKey(["staging", feed]),
                metadata={"drop_columns": list(PROVENANCE_COLUMNS)},
            )
            for feed in FEEDS
        },
        **{f"clusters_{e}": AssetIn(key=clusters_key(e)) for e in MATCHED_ENTITIES},
        "lead_customer_link": AssetIn(key=AssetKey(["match", "lead_customer_link"])),
    },
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
    staged = {feed: inputs[f"staging_{feed}"] for feed in FEEDS}
    clusters = {e: inputs[f"clusters_{e}"] for e in MATCHED_ENTITIES}
    previous = load_previous_identity(settings.warehouse_path)
    context.log.info(
        "previous identity: "
        + ("none (first run)" if previous is None else f"{previous.xref.height} xref rows")
    )
    master = build_master(
        staged,
        clusters,
        inputs["lead_customer_link"],
        previous,
        context.run.run_id,
        datetime.now(UTC),
    )
    for name in MASTER_TABLES:
        frame = getattr(master, name)
        meta = {"rows": MetadataValue.int(frame.height)}
        for metric, value in (master.metrics.get(TABLE_ENTITY.get(name, name)) or {}).items():
            if isinstance(value, int | float):
                meta[metric] = (
                    MetadataValue.int(int(value))
                    if isinstance(value, int)
                    else MetadataValue.float(float(value))
                )
        yield Output(frame, output_name=name, metadata=meta)
    missing = unaccounted_records(staged, master.xref)
    yield AssetCheckResult(
        asset_key=XREF_KEY,
        check_name="every_record_accounted_for",
        passed=missing.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"missing": MetadataValue.int(missing.height), "sample": frame_table(missing)},
    )
