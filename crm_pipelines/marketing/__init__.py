"""marketing stage: campaign targets that marketing and legal can trust."""

from crm_pipelines.marketing.checks import target_violations
from crm_pipelines.marketing.export import write_campaign_exports
from crm_pipelines.marketing.rules import consent_lineage
from crm_pipelines.marketing.suppression import contact_statements, suppression_list
from crm_pipelines.marketing.targeting import (
    CampaignTargets,
    active_campaigns,
    build_campaign_targets,
    default_as_of,
)

__all__ = [
    "CampaignTargets",
    "active_campaigns",
    "build_campaign_targets",
    "consent_lineage",
    "contact_statements",
    "default_as_of",
    "suppression_list",
    "target_violations",
    "write_campaign_exports",
]
