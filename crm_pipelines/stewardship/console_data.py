"""What the steward console shows, read from the published warehouse.

Every call opens the warehouse read-only, queries and closes it: a run builds its new file
beside the published one and swaps it in, so the console never blocks a run and the next
request sees the new snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.stewardship.decisions import landing_decisions, pair_key

# golden entity -> (table, id column, display-name SQL, source feed, xref entities)
GOLDEN = {
    "customer": ("master.customer", "customer_id", "name", "customer", ("customer",)),
    "person": (
        "master.person",
        "person_id",
        "concat_ws(' ', first_name, last_name)",
        "person",
        ("person", "person_holder"),
    ),
    "address": ("master.crm_address", "address_id", "address_line", "address", ("address",)),
    "lead": (
        "master.lead",
        "lead_id",
        "coalesce(organization_name, concat_ws(' ', first_name, last_name))",
        "lead",
        ("lead",),
    ),
}
GOLDEN_NAMES = " UNION ALL ".join(
    f"SELECT '{e}' AS entity, {idc} AS id, {name} AS name, source_count FROM {table}"
    for e, (table, idc, name, _, _) in GOLDEN.items()
)


@contextmanager
def read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    return frame(con, sql, params).to_dicts()


def _golden_of(side: str) -> str:
    return (
        f"LEFT JOIN master.xref x{side} ON x{side}.record_key = r.{side}_record_key "
        f"AND (x{side}.entity = r.entity OR (r.entity = 'person' AND x{side}.entity = 'person_holder')) "
        f"LEFT JOIN golden g{side} ON g{side}.entity = r.entity AND g{side}.id = x{side}.master_id"
    )


QUEUE_SQL = f"""
WITH golden AS ({GOLDEN_NAMES})
SELECT r.entity, r.left_source_system, r.left_source_id, r.right_source_system,
       r.right_source_id, r.left_record_key, r.right_record_key, r.score, r.probability_pct,
       r.reason, r.fields,
       gleft.id AS left_golden_id, gleft.name AS left_golden_name,
       gright.id AS right_golden_id, gright.name AS right_golden_name,
       coalesce(gleft.source_count, 1)
         + CASE WHEN gleft.id = gright.id THEN 0 ELSE coalesce(gright.source_count, 1) END AS impact
FROM quality.match_review r {_golden_of("left")} {_golden_of("right")}
"""


def review_queue(warehouse: Path, landing: Path, entity: str | None = None) -> pl.DataFrame:
    """The review pairs, highest impact first (source records the decision moves), then the
    most probable; with the golden records they would join and any decision already made."""
    with read_only(warehouse) as con:
        where = "WHERE r.entity = ?" if entity else ""
        queue = frame(
            con,
            f"{QUEUE_SQL} {where} ORDER BY impact DESC, r.score DESC, r.left_record_key",
            [entity] if entity else [],
        )
        applied = frame(
            con,
            "SELECT entity, left_record_key, right_record_key, decision, decided_by, "
            "CAST(decided_at AS VARCHAR) AS decided_at FROM source.steward_decision",
        )
    queue = queue.with_columns(pair_key("entity", "left_record_key", "right_record_key"))
    waiting = _latest(landing_decisions(landing)).select(
        "pair",
        pl.col("decision").alias("waiting_decision"),
        pl.col("decided_by").alias("waiting_by"),
    )
    done = _latest(
        applied.with_columns(pair_key("entity", "left_record_key", "right_record_key"))
    ).select(
        "pair",
        pl.col("decision").alias("applied_decision"),
        pl.col("decided_by").alias("applied_by"),
    )
    return queue.join(waiting, on="pair", how="left", maintain_order="left").join(
        done, on="pair", how="left", maintain_order="left"
    )


def _latest(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.sort("decided_at", nulls_last=False).unique("pair", keep="last")


def queue_counts(queue: pl.DataFrame) -> list[dict]:
    """Per entity: pairs in the queue and those still without any decision."""
    undecided = pl.col("waiting_decision").is_null() & pl.col("applied_decision").is_null()
    return (
        queue.group_by("entity")
        .agg(pl.len().alias("pairs"), undecided.sum().alias("pending"))
        .sort("entity")
        .to_dicts()
    )


def review_pair(warehouse: Path, landing: Path, entity: str, left: str, right: str) -> dict | None:
    queue = review_queue(warehouse, landing, entity)
    found = queue.filter(
        (pl.col("left_record_key") == left) & (pl.col("right_record_key") == right)
    )
    return found.to_dicts()[0] if found.height else None


def find_golden(warehouse: Path, text: str) -> list[dict]:
    """Golden customers and persons by id (also a retired one), name, e-mail or phone."""
    needle = text.strip()
    digits = "".join(ch for ch in needle if ch.isdigit())
    phone = f"%{digits[-9:]}" if len(digits) >= 6 else None
    with read_only(warehouse) as con:
        found = rows(
            con,
            """
            WITH candidates AS (
              SELECT 'customer' AS entity, customer_id AS id, customer_key AS key, name,
                     email, phone, status AS detail FROM master.customer
              UNION ALL
              SELECT 'person', person_id, person_key, concat_ws(' ', first_name, last_name),
                     email, phone, CAST(birth_date AS VARCHAR) FROM master.person)
            SELECT c.* FROM candidates c
            LEFT JOIN master.identity_retired t ON t.surviving_id = c.id AND t.retired_id = $1
            WHERE c.id = $1 OR t.retired_id IS NOT NULL OR upper(c.key) = upper($1)
               OR c.name ILIKE '%' || $1 || '%' OR lower(c.email) = lower($1)
               OR ($2 IS NOT NULL AND c.phone LIKE $2)
            ORDER BY c.entity, c.name LIMIT 100
            """,
            [needle, phone],
        )
    return found
