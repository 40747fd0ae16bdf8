"""From scores to decisions: steward rulings, vetoes, thresholds, and the evidence a MATCH needs.

A high score is not always enough. Two guards, both steward settings in match_settings.yaml,
send a would-be MATCH to review instead:

- corroborated_by: besides the names, one of these fields must agree. A rare name alone
  scores high, yet two records that share nothing but a name are a steward's call -- and
  only when the score alone would have merged them; weaker name-only pairs are not queued.
- shared_by_namesakes: fields a family shares (the building). An edge whose only
  corroboration is one of them is not trusted where a namesake lives: when either record was
  kept apart (vetoed) from another record of the same name at the same place, the name and
  the place no longer tell which of the two it is (father and son of one name at one address).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from crm_pipelines.match.comparisons import COMPARISONS
from crm_pipelines.match.stewardship import veto_links_outranked

if TYPE_CHECKING:
    from crm_pipelines.match.settings import EntitySettings, Veto

PARTY_NAMES = ("first_name", "last_name", "org_name")  # what namesakes share
# levels that are no agreement: a birth date years apart (near, within a generation) is
# weighed by the model but corroborates nothing (FEBRL4: a swapped name with typos, born four
# years apart, was MATCHed on it)
NOT_AGREEING = (
    "missing",
    "different",
    "near",
    "maiden_or_married",
    "gender_mismatch",
    "conflicting",
)


def agrees(field: str) -> pl.Expr:
    """The pair agrees on the field (exactly or at a fuzzy / variant level)."""
    levels = COMPARISONS[field].levels
    codes = [i for i, name in enumerate(levels) if name not in NOT_AGREEING]
    return pl.col(f"level_{field}").is_in(codes)


def level_codes(field: str, level: str | Sequence[str]) -> list[int]:
    """The codes of one level name, or of any of a list of them ([same, different]: compared;
    match/settings.py refuses an unknown name at load)."""
    names = [level] if isinstance(level, str) else list(level)
    return [COMPARISONS[field].levels.index(n) for n in names]


def veto_expr(vetoes: Sequence[Veto]) -> pl.Expr:
    """A veto holds when every `when` condition does and no `unless` condition does; a
    condition names one level or a list of levels (any of them)."""

    def holds(conditions: Mapping[str, Sequence[str]]) -> pl.Expr:
        return pl.all_horizontal(
            [pl.col(f"level_{f}").is_in(level_codes(f, level)) for f, level in conditions.items()]
        )

    exprs = []
    for veto in vetoes:
        expr = holds(veto.when)
        for f, level in veto.unless.items():
            expr = expr & ~holds({f: level})
        exprs.append(expr)
    return pl.any_horizontal(exprs) if exprs else pl.lit(False)


def by_thresholds(cfg: EntitySettings) -> pl.Expr:
    """MATCH / REVIEW / NO_MATCH by the score alone."""
    upper, lower = cfg.thresholds.upper, cfg.thresholds.lower
    return (
        pl.when(pl.col("score") >= upper)
        .then(pl.lit("MATCH"))
        .when(pl.col("score") >= lower)
        .then(pl.lit("REVIEW"))
        .otherwise(pl.lit("NO_MATCH"))
    )


def decide(scored: pl.DataFrame, cfg: EntitySettings) -> pl.DataFrame:
    """Steward first, then the holder link, then vetoes, then the two thresholds."""
    decision = (
        pl.when(pl.col("steward") == "MATCH")
        .then(pl.lit("STEWARD_MATCH"))
        .when(pl.col("steward") == "NO_MATCH")
        .then(pl.lit("STEWARD_NO_MATCH"))
        .when(pl.col("forced"))
        .then(pl.lit("MATCH"))
        .when(pl.col("veto"))
        .then(pl.lit("NO_MATCH"))
        .otherwise(by_thresholds(cfg))
    )
    return scored.with_columns(decision.alias("decision"), pl.lit(None, pl.String).alias("note"))


def demote_to_review(scored: pl.DataFrame, hit: pl.Expr, note: str) -> tuple[pl.DataFrame, int]:
    """MATCH edges (not holder links) where `hit` holds -> REVIEW with `note`; and how many."""
    hit = hit & (pl.col("decision") == "MATCH") & ~pl.col("forced")
    count = int(scored.select(hit.sum()).item())
    if count:
        scored = scored.with_columns(
            pl.when(hit).then(pl.lit("REVIEW")).otherwise(pl.col("decision")).alias("decision"),
            pl.when(hit).then(pl.lit(note)).otherwise(pl.col("note")).alias("note"),
        )
    return scored, count


def demote_uncorroborated(
    scored: pl.DataFrame, cfg: EntitySettings, fields: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, int]]:
    """MATCH edges lacking the evidence corroborated_by / shared_by_namesakes ask for ->
    REVIEW (with a note); name-only pairs that were REVIEW by score alone -> NO_MATCH."""
    corroborating = [f for f in cfg.corroborated_by if f"level_{f}" in scored.columns]
    counts = {"uncorroborated": 0, "namesake_at_place": 0}
    if not corroborating:
        return scored, counts
    name_only = ~pl.any_horizontal([agrees(f) for f in corroborating])
    # below the upper threshold a name alone is no steward's work: at 2,000 customers such
    # pairs were 93% of the person review queue
    scored = scored.with_columns(
        pl.when(name_only & (pl.col("decision") == "REVIEW"))
        .then(pl.lit("NO_MATCH"))
        .otherwise(pl.col("decision"))
        .alias("decision")
    )
    scored, counts["uncorroborated"] = demote_to_review(scored, name_only, "only the name agrees")
    shared = [f for f in cfg.shared_by_namesakes if f in corroborating]
    personal = [f for f in corroborating if f not in shared]
    names = [f for f in PARTY_NAMES if f in fields]
    if not shared or not names:
        return scored, counts
    name_present = pl.any_horizontal([pl.col(f"level_{f}") > 0 for f in names])
    names_agree = name_present & pl.all_horizontal(
        [agrees(f) | (pl.col(f"level_{f}") == 0) for f in names]
    )
    namesakes = (
        scored.lazy()
        .filter(pl.col("veto") & names_agree & pl.any_horizontal([agrees(f) for f in shared]))
        .select("l", "r")
        .collect()
    )
    if namesakes.height == 0:
        return scored, counts
    living_with_namesake = np.unique(np.concatenate([namesakes["l"], namesakes["r"]]))
    near_namesake = pl.col("l").is_in(living_with_namesake) | pl.col("r").is_in(
        living_with_namesake
    )
    no_personal = ~pl.any_horizontal([agrees(f) for f in personal]) if personal else pl.lit(True)
    scored, counts["namesake_at_place"] = demote_to_review(
        scored,
        no_personal & near_namesake,
        "a namesake kept apart lives at the same place; nothing personal agrees",
    )
    return scored, counts


def constraints(scored: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """MATCH edges (stewards strongest, then holder links, then by log-odds) and cannot-links
    (steward NO_MATCH and vetoed pairs -- not by a pair_only veto, which stops only the
    pair's own edge; and no veto between records a chain of steward MATCH decisions joins:
    the steward's ruling stands)."""
    strength = (
        pl.when(pl.col("decision") == "STEWARD_MATCH")
        .then(pl.lit(np.inf))
        .when(pl.col("forced"))
        .then(pl.lit(1e6))
        .otherwise(pl.col("log2_odds"))
    )
    # (lazy: only the columns read are filtered, not every scored column)
    edges = (
        scored.lazy()
        .filter(pl.col("decision").is_in(["MATCH", "STEWARD_MATCH"]))
        .select("l", "r", strength.alias("strength"))
        .collect()
    )
    cannot = (
        scored.lazy()
        .filter(
            (pl.col("decision") == "STEWARD_NO_MATCH")
            | ((pl.col("decision") == "NO_MATCH") & pl.col("veto") & pl.col("veto_link"))
        )
        .select("l", "r")
        .collect()
    )
    return edges, veto_links_outranked(cannot, scored)


def lift_vetoes_beside_holder_links(
    scored: pl.DataFrame, cfg: EntitySettings
) -> tuple[pl.DataFrame, int]:
    """Contact vetoes on a record the master already tied to its twin record -> lifted.

    An individual customer's row speaks for its holder, and that holder's own person row
    is joined to it by the holder link (one human, by the master's own records). The
    customer row's e-mail and phone are that human's too -- a second mailbox, the account's
    number. When the holder's person row MATCHes a record, the customer row's other
    contact is no sign of another person there: a veto reading only contacts (and the
    home) is lifted and the pair decided by its score -- never one on names, birth dates or
    ids (twins: one's customer row, the other's bare person row). A lifted veto is no
    cannot-link, so it no longer cuts the holder off from its own records.
    """
    soft = pl.col("veto") & ~pl.col("veto_firm") & pl.col("steward").is_null()
    # (lazy: only the columns read are filtered, not every scored column)
    vetoed = scored.lazy().with_row_index("_row").filter(soft).select("_row", "l", "r").collect()
    if vetoed.height == 0:
        return scored, 0
    forced = scored.lazy().filter(pl.col("forced")).select("l", "r").collect()
    partner = pl.concat([forced, forced.select(pl.col("r").alias("l"), pl.col("l").alias("r"))])
    partner = partner.rename({"l": "x", "r": "twin"})
    matched = (
        scored.lazy()
        .filter((pl.col("decision") == "MATCH") & ~pl.col("veto"))
        .select("l", "r")
        .collect()
    )
    matched = pl.concat([matched, matched.select(pl.col("r").alias("l"), pl.col("l").alias("r"))])
    both_ways = pl.concat(
        [
            vetoed.select("_row", pl.col("l").alias("x"), pl.col("r").alias("y")),
            vetoed.select("_row", pl.col("r").alias("x"), pl.col("l").alias("y")),
        ]
    )
    lifted = (
        both_ways.join(partner, on="x")
        .join(matched.rename({"l": "twin", "r": "y"}), on=["twin", "y"], how="semi")
        .select("_row")
        .unique()
    )
    if lifted.height == 0:
        return scored, 0
    rows = np.zeros(scored.height, dtype=bool)
    rows[lifted["_row"].to_numpy()] = True
    hit = pl.lit(pl.Series(rows))
    scored = scored.with_columns(
        pl.when(hit).then(by_thresholds(cfg)).otherwise(pl.col("decision")).alias("decision"),
        (pl.col("veto") & ~hit).alias("veto"),
    )
    return scored, lifted.height
