"""Names as Czech and Slovak systems hold them: titles, generations, and what the master knows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity
from crm_pipelines.staged import conform
from crm_pipelines.validate.names import parse_name, with_parsed_names


@pytest.mark.parametrize(
    ("written", "name", "before", "after", "generation"),
    [
        ("Ing. Jana", "Jana", ["Ing."], [], None),
        ("ING JANA", "JANA", ["Ing."], [], None),
        ("Nováková, Ph.D.", "Nováková", [], ["Ph.D."], None),
        ("Nováková Ph.D.,", "Nováková", [], ["Ph.D."], None),
        ("MUDr. Petr Svoboda CSc.", "Petr Svoboda", ["MUDr."], ["CSc."], None),
        ("prof. Ing. Karel", "Karel", ["prof.", "Ing."], [], None),
        ("Mgr. et Mgr. Eva", "Eva", ["Mgr.", "Mgr."], [], None),
        ("Ing. arch. Tomáš", "Tomáš", ["Ing. arch."], [], None),
        ("Ing.arch. Tomáš", "Tomáš", ["Ing. arch."], [], None),
        ("doc. JUDr. Marie", "Marie", ["doc.", "JUDr."], [], None),
        ("Dvořák, MBA, LL.M.", "Dvořák", [], ["MBA", "LL.M."], None),
        ("bc. lucie", "lucie", ["Bc."], [], None),
        ("Novák st.", "Novák", [], [], "SENIOR"),
        ("Jan ml.", "Jan", [], [], "JUNIOR"),
        # typed without the space after the title's dot
        ("Bc.Jana", "Jana", ["Bc."], [], None),
        ("prof.MUDr.Jan", "Jan", ["prof.", "MUDr."], [], None),
        ("JUDr.Ing. Tomáš", "Tomáš", ["JUDr.", "Ing."], [], None),
        ("Novák,Ph.D.", "Novák", [], ["Ph.D."], None),
        ("Dipl.-Ing. Hans", "Hans", ["Dipl.-Ing."], [], None),
        # titles typed as one word by a system that drops dots and spaces
        ("IngBc Matěj", "Matěj", ["Ing.", "Bc."], [], None),
        ("profMUDr Tomáš", "Tomáš", ["prof.", "MUDr."], [], None),
        ("docIng Karla", "Karla", ["doc.", "Ing."], [], None),
        ("Novák PhDCSc", "Novák", [], ["Ph.D.", "CSc."], None),
        # ... but a name that merely starts like one stays whole
        ("Ingrid", "Ingrid", [], [], None),
        ("Bcda", "Bcda", [], [], None),
        # an initial glued to the surname is no title
        ("J.Novák", "J.Novák", [], [], None),
        # a name that only looks like a title word stays a name
        ("Ma", "Ma", [], [], None),
        ("Bc", "Bc", [], [], None),
        ("Nguyen", "Nguyen", [], [], None),
        # a title alone, written as a title, is no name
        ("Ing.", None, ["Ing."], [], None),
    ],
)
def test_titles_and_generations_are_parsed_out_of_a_name_field(
    written: str, name: str | None, before: list[str], after: list[str], generation: str | None
) -> None:
    assert parse_name(written) == (name, before, after, generation)


def test_titles_from_both_name_fields_land_in_title_before_and_title_after() -> None:
    frame = pl.DataFrame(
        {
            "first_name": ["Ing. Jana", "Petr", "Jan", None],
            "last_name": ["Nováková, Ph.D.", "Svoboda", "Novák ml.", "Dvořák"],
        }
    )
    parsed = with_parsed_names(frame)
    assert parsed.rows() == [
        ("Jana", "Nováková", "Ing.", "Ph.D.", None),
        ("Petr", "Svoboda", None, None, None),
        ("Jan", "Novák", None, None, "JUNIOR"),
        (None, "Dvořák", None, None, None),
    ]


def _persons(rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
        pl.lit("person_feed").alias("origin"),
    )
    return pl.concat([synthetic_people_as("person", 1500), conform("person", frame)])


def _person(system: str, sid: str, first: str, last: str, **fields) -> dict:
    row = {"source_system": system, "source_id": sid, "role_type": "OWNER"}
    return row | {"first_name": first, "last_name": last} | fields


def _clusters(result) -> dict[str, str]:
    return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))


def test_persons_of_one_golden_customer_with_compatible_names_are_one_human() -> None:
    """The billing system's holder row and the e-shop's contact row share no contact and no
    birth date; both hold a role on one golden customer, which the master already knows."""
    rows = [
        _person(
            "BSS",
            "p1",
            "Vendula",
            "Krausová",
            customer_source_id="C1",
            birth_date=dt.date(1979, 3, 2),
        ),
        _person(
            "ESHOP", "p2", "Vendula", "Krausová", customer_source_id="E1", email="vendy.k@seznam.cz"
        ),
        # the same name under another customer, with another phone: not her
        _person(
            "ESHOP", "p3", "Vendula", "Krausová", customer_source_id="E9", phone="+420777123987"
        ),
    ]
    customers = pl.DataFrame(
        {
            "record_key": ["BSS|C1", "ESHOP|E1", "ESHOP|E9"],
            "cluster_id": ["BSS|C1", "BSS|C1", "ESHOP|E9"],
        }
    )
    result = match_entity("person", _persons(rows), customer_clusters=customers)
    clusters = _clusters(result)
    assert clusters["BSS|p1"] == clusters["ESHOP|p2"]
    assert clusters["ESHOP|p3"] != clusters["BSS|p1"]


def test_father_and_son_on_one_family_account_stay_apart() -> None:
    rows = [
        _person(
            "BSS", "f", "Karel", "Bouček", customer_source_id="C1", birth_date=dt.date(1955, 1, 9)
        ),
        _person(
            "BSS",
            "s",
            "Karel",
            "Bouček",
            customer_source_id="C1",
            birth_date=dt.date(1984, 4, 30),
            role_type="BILLING_CONTACT",
        ),
        _person(
            "ESHOP", "j", "Karel", "Bouček ml.", customer_source_id="E1", role_type="SALES_CONTACT"
        ),
        _person("ESHOP", "o", "Karel", "Bouček st.", customer_source_id="E1"),
    ]
    customers = pl.DataFrame(
        {"record_key": ["BSS|C1", "ESHOP|E1"], "cluster_id": ["BSS|C1", "BSS|C1"]}
    )
    frame = with_parsed_names(_persons(rows).drop("generation"))
    result = match_entity("person", frame, customer_clusters=customers)
    clusters = _clusters(result)
    assert clusters["BSS|f"] != clusters["BSS|s"]
    assert clusters["ESHOP|j"] != clusters["ESHOP|o"]


@pytest.mark.parametrize(
    ("swapped", "written", "email"),
    [
        # a swap plus a nickname: "Štěpánková Kateřina" ~ "Katka Štěpánková"
        (("Štěpánková", "Kateřina"), ("Katka", "Štěpánková"), "katerina.s@gmail.com"),
        # an old system keyed "surname first" by hand: both names re-typed, both mistyped
        (("Dvořákvá", "Petar"), ("Petra", "Dvořáková"), "petra.dvorakova@seznam.cz"),
        # a diminutive of both sexes' names (Pája: Pavel, Pavla) in the surname field
        (("Svoboda", "Pája"), ("Pavel", "Svoboda"), "pavel.svoboda@email.cz"),
        # a foreign system stripped the -ová, another sent the surname first: one woman
        (("Nagyová", "Zdeňka"), ("Zdeňka", "Nagy"), "znagyova@gmail.com"),
    ],
    ids=["nickname", "typo_in_each_name", "diminutive", "female_form"],
)
@pytest.mark.parametrize("swapped_first", [True, False], ids=["swapped_first", "written_first"])
def test_a_swapped_name_is_the_same_person(
    swapped: tuple[str, str], written: tuple[str, str], email: str, swapped_first: bool
) -> None:
    rows = [
        _person("LEGACY_CRM", "k1", *swapped, email=email),
        _person("ESHOP", "k2", *written, email=email, phone="+420603012070"),
    ]
    rows = rows if swapped_first else rows[::-1]
    result = match_entity("person", _persons(rows))
    clusters = _clusters(result)
    assert clusters["LEGACY_CRM|k1"] == clusters["ESHOP|k2"]
