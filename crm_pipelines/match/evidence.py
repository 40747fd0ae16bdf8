"""What each entity's matching takes from the stages before it -- the one place that says so.

Matching runs in order (staged.MATCHED_ENTITIES): customers compare the buildings they own
as golden addresses (a misspelt street is still the building) and take the details their
row lacks from their holder's person row; persons compare their homes (their own addresses
and their individual customer's) and the golden customer they hold a role on; leads compare
the golden customer each was linked to (its master record knows all the customer's contacts). The Dagster assets, the
benchmark and match.evaluate each load these inputs their own way, through `load`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from crm_pipelines.match.leads import customer_of_leads, match_leads_to_customers
from crm_pipelines.staged import MATCHED_ENTITIES

EVIDENCE: dict[str, tuple[str, ...]] = {
    # staged addresses (frame), address clusters, staged persons (frame or Parquet path)
    "customer": ("addresses", "address_clusters", "persons"),
    # staged addresses, address clusters (a person's home), customer clusters (its customer)
    "person": ("addresses", "address_clusters", "customer_clusters"),
    # lead -> customer links, customer clusters
    "lead": ("customer_links", "customer_clusters"),
}


def match_inputs(entity: str, load: Callable[[str], Any]) -> dict[str, Any]:
    """match_entity's keyword arguments for the entity, loading only the evidence it takes."""
    loaded = {name: load(name) for name in EVIDENCE.get(entity, ())}
    if "customer_links" in loaded:
        links, customers = loaded.pop("customer_links"), loaded.pop("customer_clusters")
        loaded["customer_of"] = customer_of_leads(links, customers)
    return loaded


def match_in_order(staged: dict[str, pl.DataFrame], **options: Any) -> Iterator[Any]:
    """MatchResult per entity in the job's order, each taking the evidence of the ones
    before (outside Dagster: match.evaluate and crm-mdm train). options: match_entity's."""
    from crm_pipelines.match.engine import match_entity  # engine imports this module

    clusters: dict[str, pl.DataFrame] = {}
    sources = {
        "addresses": lambda: staged["address"],
        "address_clusters": lambda: clusters["address"],
        "persons": lambda: staged["person"],
        "customer_links": lambda: match_leads_to_customers(
            staged["lead"], staged["customer"], staged["person"]
        ),
        "customer_clusters": lambda: clusters["customer"],
    }
    for entity in MATCHED_ENTITIES:
        evidence = match_inputs(entity, lambda name: sources[name]())
        result = match_entity(
            entity, staged[entity], staged.get("steward_decision"), **evidence, **options
        )
        clusters[entity] = result.clusters
        yield result
