"""match_entity: standardise, block, score, decide, cluster -- one entity at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.match.ambiguity import demote_ambiguous_attachments
from crm_pipelines.match.blocking import PAIR_ID, PAIR_SCHEMA, candidate_pairs, not_yet_paired
from crm_pipelines.match.closure import (
    chain_cannot_links,
    codes_for_chain_vetoes,
    scoring_vetoes,
)
from crm_pipelines.match.clustering import cluster
from crm_pipelines.match.collapse import collapse, compared_columns
from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for
from crm_pipelines.match.decisions import (
    constraints,
    decide,
    demote_uncorroborated,
    lift_vetoes_beside_holder_links,
    veto_expr,
)
from crm_pipelines.match.encode import Encoded
from crm_pipelines.match.holders import holder_details, with_holder_details
from crm_pipelines.match.owner_addresses import with_owner_addresses
from crm_pipelines.match.results import MatchResult, clusters_of, empty_result, outputs
from crm_pipelines.match.scoring import Model, score_pairs
from crm_pipelines.match.settings import EntitySettings, entity_settings
from crm_pipelines.match.standardize import FEATURES, customer_of_persons, with_customer_of
from crm_pipelines.match.stewardship import decided_record_keys, steward_pairs
from crm_pipelines.match.training import model_for

log = logging.getLogger(__name__)


def _uses(cfg: EntitySettings, column: str) -> bool:
    """Whether a comparison, veto or blocking rule of the entity reads this feature column."""
    fields = [*cfg.comparisons, *_veto_only_fields(cfg, cfg.comparisons)]
    compared = {c for f in fields for c in COMPARISONS[f].columns}
    return column in compared or any(column in rule.keys for rule in cfg.blocking)


def _veto_only_fields(cfg: EntitySettings, fields: Sequence[str]) -> list[str]:
    """Fields a veto reads that are no evidence for EM (compared after scoring)."""
    read = sorted({f for v in cfg.vetoes for f in v.fields})
    return [f for f in read if f not in fields]


def _forced_link(entity: str, features: pl.DataFrame, pairs: pl.DataFrame) -> pl.Series:
    """Near-certain links: a person-feed OWNER row and its customer's holder record. The keys
    are compared as integer codes (at 1M persons gathering the key text for 13.7M pairs
    cost 2.7 s, the codes 1.0 s)."""
    if entity != "person":
        return pl.Series("forced", [False] * pairs.height, dtype=pl.Boolean)
    key = features["holder_link_key"].cast(pl.Categorical).to_physical()
    left, right = key.gather(pairs["l"]), key.gather(pairs["r"])
    return (left.is_not_null() & (left == right)).fill_null(False).alias("forced")


def _steward_column(scored: pl.DataFrame, steward: pl.DataFrame) -> pl.Series:
    """`steward`: the steward's decision on each scored pair (null on nearly all): the few
    decided pairs are found by their pair id, not by joining every scored pair."""
    column = pl.Series("steward", [None] * scored.height, dtype=pl.String)
    if steward.height == 0:
        return column
    decided = scored.select(PAIR_ID.is_in(steward.select(PAIR_ID).to_series().implode()))
    rows = decided.to_series().arg_true()
    found = (
        scored[rows]
        .select("l", "r")
        .join(steward, on=["l", "r"], how="left", maintain_order="left")
    )
    return column.scatter(rows, found["steward"])


def match_entity(
    entity: str,
    records: pl.DataFrame,
    decisions: pl.DataFrame | None = None,
    settings: dict | None = None,
    addresses: pl.DataFrame | None = None,
    address_clusters: pl.DataFrame | None = None,
    persons: pl.DataFrame | Path | None = None,
    customer_of: pl.DataFrame | None = None,
    customer_clusters: pl.DataFrame | None = None,
    model_dir: Path | None = None,
    retrain: bool = False,
) -> MatchResult:
    """Match one staged entity frame into clusters of the same real-world thing.

    addresses, address_clusters, persons, customer_of, customer_clusters: the evidence of the
    entities matched before it, each optional (match/evidence.py: who takes what, and why).
    model_dir: where trained models are kept (model_store); a stored model is reused unless
    `retrain`, its comparisons changed, or the candidates drifted. None: train every time.
    """
    laps = _Laps()
    cfg = entity_settings(entity, settings)
    if records.height == 0:
        return empty_result(entity, cfg)
    if persons is not None and entity == "customer":
        records = with_holder_details(records, holder_details(persons))
    features = _features(
        entity, records, cfg, addresses, address_clusters, customer_of, customer_clusters
    )
    record_keys = features["record_key"]
    features, rep_of_record = _representatives(entity, cfg, features, decisions)
    laps.lap("features")
    keys = features.select("rid", "record_key", "source_system", "source_id")
    pairs, by_rule = candidate_pairs(features, cfg.blocking)
    laps.lap("blocking")
    steward = steward_pairs(entity, decisions, keys)
    fields: list[str] = list(cfg.comparisons)
    scored, model, model_info, chain_codes, features = _scored_pairs(
        entity, cfg, features, _with(pairs, steward), fields, steward, model_dir, retrain, laps
    )
    scored, labels, counts = _decide_and_cluster(cfg, scored, features, chain_codes, fields)
    laps.lap("cluster")
    pairs_out, review = outputs(
        entity, scored, keys, fields, cfg.pairs_min_score, model_info["model_version"], labels
    )
    if rep_of_record is not None:
        labels = labels[rep_of_record]
    clusters, sizes = clusters_of(record_keys, labels)
    laps.lap("outputs")
    metrics = {
        "records": record_keys.len(),
        "representatives": features.height,
        "candidate_pairs": pairs.height,
        **_decision_counts(scored, steward.height),
        **counts,
        "sent_to_review": review.height,
        **sizes,
        **model_info,
        **_model_counts(model),
        **laps.totals(scored.height),
    }
    log.info("%s matched: %s", entity, metrics)
    metrics = {"candidate_pairs_by_rule": by_rule, **metrics}
    return MatchResult(entity, clusters, pairs_out, review, metrics)


def _representatives(
    entity: str, cfg: EntitySettings, features: pl.DataFrame, decisions: pl.DataFrame | None
) -> tuple[pl.DataFrame, np.ndarray | None]:
    """Identical records as one representative where the entity collapses them (addresses:
    many records per building), with each record's representative; else as they are."""
    if not cfg.collapse_identical:  # settings refuse it together with term frequencies
        return features, None
    named = decided_record_keys(entity, decisions)
    return collapse(features, compared_columns(cfg, COMPARISONS), named)


def _with(pairs: pl.DataFrame, steward: pl.DataFrame) -> pl.DataFrame:
    """The candidate pairs plus the steward-decided pairs no blocking rule proposed."""
    extra = steward.select("l", "r", pl.lit("steward").alias("rule")).cast(PAIR_SCHEMA)
    return pl.concat([pairs, not_yet_paired(extra, pairs)]) if extra.height else pairs


def _model_counts(model: Model) -> dict:
    return {"em_iterations": model.iterations, "em_match_share": round(model.match_share, 6)}


def _decision_counts(scored: pl.DataFrame, steward_decisions: int) -> dict[str, int]:
    return {
        "pairs_scored": scored.height,
        "auto_matched": int((scored["decision"] == "MATCH").sum()),
        "steward_decisions_applied": steward_decisions,
        "vetoed": int(scored["veto"].sum()),
    }


class _Laps:
    """Seconds per step of one match_entity call (metrics' stage_seconds)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.stages: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = round(now - self.last, 3)
        self.last = now

    def totals(self, pairs_scored: int) -> dict:
        seconds = time.perf_counter() - self.started
        return {
            "seconds": round(seconds, 3),
            "pairs_per_second": round(pairs_scored / seconds, 1) if seconds > 0 else 0.0,
            "stage_seconds": self.stages,
        }


def _features(
    entity: str,
    records: pl.DataFrame,
    cfg: EntitySettings,
    addresses: pl.DataFrame | None,
    address_clusters: pl.DataFrame | None,
    customer_of: pl.DataFrame | None,
    customer_clusters: pl.DataFrame | None,
) -> pl.DataFrame:
    """Standardised features, plus the owned buildings and the golden customer where the
    entity's comparisons or blocking rules read them (a person: the customer it holds a role
    on, from customer_clusters)."""
    if _uses(cfg, "customer_cluster") and customer_clusters is not None and entity == "person":
        customer_of = customer_of_persons(records, customer_clusters)
    features = FEATURES[entity](records)
    if _uses(cfg, "address_keys") or _uses(cfg, "area_keys"):
        features = with_owner_addresses(features, entity, addresses, address_clusters)
    if _uses(cfg, "customer_cluster"):
        features = with_customer_of(features, customer_of)
    return features


def _scored_pairs(
    entity: str,
    cfg: EntitySettings,
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    fields: list[str],
    steward: pl.DataFrame,
    model_dir: Path | None,
    retrain: bool,
    laps: _Laps,
) -> tuple[pl.DataFrame, Model, dict, Encoded, pl.DataFrame]:
    """Levels, model weights and the first decisions (steward, holder link, vetoes,
    thresholds) per pair; also the codes the chain vetoes read and the slimmed features."""
    enc = encode_for(features, fields)
    veto_only = _veto_only_fields(cfg, fields)
    # coded now, sharing the compared columns' codes (the e-mail), not coded anew after scoring
    veto_enc = encode_for(features, veto_only, known=enc) if veto_only else None
    # later stages read only these: dropping the rest frees the derived feature columns
    features = features.select(
        "holder_link_key" if "holder_link_key" in features.columns else "rid",
        *{c for f in veto_only for c in COMPARISONS[f].columns},
    )
    levels = compare_pairs(enc, pairs, fields)
    laps.lap("compare")
    model, model_info = model_for(entity, cfg, enc, fields, levels, model_dir, retrain)
    laps.lap("model")
    levels = levels.head(pairs.height)
    scored = score_pairs(enc.codes, pairs, levels, model, list(cfg.term_frequency))
    chain_codes = codes_for_chain_vetoes(enc, cfg.vetoes)
    del levels, enc
    laps.lap("score")
    if veto_enc is not None:  # checks a steward rule reads that are no evidence for EM
        extra = compare_pairs(veto_enc, pairs, veto_only)
        scored = scored.with_columns(extra.rename({f: f"level_{f}" for f in veto_only}))
    scored = scored.with_columns(
        _forced_link(entity, features, pairs),
        veto_expr(scoring_vetoes(cfg.vetoes)).alias("veto"),
        veto_expr([v for v in scoring_vetoes(cfg.vetoes) if not v.about_contacts]).alias(
            "veto_firm"
        ),
        veto_expr([v for v in scoring_vetoes(cfg.vetoes) if not v.contacts_only]).alias(
            "veto_identity"
        ),
        veto_expr([v for v in scoring_vetoes(cfg.vetoes) if not v.pair_only]).alias("veto_link"),
    )
    laps.lap("vetoes")
    scored = decide(scored.hstack([_steward_column(scored, steward)]), cfg)
    laps.lap("decide")
    return scored, model, model_info, chain_codes, features


def _decide_and_cluster(
    cfg: EntitySettings,
    scored: pl.DataFrame,
    features: pl.DataFrame,
    chain_codes: Encoded,
    fields: list[str],
) -> tuple[pl.DataFrame, np.ndarray, dict[str, int]]:
    """The evidence guards, clusters under the cannot-links, and the chain vetoes: a chain
    may join two records whose own pair was never scored -- they are vetoed too, and a
    record that would join two of them goes to review, as for scored vetoes."""
    scored, lifted = lift_vetoes_beside_holder_links(scored, cfg)
    scored, demoted = demote_uncorroborated(scored, cfg, fields)
    review_ambiguous = cfg.ambiguous_attachments == "review"
    ambiguous = 0
    if review_ambiguous:
        scored, ambiguous = demote_ambiguous_attachments(scored, cfg.decisive_margin_bits)
    edges, cannot = constraints(scored)
    labels, resplit = cluster(features.height, edges, cannot, cfg.max_cluster_size)
    across, checked = chain_cannot_links(
        labels, scored, chain_codes, features, fields, cfg.vetoes, cfg.max_cluster_size
    )
    if across.height:
        if review_ambiguous:
            scored, more = demote_ambiguous_attachments(
                scored, cfg.decisive_margin_bits, only_apart=across
            )
            ambiguous += more
        edges, cannot = constraints(scored)
        cannot = pl.concat([cannot, across.select(cannot.columns).cast(cannot.schema)])
        labels, more = cluster(features.height, edges, cannot, cfg.max_cluster_size)
        resplit += more
    counts = {
        "pairs_checked_across_chains": checked,
        "vetoed_across_chains": across.height,
        "ambiguous_attachments": ambiguous,
        "vetoes_lifted_beside_holder_links": lifted,
        **demoted,
        "resplit_components": resplit,
    }
    return scored, labels, counts
