"""Matching governance read from quality_rules/: standardisation rules, nicknames (the
match settings themselves are typed in match/settings.py)."""

from __future__ import annotations

import csv
from functools import cache
from typing import Any

from crm_pipelines.paths import QUALITY_RULES_DIR, quality_rules


def standardization() -> dict[str, Any]:
    return quality_rules("standardization.yaml")


SIMILARITY_CUTOFFS = (
    "swapped_name_jw",
    "first_name_typo_jw",
    "last_name_similar_jw",
    "email_typo_jw",
    "org_name_alike_tsr",
    "org_name_similar_jw",
    "org_name_similar_tsr",
    "street_similar_jw",
    "city_similar_jw",
    "place_town_jw",
    "lead_org_same",
    "lead_org_similar",
)


@cache
def similarity_cutoff(name: str) -> float:
    """A similarity cut-off (0..1) from match_settings.yaml's `similarity` section; the
    section must name exactly the cut-offs the comparisons use."""
    cutoffs = quality_rules("match_settings.yaml")["similarity"]
    missing = [c for c in SIMILARITY_CUTOFFS if c not in cutoffs]
    unknown = [c for c in cutoffs if c not in SIMILARITY_CUTOFFS]
    if missing or unknown:
        raise ValueError(f"match_settings.yaml similarity: missing {missing}, unknown {unknown}")
    value = float(cutoffs[name])
    if not 0.0 < value <= 1.0:
        raise ValueError(f"match_settings.yaml similarity.{name}: {value} is not in (0, 1]")
    return value


@cache
def nickname_pairs() -> tuple[tuple[str, str], ...]:
    """(nickname, formal name) rows as written; one nickname may serve several names."""
    with open(QUALITY_RULES_DIR / "nicknames.csv", encoding="utf-8") as handle:
        return tuple((r["nickname"].strip(), r["name"].strip()) for r in csv.DictReader(handle))
