"""match_entity: standardise, block, score, decide, cluster -- one entity at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.match.ambiguity import demote_ambiguous_attachments
from crm_pipelines.match.blocking import PAIR_SCHEMA, candidate_pairs, not_yet_paired
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
from crm_pipelines.match.reasons import reason_expr
from crm_pipelines.match.scoring import Model, score_pairs
from crm_pipelines.match.settings import EntitySettings, entity_settings
from crm_pipelines.match.standardize import FEATURES, customer_of_persons, with_customer_of
from crm_pipelines.match.stewardship import decided_record_keys, steward_pairs
from crm_pipelines.match.training import model_for

log = logging.getLogger(__name__)

REVIEW_SCHEMA = {
    "entity": pl.String,
    "left_source_system": pl.String,
    "left_source_id": pl.String,
    "right_source_system": pl.String,
    "right_source_id": pl.String,
    "score": pl.Float64,
    "reason": pl.String,
    "left_record_key": pl.String,
    "right_record_key": pl.String,
    "model_version": pl.String,  # the trained model (model_store) that scored the pair
}


@dataclass
class MatchResult:
    """Clusters (cluster_id = min record_key), scored pairs, review queue and run metrics.

    pairs.score is the posterior match probability 0..1 (log2_odds and the per-field
    log2 Bayes factors w_<field> explain it); level_<field> holds the agreement level codes
    (names in comparisons.COMPARISONS); rule is the first blocking rule that found the pair.
    Clear non-matches (score below settings' pairs_min_score, not steward-decided) are left
    out of `pairs` to keep it small; metrics["pairs_scored"] counts them all.
    """

    entity: str
    clusters: pl.DataFrame
    pairs: pl.DataFrame
    review: pl.DataFrame
    metrics: dict = field(default_factory=dict)


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
    """Near-certain links: a person-feed OWNER row and its customer's holder record."""
    if entity != "person":
        return pl.Series("forced", [False] * pairs.height, dtype=pl.Boolean)
    key = features["holder_link_key"]
    left, right = key.gather(pairs["l"]), key.gather(pairs["r"])
    return (left.is_not_null() & (left == right)).fill_null(False).alias("forced")


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

    addresses: the staged address frame (optional); an entity whose settings compare
    `address` (customers) then compares the buildings its records own, which separates
    namesakes from one person with two contacts.
    address_clusters: the matched addresses (record_key, cluster_id), optional; buildings are
    then compared as golden addresses, so a misspelt street still names the same building.
    persons: the staged persons (frame or Parquet file), optional; an individual customer's
    holder row (role OWNER) lends the birth date and contacts its customer row lacks.
    customer_of: record_key -> customer_cluster, the golden customer a record was linked to
    (optional; leads compare it when match_settings lists the `customer` comparison).
    customer_clusters: the matched customers (record_key, cluster_id), optional; a person
    record then compares the golden customer it holds a role on.
    model_dir: where trained models are kept (model_store); a stored model is reused unless
    `retrain`, its comparisons changed, or the candidates drifted. None: train every time.
    """
    laps = _Laps()
    cfg = entity_settings(entity, settings)
    if records.height == 0:
        return _empty_result(entity, cfg)
    fields: list[str] = list(cfg.comparisons)
    if persons is not None and entity == "customer":
        records = with_holder_details(records, holder_details(persons))
    if _uses(cfg, "customer_cluster") and customer_clusters is not None and entity == "person":
        customer_of = customer_of_persons(records, customer_clusters)
    features = _features(entity, records, cfg, addresses, address_clusters, customer_of)
    record_keys = features["record_key"]
    rep_of_record = None
    if cfg.collapse_identical:  # settings refuse it together with term frequencies
        named = decided_record_keys(entity, decisions)
        features, rep_of_record = collapse(features, compared_columns(cfg, COMPARISONS), named)
    laps.lap("features")
    keys = features.select("rid", "record_key", "source_system", "source_id")

    pairs, by_rule = candidate_pairs(features, cfg.blocking)
    laps.lap("blocking")
    candidates = pairs.height
    steward = steward_pairs(entity, decisions, keys)
    extra = steward.select("l", "r", pl.lit("steward").alias("rule")).cast(PAIR_SCHEMA)
    if extra.height:
        pairs = pl.concat([pairs, not_yet_paired(extra, pairs)])

    scored, model, model_info, chain_codes, features = _scored_pairs(
        entity, cfg, features, pairs, fields, steward, model_dir, retrain, laps
    )
    scored, labels, counts = _decide_and_cluster(cfg, scored, features, chain_codes, fields)
    laps.lap("cluster")

    pairs_out, review = _outputs(
        entity, scored, keys, fields, cfg.pairs_min_score, model_info["model_version"], labels
    )
    if rep_of_record is not None:
        labels = labels[rep_of_record]
    clusters = (
        pl.DataFrame({"record_key": record_keys})
        .with_columns(pl.Series("label", labels))
        .with_columns(pl.col("record_key").min().over("label").alias("cluster_id"))
        .select("record_key", "cluster_id")
    )
    laps.lap("outputs")
    sizes = np.bincount(labels)  # a label per cluster_id, so the same sizes
    sizes = sizes[sizes > 0]
    metrics = {
        "candidate_pairs_by_rule": by_rule,
        "records": record_keys.len(),
        "representatives": features.height,
        "candidate_pairs": candidates,
        "pairs_scored": scored.height,
        "auto_matched": int((scored["decision"] == "MATCH").sum()),
        "steward_decisions_applied": steward.height,
        "vetoed": int(scored["veto"].sum()),
        **counts,
        "sent_to_review": review.height,
        "clusters": len(sizes),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        **model_info,
        "em_iterations": model.iterations,
        "em_match_share": round(model.match_share, 6),
        **laps.totals(scored.height),
    }
    log.info(
        "%s matched: %s",
        entity,
        {k: v for k, v in metrics.items() if k != "candidate_pairs_by_rule"},
    )
    return MatchResult(entity, clusters, pairs_out, review, metrics)


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
) -> pl.DataFrame:
    """Standardised features, plus the owned buildings and the golden customer where the
    entity's comparisons or blocking rules read them."""
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
    # the (few) steward decisions joined on the pair columns alone, not on every scored column
    steward_col = scored.select("l", "r").join(
        steward, on=["l", "r"], how="left", maintain_order="left"
    )
    scored = decide(scored.hstack([steward_col["steward"]]), cfg)
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


def _outputs(
    entity: str,
    scored: pl.DataFrame,
    keys: pl.DataFrame,
    fields: list[str],
    min_score: float,
    model_version: str,
    labels: np.ndarray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs worth explaining (not the clear non-matches below min_score) and the review
    queue: REVIEW pairs whose records the clusters (labels, per row index) keep apart. A
    REVIEW pair the other MATCH edges already joined asks nothing a steward's MATCH would
    change (at 20k customers 43% of the person queue); it stays in the pairs."""
    weight_cols = [f"w_{f}" for f in fields]
    level_cols = [f"level_{f}" for f in fields]
    needed = ["l", "r", "score", "decision", "log2_odds", "rule", *weight_cols, *level_cols]
    needed.append("note")
    kept = scored.select(needed).filter(
        (pl.col("score") >= min_score) | (pl.col("decision") != "NO_MATCH")
    )
    named = _with_record_columns(kept, keys, ["record_key"])
    pairs_out = named.select(
        "left_record_key",
        "right_record_key",
        "score",
        "decision",
        "log2_odds",
        "rule",
        *weight_cols,
        *level_cols,
    )
    review = (
        _with_record_columns(
            named.filter(
                (pl.col("decision") == "REVIEW")
                & pl.Series(labels[named["l"].to_numpy()] != labels[named["r"].to_numpy()])
            ),
            keys,
            ["source_system", "source_id"],
        )
        .with_columns(
            pl.lit(entity).alias("entity"),
            _review_reason(fields).alias("reason"),
            pl.lit(model_version).alias("model_version"),
        )
        .select(list(REVIEW_SCHEMA))
        .cast(REVIEW_SCHEMA)
        .sort("score", descending=True)
    )
    return pairs_out, review


def _with_record_columns(
    pairs: pl.DataFrame, keys: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """left_<c> / right_<c> of each pair's records, gathered by row index."""
    return pairs.with_columns(
        *[keys[c].gather(pairs["l"]).alias(f"left_{c}") for c in columns],
        *[keys[c].gather(pairs["r"]).alias(f"right_{c}") for c in columns],
    )


def _review_reason(fields: list[str]) -> pl.Expr:
    """Why a steward sees the pair: the guard that held it back (if any), then the evidence."""
    return pl.concat_str([pl.col("note"), reason_expr(fields)], separator="; ", ignore_nulls=True)


def _empty_result(entity: str, cfg: EntitySettings) -> MatchResult:
    clusters = pl.DataFrame(schema={"record_key": pl.String, "cluster_id": pl.String})
    pairs = pl.DataFrame(
        schema={
            "left_record_key": pl.String,
            "right_record_key": pl.String,
            "score": pl.Float64,
            "decision": pl.String,
        }
    )
    metrics = {
        "candidate_pairs_by_rule": {r.rule: 0 for r in cfg.blocking},
        "records": 0,
        "candidate_pairs": 0,
        "pairs_scored": 0,
        "auto_matched": 0,
        "sent_to_review": 0,
        "clusters": 0,
        "largest_cluster": 0,
        "seconds": 0.0,
        "pairs_per_second": 0.0,
    }
    return MatchResult(entity, clusters, pairs, pl.DataFrame(schema=REVIEW_SCHEMA), metrics)
