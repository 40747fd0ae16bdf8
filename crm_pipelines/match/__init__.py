"""The matching engine: which staged records are the same real-world party, address or lead."""

from crm_pipelines.match.engine import MatchResult, match_entity
from crm_pipelines.match.leads import match_leads_to_customers

__all__ = ["MatchResult", "match_entity", "match_leads_to_customers"]
