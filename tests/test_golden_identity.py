"""Stable identity across runs: determinism, additions, merges, splits, reading a warehouse."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from crm_pipelines.golden.assemble import MasterData, as_previous, build_master
from crm_pipelines.golden.identity import (
    business_key,
    load_previous_identity,
    mint_ids,
    uuid5_text,
)
from crm_pipelines.golden.minting import _mint_sequentially, mint_id_series
from crm_pipelines.staged import conform

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def customers(ids: list[str]) -> pl.DataFrame:
    return conform(
        "customer",
        pl.DataFrame(
            {
                "record_key": [f"BSS|{i}" for i in ids],
                "source_system": ["BSS"] * len(ids),
                "source_id": ids,
                "updated_at": [T0] * len(ids),
                "party_type": ["ORGANIZATION"] * len(ids),
                "customer_type": ["BUSINESS"] * len(ids),
                "status": ["ACTIVE"] * len(ids),
                "organization_name": [f"Firma {i}" for i in ids],
                "country": ["CZ"] * len(ids),
            }
        ),
    )


def run(groups: list[list[str]], previous: MasterData | None, run_no: int) -> MasterData:
    """A run whose customer clusters are `groups` of source ids."""
    ids = [source_id for group in groups for source_id in group]
    clusters = pl.DataFrame(
        {
            "record_key": [f"BSS|{i}" for i in ids],
            "cluster_id": [f"k{n}" for n, group in enumerate(groups) for _ in group],
        }
    )
    return build_master(
        {"customer": customers(ids)},
        {"customer": clusters},
        None,
        as_previous(previous) if previous else None,
        f"run-{run_no}",
        T0 + timedelta(days=run_no),
    )


def ids_by_record(master: MasterData) -> dict[str, str]:
    xref = master.xref.filter(pl.col("entity") == "customer")
    return dict(zip(xref["record_key"], xref["master_id"], strict=True))


def test_same_input_twice_gives_identical_ids_without_a_previous_warehouse() -> None:
    groups = [["1", "2"], ["3"], ["4", "5", "6"]]
    first, second = run(groups, None, 1), run(groups, None, 1)
    assert first.customer.select("customer_id", "customer_key").equals(
        second.customer.select("customer_id", "customer_key")
    )
    key = first.customer["customer_key"][0]
    assert re.fullmatch(r"CUS-[0-9A-F]{10}", key)
    # the id of a cluster is derived from its smallest record key
    assert ids_by_record(first)["BSS|1"] == uuid5_text("customer|BSS|1")


def test_same_input_against_its_own_warehouse_keeps_everything() -> None:
    groups = [["1", "2"], ["3"]]
    first = run(groups, None, 1)
    second = run(groups, first, 2)
    assert ids_by_record(first) == ids_by_record(second)
    assert second.identity_retired.is_empty()
    assert second.metrics["customer"]["new_ids"] == 0
    assert second.identity_registry.equals(first.identity_registry)


def test_an_added_record_changes_no_unrelated_id() -> None:
    first = run([["1", "2"], ["3"]], None, 1)
    second = run([["1", "2"], ["3"], ["0"]], first, 2)
    before, after = ids_by_record(first), ids_by_record(second)
    assert {key: after[key] for key in before} == before
    assert after["BSS|0"] not in before.values()
    # a record joining an existing cluster takes its id, even as its new smallest key
    third = run([["00", "1", "2"], ["3"], ["0"]], second, 3)
    assert ids_by_record(third)["BSS|00"] == before["BSS|1"]
    assert third.metrics["customer"]["new_ids"] == 0


def test_merge_keeps_the_older_id_and_records_the_retired_one() -> None:
    first = run([["5"]], None, 1)
    second = run([["5"], ["1"]], first, 2)  # "1" is newer, though its key is smaller
    older, newer = ids_by_record(second)["BSS|5"], ids_by_record(second)["BSS|1"]
    third = run([["1", "5"]], second, 3)
    assert set(ids_by_record(third).values()) == {older}
    retired = third.identity_retired.row(0, named=True)
    assert (retired["retired_id"], retired["surviving_id"], retired["reason"]) == (
        newer,
        older,
        "MERGE",
    )
    assert retired["run_id"] == "run-3"
    registry = third.identity_registry.filter(pl.col("master_id") == newer)
    assert registry["status"].to_list() == ["RETIRED"]
    assert third.metrics["customer"]["merges"] == 1
    # splitting again undoes the merge: each part gets the id its records had before it
    fourth = run([["1"], ["5"]], third, 4)
    assert ids_by_record(fourth) == ids_by_record(second)
    assert registry_status(fourth, newer) == "ACTIVE"
    assert fourth.metrics["customer"]["revived_ids"] == 1
    row = fourth.identity_retired.filter(pl.col("retired_id") == newer).row(0, named=True)
    assert (row["surviving_id"], row["current_id"]) == (older, newer)  # history kept


def test_split_leaves_the_id_with_the_larger_part() -> None:
    first = run([["1", "2", "3"]], None, 1)
    original = ids_by_record(first)["BSS|1"]
    second = run([["1"], ["2", "3"]], first, 2)
    after = ids_by_record(second)
    assert after["BSS|2"] == after["BSS|3"] == original
    assert after["BSS|1"] != original  # uuid5 of "BSS|1" is taken: re-derived
    split = second.identity_registry.filter(pl.col("master_id") == after["BSS|1"]).row(
        0, named=True
    )
    assert (split["origin"], split["derived_from"], split["created_run"]) == (
        "SPLIT",
        original,
        "run-2",
    )
    assert second.metrics["customer"]["splits"] == 1
    assert second.identity_retired.is_empty()


def registry_status(master: MasterData, master_id: str) -> str:
    return master.identity_registry.filter(pl.col("master_id") == master_id)["status"].item()


def test_an_id_whose_records_are_gone_is_dormant_and_comes_back_with_them() -> None:
    first = run([["1"], ["2"]], None, 1)
    gone = ids_by_record(first)["BSS|2"]
    second = run([["1"]], first, 2)
    assert second.identity_retired.is_empty()
    assert registry_status(second, gone) == "DORMANT"
    assert second.metrics["customer"]["dormant_ids"] == 1
    third = run([["1"]], second, 3)  # still absent: the key is remembered, not forgotten
    fourth = run([["1"], ["2"]], third, 4)
    assert ids_by_record(fourth) == ids_by_record(first)
    assert registry_status(fourth, gone) == "ACTIVE"
    assert fourth.metrics["customer"]["revived_ids"] == 1
    assert fourth.metrics["customer"]["new_ids"] == 0


def test_a_bridge_record_absent_for_a_run_leaves_every_id_as_it_was() -> None:
    first = run([["1", "2", "3"], ["4"]], None, 1)
    # without record 2 the cluster falls apart: 3 gets a new (SPLIT) id for one run
    second = run([["1"], ["3"], ["4"]], first, 2)
    assert ids_by_record(second)["BSS|3"] != ids_by_record(first)["BSS|3"]
    third = run([["1", "2", "3"], ["4"]], second, 3)
    assert ids_by_record(third) == ids_by_record(first)
    split_id = ids_by_record(second)["BSS|3"]
    retired = third.identity_retired.filter(pl.col("retired_id") == split_id).row(0, named=True)
    assert retired["current_id"] == ids_by_record(first)["BSS|1"]


def test_retired_ids_accumulate_and_a_chain_of_merges_resolves_to_todays_id() -> None:
    first = run([["7"]], None, 1)
    second = run([["7"], ["5"]], first, 2)
    third = run([["7"], ["5"], ["1"]], second, 3)
    oldest, middle, newest = (ids_by_record(third)[f"BSS|{i}"] for i in ("7", "5", "1"))
    fourth = run([["7"], ["1", "5"]], third, 4)  # newest retired into middle
    fifth = run([["1", "5", "7"]], fourth, 5)  # middle retired into oldest
    retired = fifth.identity_retired
    assert set(retired["retired_id"]) == {newest, middle}
    assert set(retired["current_id"]) == {oldest}
    chain = dict(zip(retired["retired_id"], retired["surviving_id"], strict=True))
    assert chain == {newest: middle, middle: oldest}
    sixth = run([["1", "5", "7"]], fifth, 6)
    assert sixth.identity_retired.equals(fifth.identity_retired)


def test_a_merge_made_while_a_source_was_missing_is_undone_when_it_is_back() -> None:
    # 2 kept 1 and 3 apart; without it they merge, with it back each gets its own id again
    first = run([["1", "2"], ["3"]], None, 1)
    second = run([["1", "3"]], first, 2)
    assert second.metrics["customer"]["merges"] == 1
    third = run([["1", "3"]], second, 3)  # still merged: no second retirement
    assert third.identity_retired.height == 1
    fourth = run([["1", "2"], ["3"]], third, 4)
    assert ids_by_record(fourth) == ids_by_record(first)


def test_minting_avoids_taken_ids_and_keys() -> None:
    seeds = pl.Series(["BSS|1", "BSS|2"])
    taken_id = uuid5_text("customer|BSS|1")
    taken_key = business_key("customer", uuid5_text("customer|BSS|2"))
    ids, keys = mint_ids("customer", seeds, {taken_id}, {taken_key})
    assert ids[0] == uuid5_text("customer|BSS|1|1")
    assert ids[1] == uuid5_text("customer|BSS|2|1")
    assert keys == [business_key("customer", value) for value in ids]


def test_bulk_minting_under_collisions_equals_minting_one_seed_after_another() -> None:
    """Ids hashed in bulk, with the few clashing seeds retried in bulk (or one by one when
    retries chain), must be exactly what minting seed after seed in seed order gives --
    the definition of a deterministic id: taken ids and keys, retry ids another seed holds,
    several retries deep, and business keys given by the caller."""
    rng = random.Random(20261207)
    for _ in range(200):
        entity = rng.choice(["customer", "person"])
        seeds = [f"BSS|{rng.randrange(40)}" for _ in range(rng.randrange(1, 25))]
        if rng.random() < 0.1:
            seeds.append(seeds[0] + "|1")  # a later seed whose own id is the first's retry
        taken = set()
        for seed in rng.sample(seeds, k=min(len(seeds), rng.randrange(0, 6))):
            for attempt in range(rng.choice([1, 1, 2, 3, 6])):
                taken.add(uuid5_text(f"{entity}|{seed}" + (f"|{attempt}" if attempt else "")))
        taken_keys = {business_key(entity, i) for i in sorted(taken)[: rng.randrange(0, 3)]}
        given = [f"K{i}" for i in range(len(seeds))] if rng.random() < 0.3 else None
        order = sorted(range(len(seeds)), key=lambda i: seeds[i])
        expected = _mint_sequentially(entity, seeds, order, set(taken), set(taken_keys), given)
        ids, keys = mint_id_series(
            entity,
            pl.Series(seeds),
            sorted(taken),
            sorted(taken_keys),
            pl.Series(given) if given else None,
        )
        assert (ids.to_list(), keys.to_list()) == expected, seeds


def test_load_previous_identity_reads_a_published_warehouse(tmp_path: Path) -> None:
    assert load_previous_identity(tmp_path / "missing.duckdb") is None
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert load_previous_identity(empty) is None

    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA master")
    # an old xref without record_key
    con.execute(
        "CREATE TABLE master.xref AS SELECT * FROM (VALUES "
        "('customer', 'BSS', '1', 'id-c'), ('person_holder', 'BSS', '1', 'id-p'), "
        "('person', 'BSS', 'P1', 'id-p')) t(entity, source_system, source_id, master_id)"
    )
    con.execute(
        "CREATE TABLE master.identity_registry AS SELECT 'customer' AS entity, "
        "'id-c' AS master_id, 'CUS-1' AS master_key, 'run-0' AS created_run, "
        "TIMESTAMPTZ '2026-01-01 00:00:00+00' AS created_at, 'ACTIVE' AS status"
    )
    con.close()
    previous = load_previous_identity(warehouse)
    assert previous is not None
    keys = dict(zip(previous.xref["entity"], previous.xref["record_key"], strict=False))
    assert keys["customer"] == "BSS|1"
    assert keys["person_holder"] == "BSS|customer:1"
    assert previous.identity_registry["master_key"].to_list() == ["CUS-1"]
    assert previous.identity_registry["origin"].to_list() == [None]
    # read-only: a writer can open the file again right away
    duckdb.connect(str(warehouse)).close()


def test_ids_of_a_warehouse_written_to_duckdb_survive_the_round_trip(tmp_path: Path) -> None:
    first = run([["1", "2"], ["3"]], None, 1)
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA master")
    for name in ("xref", "identity_registry"):
        frame = getattr(first, name)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"CREATE TABLE master.{name} AS SELECT * FROM frame")
    con.close()
    previous = load_previous_identity(warehouse)
    assert previous is not None
    ids = [source_id for source_id in ["1", "2", "3"]]
    second = build_master(
        {"customer": customers(ids)},
        {
            "customer": pl.DataFrame(
                {"record_key": ["BSS|1", "BSS|2", "BSS|3"], "cluster_id": ["x", "x", "y"]}
            )
        },
        None,
        previous,
        "run-2",
        T0 + timedelta(days=2),
    )
    assert ids_by_record(second) == ids_by_record(first)
