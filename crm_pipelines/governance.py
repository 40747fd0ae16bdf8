"""Every governance file's known keys, checked when a run starts.

A key that no code reads looks authoritative and is not: a misspelt `max_lenght:` in a feed
spec or `severty:` in rules.yaml would change nothing. So each YAML file under quality_rules/
and assets/feeds/ is held against the keys its loader reads, and any other key fails the run
at its start with file, line and key. A new setting is added here together with the code
that reads it. Names that are data (code tables, characteristics, entities, fields) are "*".
"""

from __future__ import annotations

from pathlib import Path

from crm_pipelines.ingest.specs import FEED_SPEC_KEYS, FEEDS
from crm_pipelines.paths import ASSETS_DIR, QUALITY_RULES_DIR
from crm_pipelines.yaml_keys import ANY_KEY, GovernanceKeyError, Schema, unknown_keys

_EM = {
    k: None
    for k in (
        "max_iterations",
        "tolerance",
        "u_sample_pairs",
        "seed",
        "non_match_start",
        "m_pseudo_count",
    )
}
_THRESHOLDS = {"upper": None, "lower": None}
_MATCH_COMMON = {
    "thresholds": _THRESHOLDS,
    "max_block_size": None,
    "max_cluster_size": None,
    "em": _EM,
    "pairs_min_score": None,
    "prior_match_probability": None,
    "ambiguous_attachments": None,
    "decisive_margin_bits": None,
    "max_review_share": None,
    "model": {"retrain_drift": None},
    "collapse_identical": None,
}
_MATCH_ENTITY = {
    **_MATCH_COMMON,
    "blocking": [{"rule": None, "keys": None, "max_block_size": None}],
    "comparisons": None,
    "corroborated_by": None,
    "shared_by_namesakes": None,
    "term_frequency": None,
    "vetoes": [
        {
            "when": None,
            "unless": None,
            "across_chains": None,
            "chains_only": None,
            "pair_only": None,
        }
    ],
}
_STEM_RULES = [{"suffix": None, "replace": None}]

QUALITY_RULE_SCHEMAS: dict[str, Schema] = {
    "rules.yaml": {
        "rules": [{"id": None, "entities": None, "severity": None, "description": None}]
    },
    "landing_limits.yaml": {"max_csv_mib": None, "max_gzip_ratio": None},
    "run_guards.yaml": {
        k: None
        for k in (
            "max_accepted_drop",
            "min_previous_accepted",
            "max_rejection_rate_rise",
            "max_golden_lost",
            "lock_wait_seconds",
            "dagster_run_history_days",
        )
    },
    "name_titles.yaml": {
        "before": None,
        "after": None,
        "joiners": None,
        "generation": None,
    },
    "code_tables.yaml": {ANY_KEY: {"codes": None, "aliases": None}},
    "characteristics.yaml": {feed: None for feed in FEEDS},
    "postcode_formats.yaml": {"formats": {ANY_KEY: {"pattern": None, "normalised": None}}},
    "survivorship.yaml": {
        "entities": {
            ANY_KEY: {
                ANY_KEY: {
                    "strategy": None,
                    "sources": None,
                    "validity_column": None,
                    "valid_values": None,
                    "with": None,
                }
            }
        }
    },
    "campaign_rules.yaml": {
        "campaign_active_status": None,
        "include_defaults": {"include_customers": None, "include_leads": None},
        "customer_statuses": None,
        "lead_statuses": None,
        "role_priority": None,
        "address_role_priority": None,
        "person_own_address_for_roles": None,
        "address_owner_priority": None,
        "address_valid_status": None,
        "channels": {ANY_KEY: {"consent_attribute": None, "label": None}},
        "qualification": None,
        "reasons": None,
        "contact_problems": None,
    },
    "match_settings.yaml": {
        "defaults": _MATCH_COMMON,
        "entities": {ANY_KEY: _MATCH_ENTITY},
        "lead_to_customer": {"threshold": None, "prior_log2_odds": None, "weights": None},
        "similarity": None,
    },
    "standardization.yaml": {
        "extra_folds": None,
        "surname": {
            "stem_suffix_rules": _STEM_RULES,
            "stem_vowel_drop_rules": _STEM_RULES,
            "female_folded_endings": None,
            "female_original_endings": None,
            "male_original_endings": None,
        },
        "first_name": {
            "male_names_ending_in_a": None,
            "female_names_not_ending_in_a": None,
            "known_male": None,
            "known_female": None,
        },
        "organization": {"legal_form_suffixes": None, "stop_tokens": None},
        "address": {"street_words": None, "city_district_pattern": None},
    },
}


def governance_problems(
    quality_rules_dir: Path = QUALITY_RULES_DIR, assets_dir: Path = ASSETS_DIR
) -> list[str]:
    """'file:line: unknown key ...' for every governance YAML file; a YAML file nobody reads
    is a problem too (it would look authoritative)."""
    problems: list[str] = []
    for path in sorted(Path(quality_rules_dir).glob("*.y*ml")):
        schema = QUALITY_RULE_SCHEMAS.get(path.name)
        if schema is None:
            problems.append(
                f"{path}: no code reads this file (known: {sorted(QUALITY_RULE_SCHEMAS)})"
            )
            continue
        problems += unknown_keys(path, schema)
    for path in sorted((Path(assets_dir) / "feeds").glob("*.y*ml")):
        problems += unknown_keys(path, FEED_SPEC_KEYS)
    return problems


def check_governance_files(
    quality_rules_dir: Path = QUALITY_RULES_DIR, assets_dir: Path = ASSETS_DIR
) -> None:
    """Fail before any data is read when a governance file holds a key no code reads."""
    problems = governance_problems(quality_rules_dir, assets_dir)
    if problems:
        raise GovernanceKeyError(
            "governance files hold keys that no code reads: " + "; ".join(problems)
        )
