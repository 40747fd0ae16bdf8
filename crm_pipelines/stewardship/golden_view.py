"""One golden record as a steward sees it: source records, attribute lineage, history,
relations -- all read from the published warehouse (read-only, per request)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crm_pipelines.stewardship.console_data import GOLDEN, frame, read_only, rows
from crm_pipelines.stewardship.decisions import landing_decisions

HIDDEN_SOURCE_COLUMNS = ("record_key", "feed")


def current_id(warehouse: Path, entity: str, golden_id: str) -> tuple[str, list[dict]]:
    """The id now in use for `golden_id` (following retirements) and the steps taken."""
    steps: list[dict] = []
    with read_only(warehouse) as con:
        current = golden_id
        for _ in range(20):  # a chain of merges is short; a cycle must not hang a page
            found = rows(
                con,
                "SELECT retired_id, surviving_id, reason, run_id, CAST(retired_at AS VARCHAR) "
                "AS retired_at FROM master.identity_retired WHERE entity = ? AND retired_id = ? "
                "ORDER BY retired_at DESC LIMIT 1",
                [entity, current],
            )
            if not found or found[0]["surviving_id"] in (None, current):
                break
            steps.append(found[0])
            current = found[0]["surviving_id"]
    return current, steps


def golden_record(warehouse: Path, landing: Path, entity: str, golden_id: str) -> dict | None:
    """Everything the golden record page shows; None when the id is unknown."""
    table, id_column, name_sql, feed, xref_entities = GOLDEN[entity]
    golden_id, followed = current_id(warehouse, entity, golden_id)
    with read_only(warehouse) as con:
        record = rows(
            con,
            f"SELECT *, {name_sql} AS display_name FROM {table} WHERE {id_column} = ?",
            [golden_id],
        )
        if not record:
            return None
        in_list = ", ".join(f"'{e}'" for e in xref_entities)
        sources = frame(
            con,
            f"SELECT s.* FROM master.xref x JOIN source.{feed} s USING (record_key) "
            f"WHERE x.entity IN ({in_list}) AND x.master_id = ? ORDER BY s.updated_at DESC",
            [golden_id],
        )
        lineage = rows(
            con,
            "SELECT attribute, value, source_system, source_id, CAST(updated_at AS VARCHAR) "
            "AS updated_at, rule FROM master.attribute_lineage WHERE entity = ? AND master_id = ? "
            "ORDER BY attribute",
            [entity, golden_id],
        )
        history = _history(con, entity, golden_id, sources["record_key"].to_list())
        related = _related(con, entity, golden_id)
    keys = set(sources["record_key"].to_list())
    applied = {
        (d["left_record_key"], d["right_record_key"], d["decision"], d["decided_by"])
        for d in history["decisions"]
    }
    waiting = [
        d
        for d in landing_decisions(landing)
        .filter(pl.col("left_record_key").is_in(keys) | pl.col("right_record_key").is_in(keys))
        .to_dicts()
        if (d["left_record_key"], d["right_record_key"], d["decision"], d["decided_by"])
        not in applied
    ]
    return {
        "entity": entity,
        "id": golden_id,
        "followed": followed,
        "record": record[0],
        **side_by_side(sources),
        "lineage": lineage,
        "waiting_decisions": waiting,
        **history,
        **related,
    }


def side_by_side(sources: pl.DataFrame) -> dict:
    """The source records as columns, one row per field that any of them fills."""
    heads = sources.select(
        pl.format("{}|{}", "source_system", "source_id"), pl.col("updated_at").cast(pl.String)
    ).rows()
    shown = sources.drop([c for c in HIDDEN_SOURCE_COLUMNS if c in sources.columns])
    fields = [
        (name, [None if v is None else str(v) for v in shown[name].to_list()])
        for name in shown.columns
        if shown[name].null_count() < shown.height
        and name not in ("source_system", "source_id", "updated_at")
    ]
    return {"source_heads": heads, "source_fields": fields}


def _history(con, entity: str, golden_id: str, record_keys: list[str]) -> dict:
    registry = rows(
        con,
        "SELECT status, origin, derived_from, created_run, CAST(created_at AS VARCHAR) AS "
        "created_at, retired_run FROM master.identity_registry WHERE entity = ? AND master_id = ?",
        [entity, golden_id],
    )
    merged_in = rows(
        con,
        "SELECT retired_id, reason, run_id, CAST(retired_at AS VARCHAR) AS retired_at "
        "FROM master.identity_retired WHERE entity = ? AND surviving_id = ? ORDER BY retired_at",
        [entity, golden_id],
    )
    decisions = rows(
        con,
        "SELECT decision, left_record_key, right_record_key, decided_by, "
        "CAST(decided_at AS VARCHAR) AS decided_at, note FROM source.steward_decision "
        "WHERE entity = ? AND (list_contains(?, left_record_key) OR list_contains(?, right_record_key)) "
        "ORDER BY decided_at",
        [entity, record_keys, record_keys],
    )
    return {"registry": registry, "merged_in": merged_in, "decisions": decisions}


def _related(con, entity: str, golden_id: str) -> dict:
    if entity == "customer":
        view = rows(
            con,
            "SELECT persons, accounts, addresses, leads, consents, campaign_targets, "
            "campaign_exclusions FROM master.customer_360 WHERE customer_id = ?",
            [golden_id],
        )
        return view[0] if view else {}
    if entity == "person":
        return {
            "roles": rows(
                con,
                "SELECT r.role_type, r.customer_id, c.name, c.customer_key FROM master.person_role r "
                "JOIN master.customer c USING (customer_id) WHERE r.person_id = ? ORDER BY 1, 3",
                [golden_id],
            ),
            "addresses": rows(
                con,
                "SELECT ar.role_type, a.address_id, a.address_key, a.address_line, a.quality_status "
                "FROM master.crm_address_role ar JOIN master.crm_address a USING (address_id) "
                "WHERE ar.owner_kind = 'PERSON' AND ar.owner_id = ?",
                [golden_id],
            ),
        }
    return {}


def source_quality(warehouse: Path, runs: int = 5) -> dict:
    """Rejection and finding rates per source, feed and rule over the last `runs` runs."""
    with read_only(warehouse) as con:
        rates = frame(
            con,
            "WITH recent AS (SELECT run_id, max(published_at) AS published_at FROM meta.run_log "
            "GROUP BY run_id ORDER BY published_at DESC LIMIT ?) "
            "SELECT r.*, CAST(recent.published_at AS VARCHAR)[:19] || ' ' || r.run_id[:8] AS published "
            "FROM quality.source_rule_rate r JOIN recent USING (run_id)",
            [runs],
        )
    published = sorted(rates["published"].unique().to_list()) if rates.height else []
    cell = pl.format("{} % / {} %", "rejected_pct", "finding_pct")
    table = (
        rates.with_columns(cell.alias("cell"), pl.col("rule_id").fill_null("(all rules)"))
        .pivot(on="published", index=["source_system", "feed", "rule_id"], values="cell")
        .select("source_system", "feed", "rule_id", *published)
        .sort("source_system", "feed", "rule_id")
        if rates.height
        else pl.DataFrame()
    )
    return {"runs": published, "columns": table.columns, "rows": table.rows()}
