"""What analysts and stewards read beyond the golden tables, built inside the new warehouse.

Runs on the connection that builds the new file (publish_warehouse's `finish` step), after
every table is loaded: lineage rows gain the chosen value and the survivorship rule that
chose it, and the views of views.sql (master.customer_360, schema tmf) are created. All of
it is DuckDB SQL over the loaded tables, so it streams at any size.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.golden.attributes import ATTRIBUTES
from crm_pipelines.golden.survivorship import CONSENT_ATTRIBUTES, AttributeRule, load_rules

VIEWS_SQL = Path(__file__).with_name("views.sql")

# entity of master.attribute_lineage -> (golden table, its id column)
GOLDEN_TABLES = {
    "customer": ("master.customer", "customer_id"),
    "person": ("master.person", "person_id"),
    "address": ("master.crm_address", "address_id"),
    "lead": ("master.lead", "lead_id"),
    "campaign": ("master.campaign", "campaign_id"),
}
LATEST_RECORD_ENTITIES = ("campaign",)  # the whole latest record wins (survive_latest_record)


def _rule_text(rule: AttributeRule) -> str:
    parts = []
    for strategy in rule.strategies:
        if strategy == "source_priority":
            parts.append(f"source_priority({', '.join(rule.sources)})")
        elif strategy == "valid_before_invalid":
            valid = ", ".join(rule.valid_values)
            parts.append(f"valid_before_invalid({rule.validity_column} in {valid})")
        else:
            parts.append(strategy)
    if "most_recent" not in rule.strategies:
        parts.append("most_recent")
    return " > ".join(parts)


def survivorship_rules() -> pl.DataFrame:
    """(entity, attribute, rule): the rule of quality_rules/survivorship.yaml that picks each
    lineage attribute's value, in words; companions name the attribute they follow."""
    rules = load_rules()
    rows = []
    for entity in GOLDEN_TABLES:
        declared = rules.entities.get(entity, {})
        companion_of = {c: r.attribute for r in declared.values() for c in r.companions}
        for attribute in ATTRIBUTES[entity]:
            if entity in LATEST_RECORD_ENTITIES:
                text = "latest_record"
            elif attribute in CONSENT_ATTRIBUTES:
                text = "most_recent_statement (fixed: consent)"
            elif attribute in companion_of:
                text = f"with {companion_of[attribute]} (same record)"
            else:
                text = _rule_text(declared.get(attribute, AttributeRule(attribute)))
            rows.append({"entity": entity, "attribute": attribute, "rule": text})
    return pl.DataFrame(rows)


def _value_case(con: duckdb.DuckDBPyConnection, entity: str, table: str) -> str:
    """The golden value of a lineage row's attribute, as text, from the golden row `g`."""
    columns = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
    present = [a for a in ATTRIBUTES[entity] if a in columns]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN '{a}' THEN CAST(g.\"{a}\" AS VARCHAR)" for a in present)
    return f"CASE l.attribute {whens} END"


def lineage_with_values(con: duckdb.DuckDBPyConnection, lineage: str) -> None:
    """master.attribute_lineage: the lineage rows of `lineage` (a relation: the Parquet file
    or a registered frame) with `value` (the golden value, as text) and `rule`.

    Written once, entity by entity: each golden table is joined on its id alone (one hash
    table of a million rows, not the 30M lineage rows against every attribute unpivoted)."""
    con.register("survivorship_rules", survivorship_rules().to_arrow())
    con.execute(
        "CREATE TABLE master.attribute_lineage AS SELECT *, CAST(NULL AS VARCHAR) AS value, "
        f"CAST(NULL AS VARCHAR) AS rule FROM {lineage} LIMIT 0"
    )
    rule = "LEFT JOIN survivorship_rules r ON r.entity = l.entity AND r.attribute = l.attribute"
    for entity, (table, id_column) in GOLDEN_TABLES.items():
        con.execute(
            f"INSERT INTO master.attribute_lineage "
            f"SELECT l.*, {_value_case(con, entity, table)} AS value, r.rule FROM {lineage} l "
            f"LEFT JOIN {table} g ON g.{id_column} = l.master_id {rule} "
            f"WHERE l.entity = '{entity}'"
        )
    known = ", ".join(f"'{entity}'" for entity in GOLDEN_TABLES)
    con.execute(
        f"INSERT INTO master.attribute_lineage SELECT l.*, NULL, r.rule FROM {lineage} l {rule} "
        f"WHERE l.entity IS NULL OR l.entity NOT IN ({known})"
    )
    con.unregister("survivorship_rules")


def build_analyst_layer(con: duckdb.DuckDBPyConnection, lineage: pl.DataFrame | Path) -> None:
    """Lineage with values and rules (straight from its Parquet file when it is one), then
    the analyst views (customer_360, schema tmf)."""
    if isinstance(lineage, Path):
        quoted = str(lineage).replace("'", "''")
        lineage_with_values(con, f"read_parquet('{quoted}')")
    else:
        con.register("lineage_incoming", lineage.to_arrow())
        lineage_with_values(con, "lineage_incoming")
        con.unregister("lineage_incoming")
    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
