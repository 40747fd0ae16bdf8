"""Fellegi-Sunter scoring: u from random record pairs, m and the match share by EM.

Score convention: `score` is the posterior match probability (0..1); `log2_odds` is the sum of
the prior log-odds and the per-field log2 Bayes factors kept in the `w_<field>` columns.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS, Comparison, compare_pairs
from crm_pipelines.match.encode import Encoded

log = logging.getLogger(__name__)

TF_ADJUSTMENT_LIMIT = 5.0  # log2 units a value's rarity/commonness may move an agreement
PROB_FLOOR = 1e-6


def same_level(field: str) -> int | None:
    """Index of a comparison's exact-agreement level (None: it has none)."""
    levels = COMPARISONS[field].levels
    return levels.index("same") if "same" in levels else None


@dataclass
class FieldModel:
    m: np.ndarray  # per level, level 0 (missing) unused
    u: np.ndarray

    # exact agreement floored at the best partial one (index of "same"; None: no floor)
    same: int | None = None

    @property
    def raw_weights(self) -> np.ndarray:
        """log2(m/u) per level as EM left them (level 0, missing, weighs nothing)."""
        w = np.log2(np.maximum(self.m, PROB_FLOOR) / np.maximum(self.u, PROB_FLOOR))
        w[0] = 0.0
        return w

    @property
    def weights(self) -> np.ndarray:
        """The raw weights, exact agreement floored where `same` is set (see training)."""
        w = self.raw_weights
        if self.same is not None and len(w) > 2:
            w[self.same] = max(w[self.same], w[1:].max())
        return w


@dataclass
class Model:
    fields: dict[str, FieldModel]
    match_share: float  # among candidate pairs
    iterations: int
    candidate_pairs: int = 0

    def same_counts_against(self) -> list[str]:
        """Fields whose exact agreement EM weighs as evidence against a match: a sign it
        took something else (a name variant, a shared block key) for its match class."""
        return [
            f
            for f, fm in self.fields.items()
            if (same := same_level(f)) is not None and fm.raw_weights[same] < 0
        ]

    def prior_log2_odds(self, records: int) -> float:
        """Prior odds that two *random* records match (the u are random-pair frequencies)."""
        all_pairs = max(records * (records - 1) / 2, 1.0)
        p = min(max(self.match_share * self.candidate_pairs / all_pairs, 1e-12), 0.5)
        return math.log2(p / (1 - p))


def estimate_u(
    enc: Encoded, fields: list[str], sample_pairs: int, seed: int
) -> dict[str, np.ndarray]:
    """Level frequencies among random record pairs: what agreement looks like by chance."""
    n = enc.codes.height
    rng = np.random.default_rng(seed)
    count = min(sample_pairs, max(n * (n - 1) // 2, 1))
    left = rng.integers(0, n, count, dtype=np.uint32)
    right = rng.integers(0, n, count, dtype=np.uint32)
    keep = left != right
    pairs = pl.DataFrame({"l": left[keep], "r": right[keep]})
    levels = compare_pairs(enc, pairs, fields)
    u = {}
    for f in fields:
        k = len(COMPARISONS[f].levels)
        counts = np.bincount(levels[f].to_numpy(), minlength=k)[:k].astype(float)
        counts[0] = 0.0
        present = counts[1:].sum()
        u[f] = (
            np.concatenate([[0.0], (counts[1:] + 0.5) / (present + 0.5 * (k - 1))])
            if present
            else np.full(k, 1.0 / k)
        )
    return u


def _initial_m(levels: tuple[str, ...]) -> np.ndarray:
    """Agreement levels likely among matches, disagreement unlikely."""
    k = len(levels)
    raw = np.array([0.0] + [2.0**i for i in range(k - 1)])
    raw[1] = 0.05 * raw[1:].sum()
    return raw / raw.sum()


def _candidate_mix(codes: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Level frequencies among all candidate pairs (missing excluded), smoothed."""
    mass = np.bincount(codes, weights=counts, minlength=k)[:k].astype(float)
    mass[0] = 0.0
    present = mass[1:].sum()
    if not present:
        return np.full(k, 1.0 / k)
    return np.concatenate([[0.0], (mass[1:] + 0.5) / (present + 0.5 * (k - 1))])


def train(
    levels: pl.DataFrame,
    u: dict[str, np.ndarray],
    prior: float,
    iterations: int,
    tolerance: float,
    non_match_start: str = "random_pairs",
    m_pseudo: float = 0.0,
) -> Model:
    """EM over the distinct comparison patterns (weighted by count).

    Both m and u are re-estimated on the candidates: candidates hold "same name, other
    person" pairs that random pairs never show, and a fixed random u would push them into
    the match class. non_match_start: where the non-match class starts. From random-pair u
    ("random_pairs") any agreement that blocking selected for (a shared name in a name
    block) looks like a match, and where common names fill the name blocks with namesakes
    EM settles on "same name" as its match class; from the candidates' own level mix
    ("candidates") it cannot, but on candidates that are mostly matches it is a poor start.
    The returned model keeps the random-pair u for weights ("how much likelier among
    matches than by chance").
    """
    fields = list(levels.columns)
    patterns = levels.group_by(fields).len()
    counts = patterns["len"].to_numpy().astype(float)
    codes = {f: patterns[f].to_numpy().astype(np.int64) for f in fields}
    starts = {
        "candidates": lambda: {
            f: _candidate_mix(codes[f], counts, len(COMPARISONS[f].levels)) for f in fields
        },
        "random_pairs": lambda: {f: u[f].copy() for f in fields},
    }
    if non_match_start not in starts:
        raise ValueError(f"em non_match_start: unknown value {non_match_start!r}")
    tried: list[Model] = []
    # the configured start first; the other one only when the first gave an implausible model
    for start in sorted(starts, key=lambda name: name != non_match_start):
        m, share, done, _ = _em(
            codes, counts, starts[start](), prior, iterations, tolerance, m_pseudo
        )
        model = Model({f: FieldModel(m[f], u[f]) for f in fields}, share, done, int(counts.sum()))
        against = model.same_counts_against()
        log.info("EM from %s: %d iterations, match share %.4f", start, done, share)
        if not against:
            return model
        log.warning("EM from %s: the same %s counts against a match", start, against)
        tried.append(model)
    # both odd (collapsed addresses: identical spellings are gone, so the candidates that
    # match differ in spelling): keep the configured start's model, as before the retry
    return tried[0]


def _em(
    codes: dict[str, np.ndarray],
    counts: np.ndarray,
    u_c: dict[str, np.ndarray],
    prior: float,
    iterations: int,
    tolerance: float,
    m_pseudo: float,
) -> tuple[dict[str, np.ndarray], float, int, float]:
    """One EM run: m, the match share, iterations and the final log-likelihood."""
    fields = list(codes)
    m = {f: _initial_m(COMPARISONS[f].levels) for f in fields}
    u_c = dict(u_c)
    share = prior
    done = 0
    loglik = -np.inf
    for iteration in range(1, iterations + 1):
        done = iteration
        log_m = np.zeros(len(counts))
        log_u = np.zeros(len(counts))
        for f in fields:
            present = codes[f] > 0
            log_m += np.where(present, np.log(np.maximum(m[f][codes[f]], PROB_FLOOR)), 0.0)
            log_u += np.where(present, np.log(np.maximum(u_c[f][codes[f]], PROB_FLOOR)), 0.0)
        joint_m = math.log(share) + log_m
        joint_u = math.log(1 - share) + log_u
        loglik = float((counts * np.logaddexp(joint_m, joint_u)).sum())
        post = 1.0 / (1.0 + np.exp(-np.clip(joint_m - joint_u, -50, 50)))
        weighted = counts * post
        new_share = float(np.clip(weighted.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        delta = abs(new_share - share)
        for f in fields:
            k = len(COMPARISONS[f].levels)
            mass = np.bincount(codes[f], weights=weighted, minlength=k)[:k]
            mass[0] = 0.0
            total = mass.sum()
            # a level never seen among a few hundred matches is rare, not impossible: at
            # the 1e-6 floor an e-mail that differs weighed -20 bits and outvoted a shared
            # phone and name; m_pseudo_count pseudo-pairs per level (a Dirichlet prior,
            # match_settings.yaml) keep it finite and vanish against real volumes
            new_m = (
                np.concatenate([[0.0], (mass[1:] + m_pseudo) / (total + m_pseudo * (k - 1))])
                if total
                else m[f]
            )
            delta = max(delta, float(np.abs(new_m - m[f]).max()))
            m[f] = new_m
            mass_u = np.bincount(codes[f], weights=counts - weighted, minlength=k)[:k]
            mass_u[0] = 0.0
            if mass_u.sum():
                u_c[f] = np.concatenate([[0.0], np.maximum(mass_u[1:] / mass_u.sum(), PROB_FLOOR)])
        share = new_share
        if delta < tolerance:
            break
    return m, share, done, loglik


def term_frequencies(features: pl.DataFrame, column: str) -> pl.DataFrame:
    return (
        features.select(pl.col(column).alias("value"))
        .drop_nulls()
        .group_by("value")
        .len()
        .with_columns((pl.col("len") / pl.col("len").sum()).alias("freq"))
        .select("value", "freq")
    )


def score_pairs(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    levels: pl.DataFrame,
    model: Model,
    tf_fields: list[str],
) -> pl.DataFrame:
    """pairs + level columns + w_<field> contributions + log2_odds + score (probability)."""
    prior = model.prior_log2_odds(features.height)
    out = pl.concat(
        [pairs, levels.rename({f: f"level_{f}" for f in levels.columns})], how="horizontal"
    )
    weight_cols = []
    for f, fm in model.fields.items():
        weights = pl.Series(fm.weights.astype(np.float64))
        w = weights.gather(levels[f].cast(pl.UInt32)).alias(f"w_{f}")
        out = out.with_columns(w)
        comparison = COMPARISONS[f]
        if f in tf_fields and comparison.tf_column:
            out = _tf_adjust(out, features, f, comparison, fm)
        weight_cols.append(f"w_{f}")
    return out.with_columns(
        (pl.lit(prior) + pl.sum_horizontal(weight_cols)).alias("log2_odds")
    ).with_columns((1.0 / (1.0 + (2.0 ** (-pl.col("log2_odds"))))).alias("score"))


def _tf_adjust(
    out: pl.DataFrame,
    features: pl.DataFrame,
    field: str,
    comparison: Comparison,
    fm: FieldModel,
) -> pl.DataFrame:
    """A shared rare value counts more than a shared common one (Novák vs Zvonař)."""
    same = comparison.levels.index("same")
    agree = [same] + ([comparison.levels.index("alike")] if "alike" in comparison.levels else [])
    column = comparison.tf_column
    freq = term_frequencies(features, column)
    # the chance that two random values agree, from the same frequencies as `freq`: the
    # sampled u of "same" is mostly smoothing for rare-valued fields and would turn every
    # rare value's adjustment negative
    u_same = float((freq["freq"] ** 2).sum()) if freq.height else float(fm.u[same])
    # the adjustment of each record's value (null: no value), gathered onto the pairs by
    # row index: a join of every pair on its value cost seconds at 1M customers
    per_record = (
        features.select(pl.col(column).alias("value"))
        .join(freq, on="value", how="left", maintain_order="left")
        .select(
            (pl.lit(u_same) / pl.col("freq"))
            .log(2)
            .clip(-TF_ADJUSTMENT_LIMIT, TF_ADJUSTMENT_LIMIT)
            .alias("_adjustment")
        )
        .to_series()
    )
    # the commoner of the two records' values: a swapped reading agrees on "green" as a
    # surname while the left record holds it as a (rare) first name, and a nickname or typo
    # is as telling as the common form it stands for
    adjustment = pl.min_horizontal(per_record.gather(out["l"]), per_record.gather(out["r"]))
    weight = pl.col(f"w_{field}")
    return out.with_columns(
        pl.when(pl.col(f"level_{field}").is_in(agree) & adjustment.is_not_null())
        .then(weight + adjustment)
        .otherwise(weight)
        .alias(f"w_{field}")
    )
