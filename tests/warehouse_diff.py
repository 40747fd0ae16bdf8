"""Two published warehouses, table by table: the same tables, views and columns, the same
rows, apart from what differs between any two runs on one landing folder.

Used by tests/test_benchmark.py; also a script for "this change publishes the same warehouse":
`.venv/bin/python tests/warehouse_diff.py BEFORE.duckdb AFTER.duckdb` (exit 0 when identical;
the script also compares the campaign export files beside the two warehouses).
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

# What differs between two runs on the same landing folder: the run's id and wall-clock
# time, the landing folder's path, and the id of each freshly trained matching model. These
# are compared only as set or empty (an id retired or gone dormant in one run and not the
# other still shows).
RUN_COLUMNS = {
    "master.identity_registry": {
        "created_run",
        "created_at",
        "retired_run",
        "retired_at",
        "dormant_run",
        "dormant_at",
    },
    "master.identity_retired": {"run_id", "retired_at"},
    "master.identity_source_key": {"last_seen_run", "last_seen_at"},
    "meta.run": {"run_id", "published_at", "landing_dir"},
    "meta.run_log": {"run_id", "published_at", "landing_dir"},
    "quality.source_rule_rate": {"run_id"},
    "quality.match_review": {"model_version"},
}


def relations(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    """schema.name of every table and view -> its columns and types."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? ORDER BY 1, column_index",
        [db],
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for name, column, data_type in rows:
        found.setdefault(name, []).append((column, data_type))
    return found


def rows_only_in_one(con: duckdb.DuckDBPyConnection, name: str, columns) -> int:
    """Rows of `name` in one of the attached warehouses `a` and `b` but not the other."""
    run_columns = RUN_COLUMNS.get(name, set())

    def compared(column: str, data_type: str) -> str:
        if column in run_columns:
            return f'("{column}" IS NULL)'
        # scores of two trainings may differ in the last bits of a double
        return f'round("{column}", 9)' if data_type == "DOUBLE" else f'"{column}"'

    kept = ", ".join(compared(c, t) for c, t in columns)
    return sum(
        con.execute(
            f"SELECT count(*) FROM (SELECT {kept} FROM {x}.{name} EXCEPT ALL "
            f"SELECT {kept} FROM {y}.{name})"
        ).fetchall()[0][0]
        for x, y in (("a", "b"), ("b", "a"))
    )


def warehouse_differences(a: Path, b: Path) -> dict[str, str]:
    """schema.name -> how it differs; empty when the warehouses publish the same."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        in_a, in_b = relations(con, "a"), relations(con, "b")
        found = {name: "only in the first" for name in in_a.keys() - in_b.keys()}
        found |= {name: "only in the second" for name in in_b.keys() - in_a.keys()}
        for name in sorted(in_a.keys() & in_b.keys()):
            if in_a[name] != in_b[name]:
                found[name] = f"columns differ: {in_a[name]} vs {in_b[name]}"
            elif n := rows_only_in_one(con, name, in_a[name]):
                found[name] = f"{n} rows in one but not the other"
        return found


def export_differences(a: Path, b: Path) -> dict[str, str]:
    """exports/<file> -> how it differs, for the campaign files beside the two warehouses."""
    files_a = {p.name: p for p in (a.parent / "exports").glob("*")}
    files_b = {p.name: p for p in (b.parent / "exports").glob("*")}
    found = {f"exports/{n}": "only in the first" for n in files_a.keys() - files_b.keys()}
    found |= {f"exports/{n}": "only in the second" for n in files_b.keys() - files_a.keys()}
    for name in files_a.keys() & files_b.keys():
        if files_a[name].read_bytes() != files_b[name].read_bytes():
            found[f"exports/{name}"] = "contents differ"
    return found


if __name__ == "__main__":
    first, second = Path(sys.argv[1]), Path(sys.argv[2])
    differences = warehouse_differences(first, second) | export_differences(first, second)
    for name, how in sorted(differences.items()):
        print(f"{name}: {how}")
    print("different" if differences else "identical (apart from run ids, times, model ids)")
    sys.exit(1 if differences else 0)
