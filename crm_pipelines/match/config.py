"""Matching governance read from quality_rules/: settings, standardisation rules, nicknames."""

from __future__ import annotations

import copy
import csv
from functools import cache
from typing import Any

from crm_pipelines.paths import QUALITY_RULES_DIR, quality_rules


def entity_settings(entity: str, override: dict | None = None) -> dict[str, Any]:
    """The defaults merged with one entity's section, then with a caller's override."""
    raw = quality_rules("match_settings.yaml")
    merged = copy.deepcopy(raw.get("defaults", {}))
    merged.update(copy.deepcopy(raw["entities"][entity]))
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def lead_to_customer_settings() -> dict[str, Any]:
    return quality_rules("match_settings.yaml")["lead_to_customer"]


def standardization() -> dict[str, Any]:
    return quality_rules("standardization.yaml")


@cache
def nickname_pairs() -> tuple[tuple[str, str], ...]:
    """(nickname, formal name) rows as written; one nickname may serve several names."""
    with open(QUALITY_RULES_DIR / "nicknames.csv", encoding="utf-8") as handle:
        return tuple((r["nickname"].strip(), r["name"].strip()) for r in csv.DictReader(handle))
