"""What each entity's matching takes from the stages before it -- the one place that says so.

Matching runs in order (staged.MATCHED_ENTITIES): customers compare the buildings they own
as golden addresses (a misspelt street is still the building) and take the details their
row lacks from their holder's person row; leads compare the golden customer each was
linked to (its master record knows all the customer's contacts). The Dagster assets, the
benchmark and match.evaluate each load these inputs their own way, through `load`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_pipelines.match.leads import customer_of_leads

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
