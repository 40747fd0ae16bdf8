"""The Dagster code location: assets by stage, the nightly job, its schedule and landing sensor."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    JobDefinition,
    ScheduleDefinition,
    colored_console_logger,
    define_asset_job,
    in_process_executor,
)

from crm_pipelines.orchestration.guard_assets import run_guard
from crm_pipelines.orchestration.marketing_assets import campaign_targets
from crm_pipelines.orchestration.master_assets import master_data
from crm_pipelines.orchestration.match_assets import MATCH_ASSETS, lead_customer_link, match_review
from crm_pipelines.orchestration.progress import progress_logger
from crm_pipelines.orchestration.publish_assets import warehouse
from crm_pipelines.orchestration.quality_assets import source_rule_rate
from crm_pipelines.orchestration.resources import FrameStore, PipelineSettings
from crm_pipelines.orchestration.sensors import landing_sensor
from crm_pipelines.orchestration.staging_assets import landing_feeds
from crm_pipelines.orchestration.steward_checks import every_steward_decision_applied

NIGHTLY_JOB = "nightly_master_data"
# configured at launch, so the frame store (which takes the run lock) sees the launch's paths
SETTINGS = PipelineSettings.configure_at_launch()

nightly_master_data = define_asset_job(
    NIGHTLY_JOB,
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Landing feeds -> validated staging -> matching -> golden records -> campaign targets -> DuckDB.",
)

nightly_schedule = ScheduleDefinition(
    name="nightly_master_data_0200_prague",
    job=nightly_master_data,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Prague",
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Runs the nightly master-data job at 02:00 Europe/Prague on whatever the landing "
        "folder holds. Off until switched on; needs `dagster dev` or dagster-daemon running."
    ),
)

defs = Definitions(
    assets=[
        landing_feeds,
        *MATCH_ASSETS,
        lead_customer_link,
        match_review,
        master_data,
        campaign_targets,
        source_rule_rate,
        run_guard,
        warehouse,
    ],
    asset_checks=[every_steward_decision_applied],
    jobs=[nightly_master_data],
    schedules=[nightly_schedule],
    sensors=[landing_sensor(nightly_master_data)],
    resources={"settings": SETTINGS, "io_manager": FrameStore(settings=SETTINGS)},
    executor=in_process_executor,
    loggers={"console": colored_console_logger, "progress": progress_logger},
)


def nightly_job_definition() -> JobDefinition:
    """The resolved nightly job; a module-level function so `reconstructable` can point at it
    (crm-mdm run executes it with `execute_job`, see crm_pipelines/run.py)."""
    return defs.resolve_job_def(NIGHTLY_JOB)
