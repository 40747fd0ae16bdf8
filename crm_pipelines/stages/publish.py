"""The circuit breaker against the previous warehouse, then the warehouse and campaign exports."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.marketing import write_campaign_exports
from crm_pipelines.marketing.targeting import CampaignTargets
from crm_pipelines.publish.analyst import build_analyst_layer
from crm_pipelines.publish.guards import (
    breaches,
    compare_runs,
    current_state,
    load_run_guards,
    previous_state,
)
from crm_pipelines.publish.run_files import (
    export_dir,
    fault_pause,
    publish_staged_models,
    staged_exports,
    swap_in_exports,
)
from crm_pipelines.publish.run_log import RunInfo, run_log, run_row, with_earlier_runs
from crm_pipelines.publish.warehouse import publish_warehouse
from crm_pipelines.stages.frames import (
    QUALITY_TABLES,
    REVIEW_QUEUE,
    RUN_GUARD,
    SOURCE_RULE_RATE,
    Key,
    StageInput,
)
from crm_pipelines.stages.master import MARKETING_TABLES, MASTER_TABLES

# --- the circuit breaker before publishing ------------------------------------------------

GUARD_INPUTS = {
    "xref": StageInput(("master", "xref"), as_path=True),
    "rejected": StageInput(("quality", "rejected"), as_path=True),
    "registry": StageInput(("master", "identity_registry"), as_path=True),
}


@dataclass(frozen=True)
class GuardStage:
    checked: pl.DataFrame  # every guard evaluated (meta.run_guard)
    compared_with_previous: bool

    @property
    def stopping(self) -> pl.DataFrame:
        return breaches(self.checked)

    @property
    def accepted(self) -> pl.DataFrame:
        return self.checked.filter(pl.col("breached") & pl.col("accepted_by_operator"))


def run_guard_stage(
    warehouse: Path, accept_shrink: tuple[str, ...], xref: Path, rejected: Path, registry: Path
) -> GuardStage:
    """This run against the previous published warehouse (read-only)."""
    previous = previous_state(warehouse)
    checked = compare_runs(
        previous, current_state(xref, rejected, registry), load_run_guards(), accept_shrink
    )
    return GuardStage(checked, previous is not None)


# --- everything -> the published warehouse and campaign exports ---------------------------

# Published in the warehouse: every stage's frames (schema `source` holds staging's) ...
PUBLISHED: list[Key] = (
    [("master", t) for t in MASTER_TABLES]
    + [("quality", t) for t in QUALITY_TABLES]
    + [REVIEW_QUEUE]
    + [("marketing", t) for t in MARKETING_TABLES]
    + [SOURCE_RULE_RATE]
    + [("staging", feed) for feed in FEEDS]
)
# ... big ones go from their Parquet file straight into DuckDB, never all in memory
EXPORT_INPUTS = (
    ("master", "campaign"),
    ("marketing", "campaign_target"),
    ("marketing", "campaign_exclusion"),
    ("marketing", "campaign_summary"),
)
PUBLISH_INPUTS = {
    "run_guard": StageInput(RUN_GUARD),
    **{f"{s}__{t}": StageInput((s, t), as_path=(s, t) not in EXPORT_INPUTS) for s, t in PUBLISHED},
}


LINEAGE = "master.attribute_lineage"


def published_name(schema: str, table: str) -> str:
    return f"{'source' if schema == 'staging' else schema}.{table}"


@dataclass(frozen=True)
class Published:
    path: Path
    tables: dict[str, pl.DataFrame | Path]  # "schema.table" as published
    exports: list[Path]


def publish_stage(
    run: RunInfo, warehouse: Path, run_guard: pl.DataFrame, **inputs: pl.DataFrame | Path
) -> Published:
    """Build the new warehouse and the campaign exports beside the published ones, then swap
    in the warehouse (the commit point) and the exports right after it (a run killed between
    the two is rolled forward at the next start, see publish/run_files.py)."""
    # in input-name order (as Dagster passes them): meta.run's columns do not depend on the caller
    tables = {published_name(*name.split("__")): inputs[name] for name in sorted(inputs)}
    this_run = run_row(run, tables)
    rates = published_name(*SOURCE_RULE_RATE)
    tables[rates] = with_earlier_runs(tables[rates], warehouse, rates)
    tables["meta.run"] = this_run
    tables["meta.run_log"] = run_log(this_run, warehouse)
    targets = CampaignTargets(
        tables["marketing.campaign_target"],
        tables["marketing.campaign_exclusion"],
        tables["marketing.campaign_summary"],
        run.as_of,
    )
    tables["meta.run_guard"] = run_guard
    staged = staged_exports(warehouse, run.run_id)
    exports = write_campaign_exports(targets, tables["master.campaign"], staged)
    fault_pause("exports_staged")
    # lineage is written once, with its values, by the analyst layer (not loaded, then rewritten)
    loaded = {name: table for name, table in tables.items() if name != LINEAGE}
    path = publish_warehouse(
        loaded, warehouse, finish=partial(build_analyst_layer, lineage=tables[LINEAGE])
    )
    fault_pause("warehouse_swapped")
    swap_in_exports(staged, export_dir(warehouse))
    fault_pause("exports_swapped")
    # the models this run trained (its own copy of models/) join the publish last
    publish_staged_models(warehouse, run.run_id)
    return Published(path, tables, exports)
