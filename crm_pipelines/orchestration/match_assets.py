"""staging -> match: clusters per entity, scored review pairs, lead-to-customer links."""

from pathlib import Path

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
    asset,
    multi_asset,
)

from crm_pipelines.match import match_entity, match_leads_to_customers
from crm_pipelines.match.evidence import EVIDENCE, match_inputs
from crm_pipelines.match.settings import entity_settings
from crm_pipelines.match.standardize import read_for_matching
from crm_pipelines.match.stewardship import applicable
from crm_pipelines.orchestration.catalog import group_labels, published_out
from crm_pipelines.orchestration.metadata import frame_table, review_sample
from crm_pipelines.orchestration.resources import PipelineSettings
from crm_pipelines.staged import MATCHED_ENTITIES
from crm_pipelines.stewardship.review import enrich_review, named_ambiguity, with_levels

# the assets each kind of evidence (match/evidence.py) comes from
EVIDENCE_INS: dict[str, AssetIn] = {
    "addresses": AssetIn(key=AssetKey(["staging", "address"]), metadata={"as_path": True}),
    "address_clusters": AssetIn(key=AssetKey(["match", "address_clusters"])),
    "persons": AssetIn(key=AssetKey(["staging", "person"]), metadata={"as_path": True}),
    "customer_links": AssetIn(key=AssetKey(["match", "lead_customer_link"])),
    "customer_clusters": AssetIn(key=AssetKey(["match", "customer_clusters"])),
}


def clusters_key(entity: str) -> AssetKey:
    return AssetKey(["match", f"{entity}_clusters"])


def review_key(entity: str) -> AssetKey:
    return AssetKey(["match", f"{entity}_review"])


def no_match_violations(
    clusters: pl.DataFrame, decisions: pl.DataFrame, entity: str
) -> pl.DataFrame:
    """NO_MATCH pairs in force (a later MATCH may reverse one) whose two records ended up
    in one cluster."""
    no_match = applicable(decisions, entity, clusters["record_key"]).filter(
        pl.col("decision") == "NO_MATCH"
    )
    return (
        no_match.join(
            clusters.rename({"record_key": "left_record_key", "cluster_id": "left_cluster"}),
            on="left_record_key",
        )
        .join(
            clusters.rename({"record_key": "right_record_key", "cluster_id": "right_cluster"}),
            on="right_record_key",
        )
        .filter(pl.col("left_cluster") == pl.col("right_cluster"))
        .select("left_record_key", "right_record_key", "left_cluster")
    )


def _match_asset(entity: str):
    @multi_asset(
        name=f"match_{entity}",
        outs={
            "clusters": AssetOut(
                key=clusters_key(entity),
                group_name="match",
                description=f"Which {entity} records are one real-world {entity}.",
                **group_labels("match"),
            ),
            "review": AssetOut(
                key=review_key(entity),
                group_name="match",
                description=f"Uncertain {entity} pairs for stewards.",
                **group_labels("match"),
            ),
        },
        ins={
            # as files: matching reads only its columns of them (read_for_matching)
            "records": AssetIn(key=AssetKey(["staging", entity]), metadata={"as_path": True}),
            "decisions": AssetIn(key=AssetKey(["staging", "steward_decision"])),
            **{name: EVIDENCE_INS[name] for name in EVIDENCE.get(entity, ())},
        },
        check_specs=[
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
        ],
        can_subset=False,
    )
    def _match(
        context: AssetExecutionContext,
        settings: PipelineSettings,
        records: Path,
        decisions: pl.DataFrame,
        **evidence,
    ):
        def load(name: str):  # the staged addresses arrive as a file: read what matching reads
            value = evidence[name]
            return read_for_matching(value, "address") if name == "addresses" else value

        result = match_entity(
            entity,
            read_for_matching(records, entity),
            decisions,
            **match_inputs(entity, load),
            model_dir=settings.model_dir(),
        )
        metrics = result.metrics
        context.log.info(f"{entity} matching: {metrics}")
        meta: dict = {
            k: (MetadataValue.int(int(v)) if isinstance(v, int) else MetadataValue.float(float(v)))
            for k, v in metrics.items()
            if isinstance(v, int | float)
        }
        meta["records"] = MetadataValue.int(metrics["records"])
        meta["model_version"] = MetadataValue.text(str(metrics.get("model_version")))
        for rule, count in (metrics.get("candidate_pairs_by_rule") or {}).items():
            meta[f"candidate_pairs.{rule}"] = MetadataValue.int(int(count))
        yield Output(result.clusters, output_name="clusters", metadata=meta)
        yield Output(
            with_levels(result.review, result.pairs),  # the steward's side-by-side reads them
            output_name="review",
            metadata={
                "pairs": MetadataValue.int(result.review.height),
                "sample": review_sample(result.review.with_columns(named_ambiguity(result.review))),
            },
        )
        settings = entity_settings(entity)
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
        share = result.review.height / max(metrics["records"], 1)
        max_share = settings.max_review_share
        yield AssetCheckResult(
            asset_key=review_key(entity),
            check_name="review_queue_not_exploding",
            passed=share <= max_share,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "review_pairs": MetadataValue.int(result.review.height),
                "records": MetadataValue.int(metrics["records"]),
                "share": MetadataValue.float(share),
                "max_share": MetadataValue.float(max_share),
            },
        )

    return _match


MATCH_ASSETS = [_match_asset(entity) for entity in MATCHED_ENTITIES]


@asset(
    key=AssetKey(["match", "lead_customer_link"]),
    group_name="match",
    **group_labels("match"),
    ins={
        "leads": AssetIn(key=AssetKey(["staging", "lead"])),
        # read as files: linking needs six of their columns, and only rows meeting a lead
        "customers": AssetIn(key=AssetKey(["staging", "customer"]), metadata={"as_path": True}),
        "persons": AssetIn(key=AssetKey(["staging", "person"]), metadata={"as_path": True}),
    },
)
def lead_customer_link(
    context: AssetExecutionContext,
    leads: pl.DataFrame,
    customers: Path,
    persons: Path,
) -> Output:
    """Leads that already are customers: they are not targeted as leads."""
    links = match_leads_to_customers(leads, customers, persons)
    return Output(
        links,
        metadata={
            "links": MetadataValue.int(links.height),
            "leads": MetadataValue.int(leads.height),
        },
    )


@asset(
    **published_out(AssetKey(["quality", "match_review"]), "quality"),
    ins={
        **{f"review_{e}": AssetIn(key=review_key(e)) for e in MATCHED_ENTITIES},
        # the records' values, read for the reviewed pairs only
        **{
            f"staged_{e}": AssetIn(key=AssetKey(["staging", e]), metadata={"as_path": True})
            for e in ("customer", "person", "address", "lead")
        },
        "lead_customer_link": AssetIn(key=AssetKey(["match", "lead_customer_link"])),
    },
)
def match_review(
    context: AssetExecutionContext, lead_customer_link: pl.DataFrame, **inputs
) -> Output:
    """The stewards' queue: every uncertain pair of every entity, strongest first, with both
    records' compared values and levels side by side."""
    staged = {e: inputs[f"staged_{e}"] for e in ("customer", "person", "address", "lead")}
    frames = [
        enrich_review(e, inputs[f"review_{e}"], staged, lead_customer_link)
        for e in MATCHED_ENTITIES
        if inputs[f"review_{e}"].height
    ]
    review = (
        pl.concat(frames, how="diagonal_relaxed")
        if frames
        else enrich_review("customer", inputs["review_customer"], staged)
    )
    review = review.sort(["entity", "score"], descending=[False, True])
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
