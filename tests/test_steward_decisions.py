"""Steward decisions always count (feeds.md, steward_decision): which decision is in force,
which cannot be applied, and that matching carries out the rest whatever the vetoes say.
Real runs over generated feeds with decision files in both forms are in
test_steward_decisions_run.py."""

from __future__ import annotations

import datetime as dt

import polars as pl
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity
from crm_pipelines.match.stewardship import resolve_decisions
from crm_pipelines.staged import conform

UTC = dt.UTC


def decisions(*rows: tuple) -> pl.DataFrame:
    """(left, right, decision, day of November) rows, one line each of decisions.csv."""
    return pl.DataFrame(
        {
            "entity": ["customer"] * len(rows),
            "left_record_key": [r[0] for r in rows],
            "right_record_key": [r[1] for r in rows],
            "decision": [r[2] for r in rows],
            "decided_at": [
                None if r[3] is None else dt.datetime(2026, 11, r[3], 9, tzinfo=UTC) for r in rows
            ],
            "file": ["steward_decision/decisions.csv"] * len(rows),
            "line": list(range(2, len(rows) + 2)),
        }
    )


def status_of(resolved: pl.DataFrame) -> list[str]:
    return resolved["status"].to_list()


def test_the_latest_decided_at_wins_for_a_pair_named_in_either_order():
    resolved = resolve_decisions(
        decisions(("A|1", "A|2", "MATCH", 20), ("A|2", "A|1", "NO_MATCH", 10))
    )
    assert status_of(resolved) == ["APPLICABLE", "SUPERSEDED"]
    reversed_later = resolve_decisions(
        decisions(("A|1", "A|2", "MATCH", 10), ("A|2", "A|1", "NO_MATCH", 20))
    )
    assert status_of(reversed_later) == ["SUPERSEDED", "APPLICABLE"]


def test_a_decision_without_decided_at_is_older_than_any_dated_one():
    resolved = resolve_decisions(
        decisions(("A|1", "A|2", "MATCH", 10), ("A|1", "A|2", "NO_MATCH", None))
    )
    assert status_of(resolved) == ["APPLICABLE", "SUPERSEDED"]


def test_a_record_paired_with_itself_and_an_unknown_record_are_named():
    known = pl.DataFrame({"entity": ["customer"] * 2, "record_key": ["A|1", "A|2"]})
    resolved = resolve_decisions(
        decisions(("A|1", "A|1", "MATCH", 10), ("A|1", "A|9", "MATCH", 10)), known
    )
    assert status_of(resolved) == ["SELF_PAIR", "UNKNOWN_RECORD"]
    assert resolved["problem"].to_list() == [
        "the decision pairs a record with itself; ignored",
        "the decision names a customer record matching does not know: A|1 or A|9; ignored",
    ]


def test_a_match_chain_across_a_no_match_leaves_out_the_older_match_and_names_the_no_match():
    resolved = resolve_decisions(
        decisions(
            ("A|1", "A|2", "MATCH", 10),
            ("A|2", "A|3", "MATCH", 12),
            ("A|3", "A|1", "NO_MATCH", 11),
            ("A|4", "A|3", "MATCH", 13),
        )
    )
    assert status_of(resolved) == ["CONTRADICTED", "APPLICABLE", "APPLICABLE", "APPLICABLE"]
    assert resolved["problem"][0] == (
        "MATCH not applied: with the other MATCH decisions it would join two records that "
        "the NO_MATCH decision at steward_decision/decisions.csv line 4 keeps apart"
    )


def _customers(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.lit("CZ").alias("country"),
        pl.lit("INDIVIDUAL").alias("party_type"),
        pl.lit("ACTIVE").alias("status"),
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
    )
    return pl.concat([synthetic_people_as("customer", 800), conform("customer", frame)])


# Father and son by their birth dates -- or so the veto says; the steward knows the 1950
# date was a migration's placeholder, and that the bare record is the same man.
DVORAK = [
    {"source_system": "BSS", "source_id": "a", "first_name": "Petr", "last_name": "Dvořák"}
    | {"birth_date": dt.date(1950, 3, 7), "email": "petr.dvorak@seznam.cz"},
    {"source_system": "ESHOP", "source_id": "b", "first_name": "Petr", "last_name": "Dvořák"},
    {"source_system": "PARTNER", "source_id": "c", "first_name": "Petr", "last_name": "Dvořák"}
    | {"birth_date": dt.date(1980, 11, 21), "email": "petr.dvorak@seznam.cz"},
]


def _clusters_of(rows: list[dict], ruled: pl.DataFrame | None) -> dict[str, str]:
    result = match_entity("customer", _customers(rows), ruled)
    return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))


def test_steward_matches_are_applied_where_a_veto_holds_between_their_records():
    without = _clusters_of(DVORAK, None)
    assert without["BSS|a"] != without["PARTNER|c"]  # the birth dates veto the pair
    ruled = decisions(("BSS|a", "ESHOP|b", "MATCH", 10), ("ESHOP|b", "PARTNER|c", "MATCH", 11))
    clusters = _clusters_of(DVORAK, ruled)
    assert clusters["BSS|a"] == clusters["ESHOP|b"] == clusters["PARTNER|c"]


def test_a_match_on_the_vetoed_pair_itself_is_applied():
    clusters = _clusters_of(DVORAK, decisions(("PARTNER|c", "BSS|a", "MATCH", 10)))
    assert clusters["BSS|a"] == clusters["PARTNER|c"]


def test_a_reversed_decision_is_carried_out_as_its_latest_ruling():
    ruled = decisions(("BSS|a", "PARTNER|c", "MATCH", 10), ("PARTNER|c", "BSS|a", "NO_MATCH", 20))
    clusters = _clusters_of(DVORAK, ruled)
    assert clusters["BSS|a"] != clusters["PARTNER|c"]
    back = decisions(("BSS|a", "PARTNER|c", "NO_MATCH", 10), ("PARTNER|c", "BSS|a", "MATCH", 20))
    clusters = _clusters_of(DVORAK, back)
    assert clusters["BSS|a"] == clusters["PARTNER|c"]


def test_a_no_match_is_never_crossed_by_a_chain_of_steward_matches():
    ruled = decisions(
        ("BSS|a", "ESHOP|b", "MATCH", 10),
        ("ESHOP|b", "PARTNER|c", "MATCH", 12),
        ("PARTNER|c", "BSS|a", "NO_MATCH", 11),
    )
    clusters = _clusters_of(DVORAK, ruled)
    assert clusters["BSS|a"] != clusters["PARTNER|c"]
    assert clusters["ESHOP|b"] == clusters["PARTNER|c"]  # the later MATCH holds
