"""master -> marketing: campaign target lists with consent proof, and the guards that stop a
wrong list before it is published."""

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

from crm_pipelines.orchestration.catalog import published_out
from crm_pipelines.orchestration.metadata import frame_table
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.stages.master import MARKETING_INPUTS, MARKETING_TABLES, marketing_stage

TARGET_KEY = AssetKey(["marketing", "campaign_target"])
GUARDS = {
    "no_target_on_a_withdrawn_contact_point": "No target's e-mail address or mobile number has a withdrawal as its latest statement for the channel on any accepted source record (re-derived from the staged records, independent of matching).",
    "targets_have_consent": "Every target has consent for the campaign's channel.",
    "targets_have_valid_contact": "Every target's contact is valid for the channel (e-mail, mobile E.164, postal address that passed quality).",
    "no_contact_twice_in_a_campaign": "Nobody receives the same campaign twice.",
    "targets_are_eligible": "Every target is an ACTIVE customer (or an open lead matching no customer) of a campaign active on the as-of date.",
}
VIOLATION_OF_CHECK = {
    "no_target_on_a_withdrawn_contact_point": "withdrawn_contact",
    "targets_have_consent": "no_consent",
    "targets_have_valid_contact": "invalid_contact",
    "no_contact_twice_in_a_campaign": "duplicate",
    "targets_are_eligible": "ineligible_target",
}


@multi_asset(
    outs={
        name: AssetOut(**published_out(AssetKey(["marketing", name]), "marketing"))
        for name in MARKETING_TABLES
    },
    ins=stage_ins(MARKETING_INPUTS),
    check_specs=[
        AssetCheckSpec(name, asset=TARGET_KEY, blocking=True, description=text)
        for name, text in GUARDS.items()
    ],
    can_subset=False,
)
def campaign_targets(
    context: AssetExecutionContext, settings: PipelineSettings, **master: pl.DataFrame
):
    """Targets for every campaign ACTIVE on the run's as-of date (warehouse.md, schema marketing)."""
    as_of = settings.as_of_date()
    stage = marketing_stage(as_of, **master)
    targets, suppression = stage.targets, stage.suppression
    context.log.info(
        f"as of {as_of}: {targets.campaign_target.height} targets, {targets.campaign_exclusion.height} exclusions"
    )
    yield Output(
        targets.campaign_target,
        output_name="campaign_target",
        metadata={
            "targets": MetadataValue.int(targets.campaign_target.height),
            "as_of": MetadataValue.text(str(as_of)),
        },
    )
    yield Output(
        targets.campaign_exclusion,
        output_name="campaign_exclusion",
        metadata={"exclusions": MetadataValue.int(targets.campaign_exclusion.height)},
    )
    yield Output(
        targets.summary,
        output_name="campaign_summary",
        metadata={
            "campaigns": MetadataValue.int(targets.summary.height),
            "summary": frame_table(targets.summary, 50),
        },
    )
    yield Output(
        suppression,
        output_name="suppression",
        metadata={
            "contact_points": MetadataValue.int(suppression.height),
            **{
                f"contact_points.{channel}": MetadataValue.int(count)
                for channel, count in suppression.group_by("channel").len().iter_rows()
            },
        },
    )
    for check_name, violation in VIOLATION_OF_CHECK.items():
        bad = stage.violations[violation]  # a missing guard must fail loudly, never pass
        yield AssetCheckResult(
            asset_key=TARGET_KEY,
            check_name=check_name,
            passed=bad.height == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"violations": MetadataValue.int(bad.height), "sample": frame_table(bad)},
        )
