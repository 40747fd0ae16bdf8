"""Asset descriptions, owners and kinds from the warehouse catalogue (publish/catalog.yaml).

An asset that becomes a warehouse table is described by that table's comment, so the
Dagster UI and the DuckDB catalogue say the same thing; staging/<feed> is published as
source.<feed>."""

from __future__ import annotations

from typing import Any

from dagster import AssetKey

from crm_pipelines.publish.warehouse import catalog

PUBLISHED_SCHEMA = {"staging": "source"}


def asset_description(key: AssetKey) -> str:
    """The _table text of the asset's published table; a KeyError names an undocumented one."""
    schema, table = key.path
    name = f"{PUBLISHED_SCHEMA.get(schema, schema)}.{table}"
    return catalog()[name]["_table"]


def group_labels(group: str) -> dict[str, Any]:
    """owners= and kinds= of an asset group."""
    spec = catalog()["_asset_groups"][group]
    return {"owners": list(spec["owners"]), "kinds": set(spec["kinds"])}


def published_out(key: AssetKey, group: str) -> dict[str, Any]:
    """AssetOut keyword arguments for an asset published as a warehouse table."""
    return {"key": key, "group_name": group, "description": asset_description(key)} | group_labels(
        group
    )
