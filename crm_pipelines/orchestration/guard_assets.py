"""The circuit breaker before publishing: this run against the previous published warehouse."""

from pathlib import Path

import polars as pl
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    MetadataValue,
    Output,
    asset,
)

from crm_pipelines.orchestration.catalog import group_labels
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.publish.guards import (
    breaches,
    compare_runs,
    current_state,
    load_run_guards,
    previous_state,
)
from crm_pipelines.publish.warehouse import catalog

RUN_GUARD_KEY = AssetKey(["publish", "run_guard"])  # published as meta.run_guard
GUARD_CHECK = "no_unexpected_shrink"


@asset(
    key=RUN_GUARD_KEY,
    group_name="publish",
    description=catalog()["meta.run_guard"]["_table"],
    **group_labels("publish"),
    ins={
        "xref": AssetIn(key=AssetKey(["master", "xref"]), metadata={"as_path": True}),
        "rejected": AssetIn(key=AssetKey(["quality", "rejected"]), metadata={"as_path": True}),
        "registry": AssetIn(
            key=AssetKey(["master", "identity_registry"]), metadata={"as_path": True}
        ),
    },
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
    previous = previous_state(Path(settings.warehouse_path))
    checked = compare_runs(
        previous,
        current_state(xref, rejected, registry),
        load_run_guards(),
        tuple(settings.accept_shrink),
    )
    stopping = breaches(checked)
    accepted = checked.filter(pl.col("breached") & pl.col("accepted_by_operator"))
    context.log.info(
        f"run guards: {checked.height} compared"
        + (" (no previous warehouse)" if previous is None else "")
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
            "compared_with_previous": MetadataValue.bool(previous is not None),
            "details": MetadataValue.text("\n".join(stopping["message"].to_list())),
            "sample": frame_table(stopping.select("guard", "feed", "source_system", "message")),
        },
    )
