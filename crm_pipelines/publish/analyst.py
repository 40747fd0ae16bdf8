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


def _golden_values_sql(con: duckdb.DuckDBPyConnection) -> str:
    """(entity, master_id, attribute, value) of every golden attribute, as text."""
    parts = []
    for entity, (table, id_column) in GOLDEN_TABLES.items():
        columns = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
        present = [a for a in ATTRIBUTES[entity] if a in columns]
        casts = ", ".join(f'CAST("{a}" AS VARCHAR) AS "{a}"' for a in present)
        parts.append(
            f"SELECT '{entity}' AS entity, master_id, attribute, value FROM ("
            f"UNPIVOT (SELECT {id_column} AS master_id, {casts} FROM {table}) "
            f"ON COLUMNS(* EXCLUDE (master_id)) INTO NAME attribute VALUE value)"
        )
    return " UNION ALL ".join(parts)


def lineage_with_values(con: duckdb.DuckDBPyConnection) -> None:
    """master.attribute_lineage gains `value` (the golden value, as text) and `rule`."""
    con.register("survivorship_rules", survivorship_rules().to_arrow())
    con.execute("ALTER TABLE master.attribute_lineage RENAME TO attribute_lineage_plain")
    con.execute(
        f"""CREATE TABLE master.attribute_lineage AS
        WITH golden_values AS ({_golden_values_sql(con)})
        SELECT l.*, v.value, r.rule
        FROM master.attribute_lineage_plain l
        LEFT JOIN golden_values v USING (entity, master_id, attribute)
        LEFT JOIN survivorship_rules r USING (entity, attribute)"""
    )
    con.execute("DROP TABLE master.attribute_lineage_plain")
    con.unregister("survivorship_rules")


def build_analyst_layer(con: duckdb.DuckDBPyConnection) -> None:
    """Lineage values and rules, then the analyst views (customer_360, schema tmf)."""
    lineage_with_values(con)
    con.execute(VIEWS_SQL.read_text(encoding="utf-8"))
