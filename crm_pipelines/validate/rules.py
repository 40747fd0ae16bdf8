"""The rule catalogue of quality_rules/rules.yaml: ids, severities, descriptions.

The catalogue is the one place severities live, so every rule id the code can emit, and
every rule a feed spec names (`on_unknown:`), must be in it: that is checked when it loads,
so a missing id fails the run at start instead of turning rows into findings of no severity.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crm_pipelines.governance import check_governance_files
from crm_pipelines.ingest.specs import FEEDS, feed_spec
from crm_pipelines.paths import quality_rules

RULES_FILE = "rules.yaml"
RULE_KEYS = {"id", "entities", "severity", "description"}
SEVERITIES = ("ERROR", "WARNING")
# Every rule id written in the code of the ingest and validate stages (tests/test_governance.py
# collects the literals from the source and compares them with this set).
EMITTED_RULE_IDS = frozenset(
    {
        "ADDRESS_FORM_MISSING",
        "DECISION_NOT_APPLIED",
        "ADDRESS_INCOMPLETE",
        "FILE_UNREADABLE",
        "IMPLAUSIBLE_DATE",
        "INVALID_CHARS",
        "INVALID_COUNTRY",
        "INVALID_CURRENCY",
        "INVALID_EMAIL",
        "INVALID_IBAN",
        "INVALID_NATIONAL_ID",
        "INVALID_PHONE",
        "INVALID_POSTCODE",
        "INVALID_REGISTRATION_NO",
        "INVALID_REQUIRED_DATE",
        "INVALID_TIMESTAMP",
        "INVALID_VAT",
        "REQUIRED_FIELD",
        "SELF_PAIRED_DECISION",
        "TEXT_CONTROL_CHARACTERS",
        "TEXT_TOO_LONG",
        "UNKNOWN_CODE",
        "UNKNOWN_DECISION_RECORD",
        "UNKNOWN_OPTIONAL_CODE",
        "UNPARSEABLE_VALUE",
    }
)


@dataclass(frozen=True)
class Rule:
    id: str
    entities: tuple[str, ...]
    severity: str  # ERROR | WARNING
    description: str


def _rule(raw: dict) -> Rule:
    if set(raw) != RULE_KEYS:
        raise ValueError(
            f"{RULES_FILE}: rule {raw.get('id')} must have exactly {sorted(RULE_KEYS)}"
        )
    entities = tuple(FEEDS) if "*" in raw["entities"] else tuple(raw["entities"])
    unknown = set(entities) - set(FEEDS)
    if unknown:
        raise ValueError(f"{RULES_FILE}: rule {raw['id']} names unknown feeds {sorted(unknown)}")
    severity = raw["severity"].upper()
    if severity not in SEVERITIES:
        raise ValueError(f"rule {raw['id']}: severity must be ERROR or WARNING, not {severity}")
    return Rule(raw["id"], entities, severity, raw["description"].strip())


def spec_rule_ids() -> set[str]:
    """Rule ids the feed specs name (a reference's `on_unknown`)."""
    return {c.reference.rule_id for f in FEEDS for c in feed_spec(f).references()}


@cache
def rule_catalogue() -> dict[str, Rule]:
    # The catalogue is read first of all governance (the asset checks are built from it), so
    # every governance file's keys are checked here: a misspelt key names its file and line.
    check_governance_files()
    return catalogue_from(quality_rules(RULES_FILE))


def catalogue_from(document: dict) -> dict[str, Rule]:
    """The rules of a rules.yaml document, refused when an emitted rule id is missing."""
    rules: dict[str, Rule] = {}
    for raw in document["rules"]:
        rule = _rule(raw)
        if rule.id in rules:
            raise ValueError(f"{RULES_FILE}: rule {rule.id} is listed twice")
        rules[rule.id] = rule
    missing = (EMITTED_RULE_IDS | spec_rule_ids()) - set(rules)
    if missing:
        raise ValueError(
            f"{RULES_FILE}: rule ids the code or the feed specs emit are not listed: {sorted(missing)}"
        )
    return rules


def rules_for(entity: str) -> list[Rule]:
    return [rule for rule in rule_catalogue().values() if entity in rule.entities]


def warning_rule_ids() -> list[str]:
    return [rule.id for rule in rule_catalogue().values() if rule.severity == "WARNING"]
