"""staging -> match: lead -> customer links, clusters and review pairs per entity, the
stewards' review queue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_pipelines.match import match_entity, match_leads_to_customers
from crm_pipelines.match.engine import MatchResult
from crm_pipelines.match.evidence import EVIDENCE, match_inputs
from crm_pipelines.match.standardize import read_for_matching
from crm_pipelines.staged import MATCHED_ENTITIES
from crm_pipelines.stages.frames import (
    LEAD_LINK,
    Key,
    StageInput,
    clusters_key,
    review_key,
    staging,
)
from crm_pipelines.stewardship.review import enrich_review, with_levels

REVIEWED = ("customer", "person", "address", "lead")  # staged feeds the review queue shows


LEAD_LINK_INPUTS = {
    "leads": staging("lead"),
    # read as files: linking needs six of their columns, and only rows meeting a lead
    "customers": staging("customer", as_path=True),
    "persons": staging("person", as_path=True),
}


def link_leads(leads: pl.DataFrame, customers: Path, persons: Path) -> pl.DataFrame:
    """Leads that already are customers: they are not targeted as leads."""
    return match_leads_to_customers(leads, customers, persons)


# the frames each kind of evidence (match/evidence.py) comes from
EVIDENCE_INPUTS = {
    "addresses": staging("address", as_path=True),
    "address_clusters": StageInput(clusters_key("address")),
    "persons": staging("person", as_path=True),
    "customer_links": StageInput(LEAD_LINK),
    "customer_clusters": StageInput(clusters_key("customer")),
}


def match_stage_inputs(entity: str) -> dict[str, StageInput]:
    return {
        # as a file: matching reads only its columns of it (read_for_matching)
        "records": staging(entity, as_path=True),
        "decisions": staging("steward_decision"),
        **{name: EVIDENCE_INPUTS[name] for name in EVIDENCE.get(entity, ())},
    }


@dataclass(frozen=True)
class MatchStage:
    result: MatchResult
    review: pl.DataFrame  # the review pairs with their levels, for the steward's side-by-side

    def outputs(self) -> dict[Key, pl.DataFrame]:
        entity = self.result.entity
        return {clusters_key(entity): self.result.clusters, review_key(entity): self.review}


def match_stage(
    entity: str,
    records: Path,
    decisions: pl.DataFrame,
    model_dir: Path | None,
    **evidence: pl.DataFrame | Path,
) -> MatchStage:
    """Clusters and review pairs of one entity, with the evidence of the entities before it."""

    def load(name: str):  # the staged addresses arrive as a file: read what matching reads
        value = evidence[name]
        return read_for_matching(value, "address") if name == "addresses" else value

    result = match_entity(
        entity,
        read_for_matching(records, entity),
        decisions,
        **match_inputs(entity, load),
        model_dir=model_dir,
    )
    return MatchStage(result, with_levels(result.review, result.pairs))


REVIEW_INPUTS = {
    **{f"review_{e}": StageInput(review_key(e)) for e in MATCHED_ENTITIES},
    # the records' values, read for the reviewed pairs only
    **{f"staged_{e}": staging(e, as_path=True) for e in REVIEWED},
    "lead_customer_link": StageInput(LEAD_LINK),
}


def review_queue(lead_customer_link: pl.DataFrame, **inputs: pl.DataFrame | Path) -> pl.DataFrame:
    """The stewards' queue: every uncertain pair of every entity, strongest first, with both
    records' compared values and levels side by side."""
    staged = {e: inputs[f"staged_{e}"] for e in REVIEWED}
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
    return review.sort(["entity", "score"], descending=[False, True])
