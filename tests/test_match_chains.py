"""A chain of matches must not join two records their own comparison would keep apart."""

from __future__ import annotations

import datetime as dt

import polars as pl
from conftest import AS_OF
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity
from crm_pipelines.match.evidence import match_in_order
from crm_pipelines.match.febrl import write_febrl_landing
from crm_pipelines.match.settings import entity_settings
from crm_pipelines.staged import conform
from crm_pipelines.validate.landing import stage_landing


def _frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.lit("CZ").alias("country"),
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
    )
    return conform(entity, frame)


def _customer(system: str, sid: str, last: str, **fields) -> dict:
    row = {"source_system": system, "source_id": sid, "party_type": "INDIVIDUAL"}
    return row | {"first_name": "Jan", "last_name": last, "status": "ACTIVE"} | fields


# The son (1977) has no contacts; the father (1945) is known to the e-shop with a
# misspelt surname, and to the partner portal without a birth date at the family's home.
FAMILY = [
    _customer("BSS", "son", "Kovář", birth_date=dt.date(1977, 8, 13)),
    _customer(
        "ESHOP",
        "dad",
        "oKvář",
        birth_date=dt.date(1945, 8, 20),
        email="jan.kovar55@gmail.com",
        phone="+420605104619",
    ),
    _customer("PARTNER", "dad", "Kovar", email="jan.kovar55@gmail.com", phone="+420605104619"),
]
HOMES = [
    {"source_system": system, "source_id": f"a-{sid}", "owner_source_id": sid}
    | {"owner_kind": "CUSTOMER", "role_type": "SERVICE", "street": "Husova", "house_number": "12"}
    | {"city": "Tábor", "postcode": "390 02"}
    for system, sid in (("BSS", "son"), ("PARTNER", "dad"))
]


def _clusters(settings: dict | None = None) -> tuple[dict[str, str], dict, pl.DataFrame]:
    """The family among a synthetic crowd; the upper threshold lowered so that the bare
    name + building pair is a MATCH among these few records, as it is in real volumes."""
    settings = {"thresholds": {"upper": 0.8, "lower": 0.5}, **(settings or {})}
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", FAMILY)])
    result = match_entity(
        "customer", records, addresses=_frame("address", HOMES), settings=settings
    )
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    return clusters, result.metrics, result.review


def test_father_and_son_joined_only_through_a_chain_stay_apart() -> None:
    """The partner-portal record fits both men (the son's name and building, the father's
    contacts): once the chain veto keeps son and father apart it is ambiguous, so its edges
    go to a steward instead of joining either man."""
    clusters, metrics, review = _clusters()
    assert clusters["BSS|son"] != clusters["ESHOP|dad"]
    assert metrics["vetoed_across_chains"] >= 1
    queued = set(zip(review["left_source_id"], review["right_source_id"], strict=True))
    assert {("son", "dad"), ("dad", "son")} & queued


def test_without_across_chains_the_chain_joins_them() -> None:
    """The same records with the birth-date veto checked on compared pairs only: the son
    and the e-shop record were never a candidate pair, so the chain merged all three."""
    vetoes = [
        {"when": dict(veto.when), "unless": dict(veto.unless)}
        for veto in entity_settings("customer").vetoes
        if not veto.chains_only
    ]
    clusters, metrics, _ = _clusters({"vetoes": vetoes})
    assert metrics["vetoed_across_chains"] == 0
    assert clusters["BSS|son"] == clusters["ESHOP|dad"] == clusters["PARTNER|dad"]


def test_contacts_a_chain_bridges_do_not_split_one_person() -> None:
    """Honza's record and the misspelt "Burše" record share no contact and would be vetoed
    as a pair (another phone), but a third record holds a contact of each: contact vetoes
    are not applied across chains -- a party collects mailboxes and numbers."""
    rows = [
        _customer(
            "BSS",
            "p1",
            "Bureš",
            first_name="Honza",
            email="honza.bures@seznam.cz",
            phone="+420777111222",
        ),
        _customer("ESHOP", "p2", "Bureš", email="honza.bures@seznam.cz", phone="+420777123456"),
        _customer("PARTNER", "p3", "Burše", email="jan.bures@gmail.com", phone="+420777123456"),
    ]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rows)])
    result = match_entity("customer", records)
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert len({clusters[k] for k in ("BSS|p1", "ESHOP|p2", "PARTNER|p3")}) == 1
    direct = result.pairs.filter(
        (pl.col("left_record_key") == "BSS|p1") & (pl.col("right_record_key") == "PARTNER|p3")
    )
    assert direct["decision"].to_list() in ([], ["NO_MATCH"])  # joined only by the chain


def test_a_chain_of_steward_matches_outranks_a_chain_veto() -> None:
    """A steward joined A to B and B to C (three systems' names for one customer); A and C
    carry different birth dates and were never compared. The steward's rulings stand: the
    chain veto does not split what stewards joined."""
    rows = [
        _customer("BSS", "a", "Dvořák", first_name="Petr", birth_date=dt.date(1950, 1, 2)),
        _customer("ESHOP", "b", "Svoboda", first_name="Karel"),
        _customer("PARTNER", "c", "Černý", first_name="Josef", birth_date=dt.date(1980, 3, 4)),
    ]
    decisions = pl.DataFrame(
        {
            "entity": ["customer", "customer"],
            "left_record_key": ["BSS|a", "ESHOP|b"],
            "right_record_key": ["ESHOP|b", "PARTNER|c"],
            "decision": ["MATCH", "MATCH"],
        }
    )
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rows)])
    result = match_entity("customer", records, decisions)
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["BSS|a"] == clusters["ESHOP|b"] == clusters["PARTNER|c"]


def test_a_birth_date_the_model_already_weighed_does_not_split_the_chain(tmp_path) -> None:
    """FEBRL2's rec-3228 (names, birth date, home; no contacts): dup-1 has the birth year
    mistyped and the model MATCHes it to the original at their home despite it; dup-2 sends
    the names the other way round and was never paired with dup-1. Their birth dates differ
    exactly as on the weighed edge -- no new fact: one person, not a steward's riddle."""
    write_febrl_landing("febrl2", tmp_path)
    staged = stage_landing(tmp_path, AS_OF).staged
    result = next(r for r in match_in_order(staged) if r.entity == "person")
    key = "LEGACY_CRM|rec-3228-{}".format
    records = staged["person"].filter(pl.col("record_key").str.starts_with(key("")))
    dates = dict(zip(records["record_key"], records["birth_date"], strict=True))
    assert dates[key("dup-1")] != dates[key("org")] == dates[key("dup-2")]
    decided = {
        frozenset((a, b)): d
        for a, b, d in result.pairs.select(
            "left_record_key", "right_record_key", "decision"
        ).iter_rows()
    }
    assert decided[frozenset((key("dup-1"), key("org")))] == "MATCH"
    assert frozenset((key("dup-1"), key("dup-2"))) not in decided  # joined by the chain only
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert len({clusters[k] for k in dates}) == 1
