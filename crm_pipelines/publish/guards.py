"""Circuit breakers: a run that would shrink the master beyond the stewards' bounds is stopped.

Before publishing, every feed x source system (accepted records, rejection rate) and every
golden entity (records retired or left dormant) is compared with the previous published
warehouse. Bounds live in quality_rules/run_guards.yaml. A breach the operator did not accept
(`crm-mdm run --accept-shrink feed:source`) fails a blocking asset check, so nothing is
published. With no previous warehouse only the empty landing is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.paths import QUALITY_RULES_DIR, load_yaml

GUARDS_FILE = "run_guards.yaml"

GUARD_SCHEMA: dict[str, pl.DataType] = {
    "guard": pl.String(),  # EMPTY_LANDING | SOURCE_VANISHED | ACCEPTED_DROP | REJECTION_RATE | GOLDEN_LOST
    "feed": pl.String(),
    "source_system": pl.String(),
    "previous": pl.Float64(),
    "current": pl.Float64(),
    "bound": pl.Float64(),
    "breached": pl.Boolean(),
    "accepted_by_operator": pl.Boolean(),
    "message": pl.String(),
}

# Accepted and rejected distinct source records per feed and source system; one query for the
# published warehouse and this run's frames, so both sides count the same way.
VOLUME_SQL = """
WITH accepted AS (
    SELECT entity AS feed, source_system, count(*) AS accepted
    FROM {xref} WHERE entity <> 'person_holder' GROUP BY ALL
), rejected AS (
    SELECT feed, coalesce(source_system, '?') AS source_system,
           count(DISTINCT coalesce(source_id, '#' || coalesce(file, '') || ':' || coalesce(line, 0)))
               AS rejected
    FROM {rejected} GROUP BY ALL
)
SELECT coalesce(a.feed, r.feed) AS feed, coalesce(a.source_system, r.source_system) AS source_system,
       coalesce(accepted, 0) AS accepted, coalesce(rejected, 0) AS rejected
FROM accepted a FULL JOIN rejected r ON a.feed = r.feed AND a.source_system = r.source_system
"""

VOLUME_SCHEMA = {
    "feed": pl.String,
    "source_system": pl.String,
    "accepted": pl.Int64,
    "rejected": pl.Int64,
}

ACTIVE_SQL = "SELECT entity, master_id FROM {registry} WHERE status = 'ACTIVE'"


@dataclass(frozen=True)
class RunGuards:
    max_accepted_drop: float
    min_previous_accepted: int
    max_rejection_rate_rise: float
    max_golden_lost: float
    lock_wait_seconds: float
    dagster_run_history_days: int


def parse_run_guards(raw: object, source: str = GUARDS_FILE) -> RunGuards:
    """Exactly the RunGuards keys, each of its type and range; anything else is an error."""
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping of settings")
    expected = {f.name: f.type for f in fields(RunGuards)}
    unknown, missing = set(raw) - set(expected), set(expected) - set(raw)
    if unknown or missing:
        raise ValueError(
            f"{source}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}"
        )
    values = {}
    for name, kind in expected.items():
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{source}: {name} must be a number, not {value!r}")
        if kind == "int" and not isinstance(value, int):
            raise ValueError(f"{source}: {name} must be a whole number, not {value!r}")
        if value < 0 or (name.startswith("max_") and value > 1):
            raise ValueError(f"{source}: {name} = {value} is out of range")
        values[name] = value
    return RunGuards(**values)


@cache
def load_run_guards() -> RunGuards:
    path = QUALITY_RULES_DIR / GUARDS_FILE
    return parse_run_guards(load_yaml(path), str(path))


def parse_acceptance(token: str) -> tuple[str, str]:
    """'customer:BSS' -> ('customer', 'BSS'); either side may be '*'."""
    feed, sep, source = token.partition(":")
    if not sep or not feed or not source:
        raise ValueError(f"--accept-shrink {token!r}: expected FEED:SOURCE, e.g. customer:BSS")
    return feed, source


def volumes(con: duckdb.DuckDBPyConnection, xref: str, rejected: str) -> pl.DataFrame:
    return con.sql(VOLUME_SQL.format(xref=xref, rejected=rejected)).pl()


def previous_state(warehouse: Path) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """Volumes and active golden ids of the published warehouse, read-only; None if none.

    A warehouse that exists but cannot be read (an analyst's read-write connection holds it)
    is an error: comparing with nothing would let any shrink through."""
    if not Path(warehouse).is_file():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables()"
            ).fetchall()
        }
        if "master.xref" not in tables:
            return None
        rejected = "quality.rejected" if "quality.rejected" in tables else _NO_REJECTED
        active = (
            con.sql(ACTIVE_SQL.format(registry="master.identity_registry")).pl()
            if "master.identity_registry" in tables
            else pl.DataFrame(schema={"entity": pl.String, "master_id": pl.String})
        )
        return volumes(con, "master.xref", rejected), active


_NO_REJECTED = (
    "(SELECT NULL::VARCHAR AS feed, NULL::VARCHAR AS source_system, NULL::VARCHAR AS source_id,"
    " NULL::VARCHAR AS file, NULL::BIGINT AS line WHERE false)"
)


def current_state(xref: Path, rejected: Path, registry: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same figures for this run, from its Parquet frames."""
    with duckdb.connect() as con:
        quoted = {
            name: "read_parquet('" + str(p).replace("'", "''") + "')"
            for name, p in (("xref", xref), ("rejected", rejected), ("registry", registry))
        }
        return (
            volumes(con, quoted["xref"], quoted["rejected"]),
            con.sql(ACTIVE_SQL.format(registry=quoted["registry"])).pl(),
        )


def _rows(
    frame: pl.DataFrame,
    guard: str,
    previous: str,
    current: str,
    bound: float,
    breached: pl.Expr,
    message: pl.Expr,
) -> pl.DataFrame:
    return frame.filter(breached.is_not_null()).select(
        pl.lit(guard).alias("guard"),
        "feed",
        "source_system",
        pl.col(previous).cast(pl.Float64).alias("previous"),
        pl.col(current).cast(pl.Float64).alias("current"),
        pl.lit(bound, pl.Float64).alias("bound"),
        breached.alias("breached"),
        message.alias("message"),
    )


def _pct(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round(1).cast(pl.String) + pl.lit(" %")


def compare_runs(
    previous: tuple[pl.DataFrame, pl.DataFrame] | None,
    current: tuple[pl.DataFrame, pl.DataFrame],
    guards: RunGuards,
    accept: tuple[str, ...] = (),
) -> pl.DataFrame:
    """One row per guard evaluated (GUARD_SCHEMA); `breached & ~accepted_by_operator` stops
    the run."""
    now_volume, now_active = current
    total = int(now_volume["accepted"].sum() or 0)
    rows = [
        pl.DataFrame(
            {"feed": ["*"], "source_system": ["*"], "previous": [None], "current": [float(total)]}
        ).pipe(
            _rows,
            "EMPTY_LANDING",
            "previous",
            "current",
            0.0,
            pl.col("current") == 0,
            pl.lit("no record of any feed was accepted: an empty (or wrong) landing folder"),
        )
    ]
    if previous is not None:
        rows += _volume_rows(previous[0], now_volume, guards)
        rows += [_golden_rows(previous[1], now_active, guards)]
    checked = pl.concat(rows, how="vertical_relaxed").with_columns(
        _accepted_expr(accept).alias("accepted_by_operator")
    )
    return (
        checked.select(list(GUARD_SCHEMA)).cast(GUARD_SCHEMA).sort("guard", "feed", "source_system")
    )


def _volume_rows(before: pl.DataFrame, now: pl.DataFrame, guards: RunGuards) -> list[pl.DataFrame]:
    before, now = before.cast(VOLUME_SCHEMA), now.cast(VOLUME_SCHEMA)
    both = before.join(now, on=["feed", "source_system"], how="full", coalesce=True, suffix="_now")
    both = both.with_columns(pl.col(pl.Int64).fill_null(0)).with_columns(
        _rate("accepted", "rejected").alias("rate"),
        _rate("accepted_now", "rejected_now").alias("rate_now"),
        (1 - pl.col("accepted_now") / pl.col("accepted")).alias("drop"),
    )
    was_there = pl.col("accepted") > 0
    big_enough = pl.col("accepted") >= guards.min_previous_accepted
    counted = (pl.col("accepted") + pl.col("rejected")) >= guards.min_previous_accepted
    return [
        _rows(
            both.filter(was_there),
            "SOURCE_VANISHED",
            "accepted",
            "accepted_now",
            0.0,
            pl.col("accepted_now") == 0,
            pl.format(
                "no accepted {} record from {} any more (was {})",
                "feed",
                "source_system",
                "accepted",
            ),
        ),
        _rows(
            both.filter(was_there & big_enough & (pl.col("accepted_now") > 0)),
            "ACCEPTED_DROP",
            "accepted",
            "accepted_now",
            guards.max_accepted_drop,
            pl.col("drop") > guards.max_accepted_drop,
            pl.format(
                "accepted {} records from {}: {} -> {} (-{})",
                "feed",
                "source_system",
                "accepted",
                "accepted_now",
                _pct("drop"),
            ),
        ),
        _rows(
            both.filter(counted & pl.col("rate_now").is_not_null()),
            "REJECTION_RATE",
            "rate",
            "rate_now",
            guards.max_rejection_rate_rise,
            (pl.col("rate_now") - pl.col("rate")) > guards.max_rejection_rate_rise,
            pl.format(
                "rejection rate of {} from {}: {} -> {}",
                "feed",
                "source_system",
                _pct("rate"),
                _pct("rate_now"),
            ),
        ),
    ]


def _rate(accepted: str, rejected: str) -> pl.Expr:
    """Rejected share of a feed x source's records; null when it had none."""
    total = pl.col(accepted) + pl.col(rejected)
    return pl.when(total > 0).then(pl.col(rejected) / total)


def _golden_rows(before: pl.DataFrame, now: pl.DataFrame, guards: RunGuards) -> pl.DataFrame:
    ids = {"entity": pl.String, "master_id": pl.String}
    before, now = before.cast(ids), now.cast(ids)
    kept = before.join(now, on=["entity", "master_id"], how="semi").group_by("entity").len("kept")
    per_entity = (
        before.group_by("entity")
        .len("active")
        .join(kept, on="entity", how="left")
        .with_columns((pl.col("active") - pl.col("kept").fill_null(0)).alias("lost"))
        .with_columns((pl.col("lost") / pl.col("active")).alias("share"))
    )
    return _rows(
        per_entity.rename({"entity": "feed"}).with_columns(pl.lit("*").alias("source_system")),
        "GOLDEN_LOST",
        "active",
        "lost",
        guards.max_golden_lost,
        pl.col("share") > guards.max_golden_lost,
        pl.format(
            "{} of {} active golden {} records retired or left without a source ({})",
            "lost",
            "active",
            "feed",
            _pct("share"),
        ),
    )


def _accepted_expr(accept: tuple[str, ...]) -> pl.Expr:
    """A breach of feed F from source S is accepted by F:S (wildcards allowed); GOLDEN_LOST of
    entity F by any acceptance of F's feed; EMPTY_LANDING only by *:*."""
    pairs = [parse_acceptance(token) for token in accept]
    if not pairs:
        return pl.lit(False)
    return pl.struct("guard", "feed", "source_system").map_elements(
        lambda row: any(_covers(f, s, row) for f, s in pairs), return_dtype=pl.Boolean
    )


def _covers(feed: str, source: str, row: dict) -> bool:
    if row["guard"] == "EMPTY_LANDING":
        return feed == "*" and source == "*"
    feed_ok = fnmatchcase(row["feed"], feed)
    return feed_ok and (row["guard"] == "GOLDEN_LOST" or fnmatchcase(row["source_system"], source))


def breaches(checked: pl.DataFrame) -> pl.DataFrame:
    """The rows that stop the run."""
    return checked.filter(pl.col("breached") & ~pl.col("accepted_by_operator"))
