"""The circuit breaker before publishing: this run against the previous published warehouse."""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MetadataValue,
    Output,
    asset,
)

from crm_pipelines.orchestration.catalog import group_labels
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.publish.warehouse import catalog
from crm_pipelines.stages.frames import RUN_GUARD
from crm_pipelines.stages.publish import GUARD_INPUTS, run_guard_stage

RUN_GUARD_KEY = AssetKey(list(RUN_GUARD))  # published as meta.run_guard
GUARD_CHECK = "no_unexpected_shrink"


@asset(
    key=RUN_GUARD_KEY,
    group_name="publish",
    description=catalog()["meta.run_guard"]["_table"],
    **group_labels("publish"),
    ins=stage_ins(GUARD_INPUTS),
    check_specs=[
        AssetCheckSpec(
            GUARD_CHECK,
            asset=RUN_GUARD_KEY,
            blocking=True,
            description=(
                "No empty landing, no source system vanished from a feed, no drop of accepted "
                "records, rise of the rejection rate or loss of golden records beyond "
                "quality_rules/run_guards.yaml against the previous published warehouse, "
                "unless accepted with --accept-shrink."
            ),
        )
    ],
)
def run_guard(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    xref: Path,
    rejected: Path,
    registry: Path,
):
    """Every guard evaluated, one row each (published as meta.run_guard)."""
    stage = run_guard_stage(
        Path(settings.warehouse_path), tuple(settings.accept_shrink), xref, rejected, registry
    )
    checked, stopping, accepted = stage.checked, stage.stopping, stage.accepted
    context.log.info(
        f"run guards: {checked.height} compared"
        + ("" if stage.compared_with_previous else " (no previous warehouse)")
        + f", {stopping.height} breached, {accepted.height} accepted by the operator"
    )
    yield Output(
        checked,
        metadata={
            "rows": MetadataValue.int(checked.height),
            "breaches": MetadataValue.int(stopping.height),
        },
    )
    yield AssetCheckResult(
        asset_key=RUN_GUARD_KEY,
        check_name=GUARD_CHECK,
        passed=stopping.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "breaches": MetadataValue.int(stopping.height),
            "accepted_by_operator": MetadataValue.int(accepted.height),
            "compared_with_previous": MetadataValue.bool(stage.compared_with_previous),
            "details": MetadataValue.text("\n".join(stopping["message"].to_list())),
            "sample": frame_table(stopping.select("guard", "feed", "source_system", "message")),
        },
    )
