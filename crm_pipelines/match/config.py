"""Matching governance read from quality_rules/: standardisation rules, nicknames (the
match settings themselves are typed in match/settings.py)."""

from __future__ import annotations

import csv
from functools import cache
from typing import Any

from crm_pipelines.paths import QUALITY_RULES_DIR, quality_rules


def standardization() -> dict[str, Any]:
    return quality_rules("standardization.yaml")


@cache
def nickname_pairs() -> tuple[tuple[str, str], ...]:
    """(nickname, formal name) rows as written; one nickname may serve several names."""
    with open(QUALITY_RULES_DIR / "nicknames.csv", encoding="utf-8") as handle:
        return tuple((r["nickname"].strip(), r["name"].strip()) for r in csv.DictReader(handle))
