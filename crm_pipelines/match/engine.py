"""match_entity: standardise, block, score, decide, cluster -- one entity at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from crm_pipelines.match import model_store
from crm_pipelines.match.ambiguity import demote_ambiguous_attachments
from crm_pipelines.match.blocking import PAIR_SCHEMA, candidate_pairs
from crm_pipelines.match.closure import (
    chain_cannot_links,
    codes_for_chain_vetoes,
    scoring_vetoes,
)
from crm_pipelines.match.clustering import cluster
from crm_pipelines.match.collapse import collapse, compared_columns
from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for
from crm_pipelines.match.decisions import constraints, decide, demote_uncorroborated, veto_expr
from crm_pipelines.match.encode import Encoded
from crm_pipelines.match.holders import holder_details, with_holder_details
from crm_pipelines.match.reasons import reason_expr
from crm_pipelines.match.scoring import Model, estimate_u, score_pairs, train
from crm_pipelines.match.settings import EntitySettings, entity_settings
from crm_pipelines.match.standardize import (
    FEATURES,
    customer_of_persons,
    with_customer_of,
    with_owner_addresses,
)
from crm_pipelines.match.stewardship import applicable

log = logging.getLogger(__name__)

DECISIONS = ("MATCH", "REVIEW", "NO_MATCH", "STEWARD_MATCH", "STEWARD_NO_MATCH")
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


def _steward_pairs(entity: str, decisions: pl.DataFrame | None, keys: pl.DataFrame) -> pl.DataFrame:
    """Steward decisions as (l, r, steward) on row indices: the one in force per pair, on
    known records, contradicting no other (stewardship.py; validation reports the rest)."""
    empty = pl.DataFrame(schema={"l": pl.UInt32, "r": pl.UInt32, "steward": pl.String})
    if decisions is None or decisions.height == 0:
        return empty
    chosen = applicable(decisions, entity, keys["record_key"])
    index = keys.select("record_key", "rid")
    mapped = (
        chosen.select("left_record_key", "right_record_key", "decision")
        .join(
            index.rename({"record_key": "left_record_key", "rid": "a"}),
            on="left_record_key",
            how="left",
        )
        .join(
            index.rename({"record_key": "right_record_key", "rid": "b"}),
            on="right_record_key",
            how="left",
        )
    )
    unknown = mapped.filter(
        pl.col("a").is_null() | pl.col("b").is_null() | (pl.col("a") == pl.col("b"))
    )
    if unknown.height:
        log.warning(
            "%s: ignored %d steward decisions naming unknown records", entity, unknown.height
        )
    known = mapped.filter(
        pl.col("a").is_not_null() & pl.col("b").is_not_null() & (pl.col("a") != pl.col("b"))
    )
    return known.select(
        pl.min_horizontal("a", "b").cast(pl.UInt32).alias("l"),
        pl.max_horizontal("a", "b").cast(pl.UInt32).alias("r"),
        pl.col("decision").alias("steward"),
    ).unique(["l", "r"], keep="last", maintain_order=True)


def _steward_record_keys(entity: str, decisions: pl.DataFrame | None) -> pl.Series:
    if decisions is None or decisions.height == 0:
        return pl.Series("record_key", [], dtype=pl.String)
    chosen = decisions
    if "entity" in decisions.columns:
        chosen = decisions.filter(pl.col("entity") == entity)
    return pl.concat([chosen["left_record_key"], chosen["right_record_key"]]).unique()


def _not_yet_paired(extra: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Rows of the (few) extra pairs not among the candidate pairs, without hashing all pairs."""
    pair_id = pl.col("l").cast(pl.UInt64) * (1 << 32) + pl.col("r").cast(pl.UInt64)
    extra_ids = extra.select(pair_id).to_series()
    known = pairs.filter(pair_id.is_in(extra_ids.implode())).select(pair_id).to_series()
    return extra.filter(~extra_ids.is_in(known.implode()))


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
    started = time.perf_counter()
    stages: dict[str, float] = {}
    last = [started]

    def _lap() -> float:
        now = time.perf_counter()
        elapsed, last[0] = now - last[0], now
        return round(elapsed, 3)

    cfg = entity_settings(entity, settings)
    if records.height == 0:
        return _empty_result(entity, cfg)
    fields: list[str] = list(cfg.comparisons)
    if persons is not None and entity == "customer":
        records = with_holder_details(records, holder_details(persons))
    features = FEATURES[entity](records)
    if _uses(cfg, "address_keys") or _uses(cfg, "area_keys"):
        features = with_owner_addresses(features, entity, addresses, address_clusters)
    if _uses(cfg, "customer_cluster"):
        if customer_clusters is not None and entity == "person":
            customer_of = customer_of_persons(records, customer_clusters)
        features = with_customer_of(features, customer_of)
    record_keys = features["record_key"]
    rep_of_record = None
    if cfg.collapse_identical:  # settings refuse it together with term frequencies
        named = _steward_record_keys(entity, decisions)
        features, rep_of_record = collapse(features, compared_columns(cfg, COMPARISONS), named)
    stages["features"] = _lap()
    keys = features.select("rid", "record_key", "source_system", "source_id")

    pairs, by_rule = candidate_pairs(features, cfg.blocking)
    stages["blocking"] = _lap()
    candidates = pairs.height
    steward = _steward_pairs(entity, decisions, keys)
    extra = steward.select("l", "r", pl.lit("steward").alias("rule")).cast(PAIR_SCHEMA)
    if extra.height:
        pairs = pl.concat([pairs, _not_yet_paired(extra, pairs)])

    enc = encode_for(features, fields)
    veto_only = _veto_only_fields(cfg, fields)
    # later stages read only these: dropping the rest frees the derived feature columns
    features = features.select(
        "holder_link_key" if "holder_link_key" in features.columns else "rid",
        *{c for f in veto_only for c in COMPARISONS[f].columns},
    )
    levels = compare_pairs(enc, pairs, fields)
    stages["compare"] = _lap()
    model, model_info = _model_for(entity, cfg, enc, fields, levels, model_dir, retrain)
    stages["model"] = _lap()
    levels = levels.head(pairs.height)
    scored = score_pairs(enc.codes, pairs, levels, model, list(cfg.term_frequency))
    vetoes = cfg.vetoes
    chain_codes = codes_for_chain_vetoes(enc, vetoes)
    del levels, enc
    stages["score"] = _lap()

    if veto_only:  # checks a steward rule reads that are no evidence for EM
        extra = compare_pairs(encode_for(features, veto_only), pairs, veto_only)
        scored = scored.with_columns(extra.rename({f: f"level_{f}" for f in veto_only}))
    scored = scored.with_columns(
        _forced_link(entity, features, pairs), veto_expr(scoring_vetoes(vetoes)).alias("veto")
    )
    # the (few) steward decisions joined on the pair columns alone, not on every scored column
    steward_col = scored.select("l", "r").join(
        steward, on=["l", "r"], how="left", maintain_order="left"
    )
    scored = decide(scored.hstack([steward_col["steward"]]), cfg)
    scored, demoted = demote_uncorroborated(scored, cfg, fields)
    ambiguous = 0
    if cfg.ambiguous_attachments == "review":
        scored, ambiguous = demote_ambiguous_attachments(scored)
    edges, cannot = constraints(scored)
    labels, resplit = cluster(features.height, edges, cannot, cfg.max_cluster_size)
    # a chain may join two records whose own pair was never scored: veto them too, and
    # send a record that would join two of them to review, as for scored vetoes
    across, checked = chain_cannot_links(
        labels, scored, chain_codes, features, fields, vetoes, cfg.max_cluster_size
    )
    del chain_codes
    if across.height:
        if cfg.ambiguous_attachments == "review":
            scored, more = demote_ambiguous_attachments(scored, also_apart=across)
            ambiguous += more
        edges, cannot = constraints(scored)
        cannot = pl.concat([cannot, across.select(cannot.columns).cast(cannot.schema)])
        labels, more = cluster(features.height, edges, cannot, cfg.max_cluster_size)
        resplit += more
    stages["cluster"] = _lap()

    if rep_of_record is not None:
        labels = labels[rep_of_record]
    clusters = (
        pl.DataFrame({"record_key": record_keys})
        .with_columns(pl.Series("label", labels))
        .with_columns(pl.col("record_key").min().over("label").alias("cluster_id"))
        .select("record_key", "cluster_id")
    )
    pairs_out, review = _outputs(
        entity, scored, keys, fields, cfg.pairs_min_score, model_info["model_version"]
    )
    stages["outputs"] = _lap()
    seconds = time.perf_counter() - started
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
        "pairs_checked_across_chains": checked,
        "vetoed_across_chains": across.height,
        "ambiguous_attachments": ambiguous,
        **demoted,
        "sent_to_review": review.height,
        "clusters": len(sizes),
        "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        "resplit_components": resplit,
        **model_info,
        "em_iterations": model.iterations,
        "em_match_share": round(model.match_share, 6),
        "seconds": round(seconds, 3),
        "pairs_per_second": round(scored.height / seconds, 1) if seconds > 0 else 0.0,
        "stage_seconds": stages,
    }
    log.info(
        "%s matched: %s",
        entity,
        {k: v for k, v in metrics.items() if k != "candidate_pairs_by_rule"},
    )
    return MatchResult(entity, clusters, pairs_out, review, metrics)


def _outputs(
    entity: str,
    scored: pl.DataFrame,
    keys: pl.DataFrame,
    fields: list[str],
    min_score: float,
    model_version: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs worth explaining (not the clear non-matches below min_score) and the review queue."""
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
            named.filter(pl.col("decision") == "REVIEW"), keys, ["source_system", "source_id"]
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


def _model_for(
    entity: str,
    cfg: EntitySettings,
    enc: Encoded,
    fields: list[str],
    levels: pl.DataFrame,
    model_dir: Path | None,
    retrain: bool,
) -> tuple[Model, dict]:
    """The stored model when it still fits, else one trained now (and stored)."""
    stored = None if model_dir is None or retrain else model_store.load(model_dir, entity, fields)
    if stored is not None and levels.height:
        drifted = model_store.drift(stored, levels)
        if drifted <= cfg.retrain_drift:
            return stored.model, {
                "model_version": stored.version,
                "model_trained": 0,
                "model_drift": drifted,
            }
        log.warning(
            "%s: candidates drifted %.3f from model %s: retraining", entity, drifted, stored.version
        )
    em = cfg.em
    # u among random representatives, like the prior and the candidate pairs
    u = estimate_u(enc, fields, em.u_sample_pairs, em.seed)
    trained_on = (
        levels
        if levels.height
        else pl.DataFrame([pl.Series(f, [1], dtype=pl.Int8) for f in fields])
    )
    model = train(
        trained_on,
        u,
        cfg.prior_match_probability,
        em.max_iterations,
        em.tolerance,
        em.non_match_start,
        em.m_pseudo_count,
    )
    version = "unsaved"
    if model_dir is not None and levels.height:
        version = model_store.save(model_dir, entity, fields, model, levels).version
    return model, {"model_version": version, "model_trained": 1, "model_drift": 0.0}


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
