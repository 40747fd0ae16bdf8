"""staging -> match: clusters per entity, scored review pairs, lead-to-customer links."""

from collections.abc import Iterator
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
    asset,
    multi_asset,
)

from crm_pipelines.match.settings import entity_settings
from crm_pipelines.orchestration.catalog import group_labels, published_out
from crm_pipelines.orchestration.metadata import frame_table, review_sample
from crm_pipelines.orchestration.resources import PipelineSettings, stage_ins
from crm_pipelines.staged import MATCHED_ENTITIES
from crm_pipelines.stages import frames, matching
from crm_pipelines.stages.matching import MatchStage
from crm_pipelines.stewardship.decision_checks import no_match_violations


def clusters_key(entity: str) -> AssetKey:
    return AssetKey(list(frames.clusters_key(entity)))


def review_key(entity: str) -> AssetKey:
    return AssetKey(list(frames.review_key(entity)))


def _match_outs(entity: str) -> dict[str, AssetOut]:
    described = {
        "clusters": (clusters_key(entity), f"Which {entity} records are one real-world {entity}."),
        "review": (review_key(entity), f"Uncertain {entity} pairs for stewards."),
    }
    return {
        name: AssetOut(key=key, group_name="match", description=text, **group_labels("match"))
        for name, (key, text) in described.items()
    }


def _match_check_specs(entity: str) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            "no_no_match_pair_in_one_golden_record",
            asset=clusters_key(entity),
            blocking=True,
            description="A steward NO_MATCH pair never ends up in one golden record, not even through a chain.",
        ),
        AssetCheckSpec(
            "largest_cluster_below_limit",
            asset=clusters_key(entity),
            description="Chaining guard: no golden record gathers more source records than match_settings allows.",
        ),
        AssetCheckSpec(
            "review_queue_not_exploding",
            asset=review_key(entity),
            description="The review queue stays below the share of records match_settings allows.",
        ),
    ]


def _cluster_metadata(metrics: dict) -> dict:
    """The matching metrics as numbers the UI plots across runs."""
    meta: dict = {
        k: (MetadataValue.int(int(v)) if isinstance(v, int) else MetadataValue.float(float(v)))
        for k, v in metrics.items()
        if isinstance(v, int | float)
    }
    meta["records"] = MetadataValue.int(metrics["records"])
    meta["model_version"] = MetadataValue.text(str(metrics.get("model_version")))
    for rule, count in (metrics.get("candidate_pairs_by_rule") or {}).items():
        meta[f"candidate_pairs.{rule}"] = MetadataValue.int(int(count))
    return meta


def _match_outputs(stage: MatchStage) -> Iterator[Output]:
    result = stage.result
    yield Output(
        result.clusters, output_name="clusters", metadata=_cluster_metadata(result.metrics)
    )
    yield Output(
        stage.review,
        output_name="review",
        metadata={
            "pairs": MetadataValue.int(result.review.height),
            "sample": review_sample(result.review),
        },
    )


def _match_checks(
    entity: str, stage: MatchStage, decisions: pl.DataFrame
) -> Iterator[AssetCheckResult]:
    result, settings = stage.result, entity_settings(entity)
    violations = no_match_violations(result.clusters, decisions, entity)
    yield AssetCheckResult(
        asset_key=clusters_key(entity),
        check_name="no_no_match_pair_in_one_golden_record",
        passed=violations.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "violations": MetadataValue.int(violations.height),
            "sample": frame_table(violations),
        },
    )
    sizes = result.clusters.group_by("cluster_id").len().sort("len", descending=True)
    largest = int(sizes["len"][0]) if sizes.height else 0
    limit = settings.max_cluster_size
    yield AssetCheckResult(
        asset_key=clusters_key(entity),
        check_name="largest_cluster_below_limit",
        passed=largest <= limit,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "largest_cluster": MetadataValue.int(largest),
            "limit": MetadataValue.int(limit),
            "largest_clusters": frame_table(sizes.head(10)),
        },
    )
    records = result.metrics["records"]
    share = result.review.height / max(records, 1)
    max_share = settings.max_review_share
    yield AssetCheckResult(
        asset_key=review_key(entity),
        check_name="review_queue_not_exploding",
        passed=share <= max_share,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "review_pairs": MetadataValue.int(result.review.height),
            "records": MetadataValue.int(records),
            "share": MetadataValue.float(share),
            "max_share": MetadataValue.float(max_share),
        },
    )


def _match_asset(entity: str):
    @multi_asset(
        name=f"match_{entity}",
        outs=_match_outs(entity),
        ins=stage_ins(matching.match_stage_inputs(entity)),
        check_specs=_match_check_specs(entity),
        can_subset=False,
    )
    def _match(
        context: AssetExecutionContext,
        settings: PipelineSettings,
        records: Path,
        decisions: pl.DataFrame,
        **evidence,
    ):
        stage = matching.match_stage(
            entity, records, decisions, model_dir=settings.model_dir(), **evidence
        )
        context.log.info(f"{entity} matching: {stage.result.metrics}")
        yield from _match_outputs(stage)
        yield from _match_checks(entity, stage, decisions)

    return _match


MATCH_ASSETS = [_match_asset(entity) for entity in MATCHED_ENTITIES]


@asset(
    key=AssetKey(list(frames.LEAD_LINK)),
    group_name="match",
    **group_labels("match"),
    ins=stage_ins(matching.LEAD_LINK_INPUTS),
)
def lead_customer_link(
    context: AssetExecutionContext,
    leads: pl.DataFrame,
    customers: Path,
    persons: Path,
) -> Output:
    """Leads that already are customers: they are not targeted as leads."""
    links = matching.link_leads(leads, customers, persons)
    return Output(
        links,
        metadata={
            "links": MetadataValue.int(links.height),
            "leads": MetadataValue.int(leads.height),
        },
    )


@asset(
    **published_out(AssetKey(list(frames.REVIEW_QUEUE)), "quality"),
    ins=stage_ins(matching.REVIEW_INPUTS),
)
def match_review(
    context: AssetExecutionContext, lead_customer_link: pl.DataFrame, **inputs
) -> Output:
    """The stewards' queue: every uncertain pair of every entity, strongest first, with both
    records' compared values and levels side by side."""
    review = matching.review_queue(lead_customer_link, **inputs)
    counts = (
        {e: int((review["entity"] == e).sum()) for e in MATCHED_ENTITIES} if review.height else {}
    )
    return Output(
        review,
        metadata={
            "pairs": MetadataValue.int(review.height),
            **{f"pairs.{k}": MetadataValue.int(v) for k, v in counts.items()},
            "sample": review_sample(review),
        },
    )
