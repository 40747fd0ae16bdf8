"""Matching settings from quality_rules/match_settings.yaml as frozen, validated dataclasses.

Every key is read, none is defaulted in code: a setting the file lacks (after `defaults`
are merged under an entity) is an error naming it, and so is a level, comparison or
threshold out of range -- a misspelt key or level must not change what gets merged.
Unknown keys are refused earlier, by governance.py's schema of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_pipelines.match.comparisons import COMPARISONS
from crm_pipelines.paths import quality_rules

SETTINGS_FILE = "match_settings.yaml"
NON_MATCH_STARTS = ("random_pairs", "candidates")
AMBIGUOUS_ATTACHMENTS = ("review", "merge")


class MatchSettingsError(ValueError):
    """match_settings.yaml says something the matcher cannot run."""


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise MatchSettingsError(f"{SETTINGS_FILE}: {where} lacks {key!r} (no default in code)")
    return raw[key]


@dataclass(frozen=True)
class Thresholds:
    upper: float  # score at or above: MATCH
    lower: float  # below: NO_MATCH; between: REVIEW


@dataclass(frozen=True)
class EmSettings:
    max_iterations: int
    tolerance: float
    u_sample_pairs: int
    seed: int
    m_pseudo_count: float
    non_match_start: str


@dataclass(frozen=True)
class BlockingRule:
    rule: str
    keys: tuple[str, ...]
    max_block_size: int  # the rule's own cap, else the entity's


# what a party collects more of (mailboxes, numbers) and where it is: a veto reading only
# these is a contact conflict, not a fact that tells two parties apart
CONTACT_FIELDS = frozenset(
    {"email", "email_number", "phone", "phone_kind", "contacts", "home", "address"}
)


@dataclass(frozen=True)
class Veto:
    """Holds when every `when` condition does and no `unless` condition does; a condition
    names the levels (any of them) a field must be at."""

    when: Mapping[str, tuple[str, ...]]
    unless: Mapping[str, tuple[str, ...]]
    across_chains: bool  # also between records only a chain of matches joined
    chains_only: bool  # only there: a scored pair was weighed by the model
    pair_only: bool  # stops the pair's own edge, but is no cannot-link between clusters

    @property
    def fields(self) -> set[str]:
        return set(self.when) | set(self.unless)

    @property
    def contacts_only(self) -> bool:
        """It reads only contacts and where they are: no fact about the party itself (a
        record meeting two records kept apart by it is no ambiguous attachment)."""
        return not self.across_chains and set(self.when) <= CONTACT_FIELDS

    @property
    def about_contacts(self) -> bool:
        """contacts_only, or contacts with a form of the first name (Péťa / Petr): what a
        customer row may state for its holder (lifted beside a holder link)."""
        name_forms = set(self.when.get("first_name", ())) <= {"similar", "alike"}
        contacts = set(self.when) - {"first_name"} <= CONTACT_FIELDS
        return not self.across_chains and contacts and name_forms


@dataclass(frozen=True)
class EntitySettings:
    entity: str
    thresholds: Thresholds
    max_block_size: int
    max_cluster_size: int
    em: EmSettings
    pairs_min_score: float
    prior_match_probability: float
    ambiguous_attachments: str
    decisive_margin_bits: float
    max_review_share: float
    retrain_drift: float
    collapse_identical: bool
    blocking: tuple[BlockingRule, ...]
    comparisons: tuple[str, ...]
    corroborated_by: tuple[str, ...]
    shared_by_namesakes: tuple[str, ...]
    term_frequency: tuple[str, ...]
    vetoes: tuple[Veto, ...]


@dataclass(frozen=True)
class LeadToCustomerSettings:
    threshold: float
    prior_log2_odds: float
    weights: Mapping[str, float]


LEAD_TO_CUSTOMER_WEIGHTS = (
    "email_same",
    "phone_same",
    "name_same",
    "name_alike",
    "name_similar",
    "name_different",
    "org_name_same",
    "org_name_similar",
)


def _levels(field: str, level: Any, where: str) -> tuple[str, ...]:
    if field not in COMPARISONS:
        raise MatchSettingsError(f"{where}: unknown comparison {field!r}")
    names = (level,) if isinstance(level, str) else tuple(level or ())
    known = COMPARISONS[field].levels
    wrong = [n for n in names if n not in known]
    if wrong or not names:
        raise MatchSettingsError(
            f"{where}: {field} has no level(s) {wrong or names}; known: {list(known)}"
        )
    return names


def _conditions(raw: Mapping[str, Any] | None, where: str) -> Mapping[str, tuple[str, ...]]:
    parsed = {f: _levels(f, level, where) for f, level in (raw or {}).items()}
    return MappingProxyType(parsed)


VETO_KEYS = ("when", "unless", "across_chains", "chains_only", "pair_only")


def parse_veto(raw: Mapping[str, Any], where: str) -> Veto:
    unknown = sorted(set(raw) - set(VETO_KEYS))
    if unknown:
        raise MatchSettingsError(f"{where}: unknown veto keys {unknown}; known: {VETO_KEYS}")
    veto = Veto(
        when=_conditions(_need(raw, "when", where), where),
        unless=_conditions(raw.get("unless"), where),
        across_chains=bool(raw.get("across_chains", False)),
        chains_only=bool(raw.get("chains_only", False)),
        pair_only=bool(raw.get("pair_only", False)),
    )
    if not veto.when:
        raise MatchSettingsError(f"{where}: a veto needs at least one `when` condition")
    if veto.pair_only and (veto.across_chains or veto.chains_only):
        raise MatchSettingsError(f"{where}: pair_only is for a pair's own edge, not chains")
    return veto


def _fields(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = tuple(_need(raw, key, where) or ())
    unknown = [f for f in values if f not in COMPARISONS]
    if unknown:
        raise MatchSettingsError(f"{where}: {key} names unknown comparisons {unknown}")
    return values


def _thresholds(raw: Mapping[str, Any], where: str) -> Thresholds:
    t = Thresholds(float(_need(raw, "upper", where)), float(_need(raw, "lower", where)))
    if not 0.0 <= t.lower <= t.upper <= 1.0:
        raise MatchSettingsError(f"{where}: thresholds need 0 <= lower <= upper <= 1, got {t}")
    return t


def _em(raw: Mapping[str, Any], where: str) -> EmSettings:
    em = EmSettings(
        **{
            name: kind(_need(raw, name, where))
            for name, kind in (
                ("max_iterations", int),
                ("tolerance", float),
                ("u_sample_pairs", int),
                ("seed", int),
                ("m_pseudo_count", float),
                ("non_match_start", str),
            )
        }
    )
    if em.non_match_start not in NON_MATCH_STARTS:
        raise MatchSettingsError(f"{where}: non_match_start must be one of {NON_MATCH_STARTS}")
    return em


def _blocking(raw: Mapping[str, Any], where: str, default_cap: int) -> tuple[BlockingRule, ...]:
    rules = []
    for i, rule in enumerate(_need(raw, "blocking", where)):
        at = f"{where} blocking[{i}]"
        rules.append(
            BlockingRule(
                str(_need(rule, "rule", at)),
                tuple(_need(rule, "keys", at)),
                int(rule.get("max_block_size", default_cap)),
            )
        )
    return tuple(rules)


def build_entity_settings(entity: str, raw: Mapping[str, Any]) -> EntitySettings:
    """Validated settings from one entity's merged (defaults + own + override) mapping."""
    where = f"entities.{entity}"
    max_block_size = int(_need(raw, "max_block_size", where))
    settings = EntitySettings(
        entity=entity,
        thresholds=_thresholds(_need(raw, "thresholds", where), f"{where}.thresholds"),
        max_block_size=max_block_size,
        max_cluster_size=int(_need(raw, "max_cluster_size", where)),
        em=_em(_need(raw, "em", where), f"{where}.em"),
        pairs_min_score=float(_need(raw, "pairs_min_score", where)),
        prior_match_probability=float(_need(raw, "prior_match_probability", where)),
        ambiguous_attachments=str(_need(raw, "ambiguous_attachments", where)),
        decisive_margin_bits=float(_need(raw, "decisive_margin_bits", where)),
        max_review_share=float(_need(raw, "max_review_share", where)),
        retrain_drift=float(_need(_need(raw, "model", where), "retrain_drift", f"{where}.model")),
        collapse_identical=bool(_need(raw, "collapse_identical", where)),
        blocking=_blocking(raw, where, max_block_size),
        comparisons=_fields(raw, "comparisons", where),
        corroborated_by=_fields(raw, "corroborated_by", where),
        shared_by_namesakes=_fields(raw, "shared_by_namesakes", where),
        term_frequency=_fields(raw, "term_frequency", where),
        vetoes=tuple(
            parse_veto(v, f"{where} vetoes[{i}]")
            for i, v in enumerate(_need(raw, "vetoes", where) or ())
        ),
    )
    if settings.ambiguous_attachments not in AMBIGUOUS_ATTACHMENTS:
        raise MatchSettingsError(f"{where}: ambiguous_attachments: one of {AMBIGUOUS_ATTACHMENTS}")
    if settings.collapse_identical and settings.term_frequency:
        raise MatchSettingsError(f"{where}: collapse_identical cannot keep term frequencies")
    return settings


def _merged(entity: str, override: Mapping[str, Any] | None) -> dict[str, Any]:
    """defaults, then the entity's section, then a caller's override (dicts merged a level)."""
    raw = quality_rules(SETTINGS_FILE)
    entities = _need(raw, "entities", "the file")
    if entity not in entities:
        raise MatchSettingsError(f"{SETTINGS_FILE}: no settings for entity {entity!r}")
    merged: dict[str, Any] = dict(_need(raw, "defaults", "the file"))
    for layer in (entities[entity], override or {}):
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def entity_settings(entity: str, override: Mapping[str, Any] | None = None) -> EntitySettings:
    """One entity's settings; `override` (a mapping shaped like the file) for experiments."""
    return build_entity_settings(entity, _merged(entity, override))


def lead_to_customer_settings() -> LeadToCustomerSettings:
    raw = _need(quality_rules(SETTINGS_FILE), "lead_to_customer", "the file")
    weights = _need(raw, "weights", "lead_to_customer")
    missing = [w for w in LEAD_TO_CUSTOMER_WEIGHTS if w not in weights]
    unknown = [w for w in weights if w not in LEAD_TO_CUSTOMER_WEIGHTS]
    if missing or unknown:
        raise MatchSettingsError(
            f"{SETTINGS_FILE}: lead_to_customer.weights missing {missing}, unknown {unknown}"
        )
    return LeadToCustomerSettings(
        threshold=float(_need(raw, "threshold", "lead_to_customer")),
        prior_log2_odds=float(_need(raw, "prior_log2_odds", "lead_to_customer")),
        weights=MappingProxyType({k: float(v) for k, v in weights.items()}),
    )
