"""The rule catalogue of quality_rules/rules.yaml: ids, severities, descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.paths import quality_rules


@dataclass(frozen=True)
class Rule:
    id: str
    entities: tuple[str, ...]
    severity: str  # ERROR | WARNING
    check: str
    description: str


@cache
def rule_catalogue() -> dict[str, Rule]:
    rules = {}
    for raw in quality_rules("rules.yaml")["rules"]:
        entities = tuple(FEEDS) if "*" in raw["entities"] else tuple(raw["entities"])
        severity = raw["severity"].upper()
        if severity not in ("ERROR", "WARNING"):
            raise ValueError(f"rule {raw['id']}: severity must be ERROR or WARNING, not {severity}")
        rules[raw["id"]] = Rule(
            raw["id"], entities, severity, raw["check"], raw["description"].strip()
        )
    return rules


def rules_for(entity: str) -> list[Rule]:
    return [rule for rule in rule_catalogue().values() if entity in rule.entities]


def error_rule_ids() -> list[str]:
    return [rule.id for rule in rule_catalogue().values() if rule.severity == "ERROR"]
