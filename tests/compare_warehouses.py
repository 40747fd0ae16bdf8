"""Are two runs' warehouses the same, table by table? For refactors that must change no behaviour.

Usage: python tests/compare_warehouses.py OLD_WAREHOUSE NEW_WAREHOUSE

Both runs should have read the same landing folder with the same --as-of. Compares every table
and view of every schema (columns, types, and rows as a multiset) and the campaign export files
beside each warehouse. Columns that name the run rather than its result (run ids; publish,
creation, last-seen, retirement and dormancy instants; the matching models' versions: a model
is retrained each run and its version hashes its training instant) are compared only as set
or empty. Top-level DOUBLE columns are compared rounded to 9 decimals: a match score's last
bits depend on the order of a parallel sum.
Exit 0 when identical, 1 with one line per difference otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

RUN_COLUMNS = {
    "run_id",
    "published_at",
    "created_run",
    "created_at",
    "last_seen_run",
    "last_seen_at",
    "retired_run",
    "retired_at",
    "dormant_run",
    "dormant_at",
    "model_version",
}
# created_at is also a lead's own creation instant: a data value there, compared.
DATA_CREATED_AT = {("master", "lead"), ("source", "lead")}


def _relations(con: duckdb.DuckDBPyConnection, db: str) -> set[tuple[str, str]]:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE database_name = ? AND NOT internal",
        [db, db],
    ).fetchall()
    return {(schema, name) for schema, name in rows}


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, name: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [db, schema, name],
    ).fetchall()


def _compared(columns: list[tuple], schema: str, name: str) -> str:
    """The select list of one relation: run-naming columns as set or empty, doubles rounded."""
    items = []
    for column, data_type in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        names_the_run = column in RUN_COLUMNS and (
            column != "created_at" or (schema, name) not in DATA_CREATED_AT
        )
        if names_the_run:
            items.append(f"({quoted} IS NULL) AS {quoted}")
        elif data_type == "DOUBLE":
            items.append(f"round({quoted}, 9)")
        else:
            items.append(quoted)
    return ", ".join(items)


def _difference(con: duckdb.DuckDBPyConnection, select: str, schema: str, name: str) -> str | None:
    def rows(left: str, right: str) -> int:
        return con.execute(
            f'SELECT count(*) FROM (SELECT {select} FROM {left}."{schema}"."{name}" '
            f'EXCEPT ALL SELECT {select} FROM {right}."{schema}"."{name}")'
        ).fetchone()[0]

    only_old, only_new = rows("old", "new"), rows("new", "old")
    if only_old or only_new:
        return f"{schema}.{name}: {only_old} rows only in old, {only_new} rows only in new"
    return None


def _export_differences(old: Path, new: Path) -> list[str]:
    old_files = {p.name: p for p in (old.parent / "exports").glob("*")}
    new_files = {p.name: p for p in (new.parent / "exports").glob("*")}
    problems = [f"exports/{n}: only in old" for n in sorted(old_files.keys() - new_files.keys())]
    problems += [f"exports/{n}: only in new" for n in sorted(new_files.keys() - old_files.keys())]
    for file_name in sorted(old_files.keys() & new_files.keys()):
        if old_files[file_name].read_bytes() != new_files[file_name].read_bytes():
            problems.append(f"exports/{file_name}: contents differ")
    return problems


def differences(old: Path, new: Path) -> tuple[list[str], int]:
    """Every difference between the two warehouses (and their exports), and how many relations
    were compared."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{old}' AS old (READ_ONLY)")
    con.execute(f"ATTACH '{new}' AS new (READ_ONLY)")
    old_relations, new_relations = _relations(con, "old"), _relations(con, "new")
    problems = [f"{s}.{n}: only in old" for s, n in sorted(old_relations - new_relations)]
    problems += [f"{s}.{n}: only in new" for s, n in sorted(new_relations - old_relations)]
    shared = sorted(old_relations & new_relations)
    for schema, name in shared:
        old_columns = _columns(con, "old", schema, name)
        if old_columns != _columns(con, "new", schema, name):
            problems.append(f"{schema}.{name}: columns or types differ")
            continue
        problem = _difference(con, _compared(old_columns, schema, name), schema, name)
        if problem:
            problems.append(problem)
    con.close()
    return problems + _export_differences(old, new), len(shared)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    problems, compared = differences(Path(argv[0]), Path(argv[1]))
    for problem in problems:
        print(problem)
    print(f"{compared} relations compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
