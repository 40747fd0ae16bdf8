"""Campaign rules read from quality_rules/campaign_rules.yaml, so stewards own them as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from crm_pipelines.paths import quality_rules

RULES_FILE = "campaign_rules.yaml"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class CampaignRules:
    campaign_active_status: str
    include_customers_default: bool
    include_leads_default: bool
    customer_statuses: tuple[str, ...]
    lead_statuses: tuple[str, ...]
    role_priority: tuple[str, ...]
    address_role_priority: tuple[str, ...]
    address_owner_priority: tuple[str, ...]
    own_address_roles: tuple[str, ...]  # contact roles whose own (PERSON) addresses count
    address_valid_status: str
    consent_attribute: dict[str, str]  # channel -> golden consent column
    channel_label: dict[str, str]
    qualification: dict[str, str]
    reasons: dict[str, str]  # code -> text template, in summary order
    contact_problems: dict[str, str]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.consent_attribute)

    def rank(self, column: str, order: tuple[str, ...]) -> pl.Expr:
        """Position of the value in a priority list (0 = best); null when not listed."""
        mapping = {value: index for index, value in enumerate(order)}
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.Int32)


TEXT_PLACEHOLDERS = {
    "subject_status",
    "customer_type",
    "role_type",
    "channel_label",
    "consent_source_system",
    "consent_date",
    "address_role",
    "address_owner",
    "who",
    "contact_problem",
    "duplicate_of",
    "contact",
    "withdrawn_feed",
    "withdrawn_source_system",
    "withdrawn_source_id",
    "withdrawn_date",
}
REQUIRED_TEXTS = {"CUSTOMER", "CUSTOMER_POST", "LEAD", "LEAD_POST"}
REASON_CODES = {
    "NO_CONTACT_PERSON",
    "NO_CONSENT",
    "CONSENT_WITHDRAWN",
    "NO_CONSENT_PROOF",
    "INVALID_CONTACT",
    "CONTACT_WITHDRAWN",
    "MATCHED_EXISTING_CUSTOMER",
    "DUPLICATE_CONTACT",
}


def _check_texts(rules: CampaignRules) -> None:
    """A steward's typo in a text template should fail loudly at load, not mid-run."""
    missing = REQUIRED_TEXTS - set(rules.qualification)
    if missing:
        raise ValueError(f"{RULES_FILE}: qualification texts missing for {sorted(missing)}")
    if set(rules.reasons) != REASON_CODES:
        raise ValueError(f"{RULES_FILE}: reasons must be exactly {sorted(REASON_CODES)}")
    for name, template in {**rules.qualification, **rules.reasons}.items():
        unknown = placeholders(template) - TEXT_PLACEHOLDERS
        if unknown:
            raise ValueError(f"{RULES_FILE}: {name} uses unknown placeholders {sorted(unknown)}")


@cache
def load_campaign_rules() -> CampaignRules:
    raw = quality_rules(RULES_FILE)
    channels = raw["channels"]
    rules = CampaignRules(
        campaign_active_status=raw["campaign_active_status"],
        include_customers_default=bool(raw["include_defaults"]["include_customers"]),
        include_leads_default=bool(raw["include_defaults"]["include_leads"]),
        customer_statuses=tuple(raw["customer_statuses"]),
        lead_statuses=tuple(raw["lead_statuses"]),
        role_priority=tuple(raw["role_priority"]),
        address_role_priority=tuple(raw["address_role_priority"]),
        address_owner_priority=tuple(raw["address_owner_priority"]),
        own_address_roles=tuple(raw["person_own_address_for_roles"]),
        address_valid_status=raw["address_valid_status"],
        consent_attribute={ch: spec["consent_attribute"] for ch, spec in channels.items()},
        channel_label={ch: spec["label"] for ch, spec in channels.items()},
        qualification={key: " ".join(text.split()) for key, text in raw["qualification"].items()},
        reasons={code: " ".join(text.split()) for code, text in raw["reasons"].items()},
        contact_problems=dict(raw["contact_problems"]),
    )
    _check_texts(rules)
    return rules


def render(template: str) -> pl.Expr:
    """A text template with {column} placeholders as one vectorised string expression."""
    parts: list[pl.Expr] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(pl.lit(template[position : match.start()]))
        parts.append(pl.col(match.group(1)).cast(pl.String).fill_null("?"))
        position = match.end()
    if position < len(template):
        parts.append(pl.lit(template[position:]))
    return pl.concat_str(parts) if parts else pl.lit("")


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def consent_lineage(lineage: pl.DataFrame | Path) -> pl.DataFrame:
    """The consent statements of the lineage -- all targeting needs of it.

    Given the Parquet file, only those rows are read: the whole lineage is tens of millions
    of rows at a million customers.
    """
    consent_columns = sorted(set(load_campaign_rules().consent_attribute.values()))
    frame = pl.scan_parquet(lineage) if isinstance(lineage, Path) else lineage.lazy()
    return frame.filter(pl.col("attribute").cast(pl.String).is_in(consent_columns)).collect()
