"""Customers, addresses and leads: legal forms, buildings, lead dedup and lead -> customer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity, match_leads_to_customers
from crm_pipelines.staged import conform


def _frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None)
    if "source_system" not in frame.columns:
        frame = frame.with_columns(pl.lit("TEST").alias("source_system"))
    frame = frame.with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key")
    )
    if "country" not in frame.columns:
        frame = frame.with_columns(pl.lit("CZ").alias("country"))
    return conform(entity, frame)


def _clusters(result) -> dict[str, str]:
    return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))


def _crowd_companies(n: int, seed: int = 5) -> list[dict]:
    """Distinct companies so EM sees non-matching organisations."""
    rng = np.random.default_rng(seed)
    words = ["Alfa", "Beta", "Stavby", "Trans", "Agro", "Elektro", "Servis", "Invest", "Pekárna"]
    rows = []
    for i in range(n):
        name = f"{words[i % len(words)]} {words[(i * 7 + 3) % len(words)]} {i}"
        ico = f"{10000000 + i * 13:08d}"
        row = {"source_id": f"crowd{i}", "party_type": "ORGANIZATION", "organization_name": name}
        row |= {"registration_no": ico, "email": f"info{i}@firma{i}.cz"}
        rows.append(row)
        if rng.random() < 0.5:  # the same company again from another system
            rows.append(row | {"source_id": f"crowd{i}b", "organization_name": name + " s.r.o."})
    return rows


def test_customers_match_on_ico_and_legal_form_variants() -> None:
    rows = _crowd_companies(400) + [
        {
            "source_id": "o1",
            "party_type": "ORGANIZATION",
            "organization_name": "Zvonařství Brabec s.r.o.",
            "registration_no": "27082440",
        },
        {
            "source_id": "o2",
            "party_type": "ORGANIZATION",
            "organization_name": "ZVONAŘSTVÍ BRABEC spol. s r.o.",
            "registration_no": "27082440",
        },
        {
            "source_id": "o3",
            "party_type": "ORGANIZATION",
            "organization_name": "Zvonarstvi Brabec, s.r.o.",
            "email": "obchod@zvonarstvi.cz",
            "vat_no": "CZ27082440",
        },
        {
            "source_id": "o4",
            "party_type": "ORGANIZATION",
            "organization_name": "Zvonařství Brabec s.r.o.",
            "registration_no": "27082440",
            "vat_no": "CZ27082440",
            "email": "obchod@zvonarstvi.cz",
        },
        # same name, another IČO: a different company
        {
            "source_id": "o5",
            "party_type": "ORGANIZATION",
            "organization_name": "Zvonařství Brabec a.s.",
            "registration_no": "45274649",
        },
        # individuals: the same human twice, and a twin sister
        {
            "source_id": "i1",
            "party_type": "INDIVIDUAL",
            "first_name": "Jan",
            "last_name": "Kolínský",
            "birth_date": dt.date(1980, 2, 2),
            "phone": "+420731000222",
        },
        {
            "source_id": "i2",
            "party_type": "INDIVIDUAL",
            "first_name": "Honza",
            "last_name": "Kolinsky",
            "birth_date": dt.date(1980, 2, 2),
            "phone": "+420731000222",
        },
        {
            "source_id": "i3",
            "party_type": "INDIVIDUAL",
            "first_name": "Jana",
            "last_name": "Kolínská",
            "birth_date": dt.date(1980, 2, 2),
            "phone": "+420731000222",
        },
    ]
    crowd = synthetic_people_as("customer", 800)
    result = match_entity("customer", pl.concat([crowd, _frame("customer", rows)]))
    clusters = _clusters(result)
    assert len({clusters[f"TEST|o{i}"] for i in range(1, 5)}) == 1
    assert clusters["TEST|o5"] != clusters["TEST|o1"]
    assert clusters["TEST|i1"] == clusters["TEST|i2"]
    assert clusters["TEST|i1"] != clusters["TEST|i3"]
    assert (
        clusters["TEST|crowd0"] == clusters["TEST|crowd0b"] if "TEST|crowd0b" in clusters else True
    )
    assert result.metrics["candidate_pairs_by_rule"]["registration_no"] > 0


def _address(
    sid: str, street: str | None, number: str | None, city: str, postcode: str | None, **kw
) -> dict:
    row = {
        "source_id": sid,
        "owner_kind": "CUSTOMER",
        "owner_source_id": sid,
        "role_type": "SERVICE",
    }
    return row | {"street": street, "house_number": number, "city": city, "postcode": postcode} | kw


def test_addresses_merge_per_building() -> None:
    rows = [
        _address("a1", "Dlouhá", "1234/5", "Praha 1", "110 00"),
        _address("a2", "ul. Dlouhá", "1234", "Praha", "11000"),
        _address("a3", "Dlouhá ulice", "1234/5", "Praha 1", "110 00"),
        _address("a4", "Dlouha", "1234", "Praha", None),
        _address("b1", "nám. Míru", "15", "Brno", "602 00"),
        _address("b2", "náměstí Míru", "15", "Brno-střed", "602 00"),
        _address("c1", "Dlouhá", "1235", "Praha 1", "110 00"),  # next building
        _address("d1", None, "12", "Lhota", "250 01"),  # village without streets
        _address("d2", None, "12", "Lhota", "250 01"),
        _address("e1", None, None, "Praha", None, address_line="Dlouhá 1234/5, 110 00 Praha 1"),
    ]
    crowd = [
        _address(f"x{i}", f"Ulice{i % 40}", str(i), "Ostrava", f"70{i % 9}00") for i in range(300)
    ]
    result = match_entity("address", _frame("address", rows + crowd))
    clusters = _clusters(result)
    assert len({clusters[f"TEST|a{i}"] for i in range(1, 5)}) == 1
    assert clusters["TEST|b1"] == clusters["TEST|b2"]
    assert clusters["TEST|c1"] != clusters["TEST|a1"]
    assert clusters["TEST|d1"] == clusters["TEST|d2"]
    assert clusters["TEST|e1"] == clusters["TEST|a1"]
    assert len(set(clusters[f"TEST|x{i}"] for i in range(300))) == 300


def _lead(sid: str, first=None, last=None, org=None, email=None, phone=None, **kw) -> dict:
    row = {"source_id": sid, "source_system": "MARKETING", "first_name": first, "last_name": last}
    return row | {"organization_name": org, "email": email, "phone": phone, "status": "NEW"} | kw


def test_leads_deduplicate_among_themselves() -> None:
    rows = [
        _lead("l1", "Eva", "Horká", email="eva.horka@seznam.cz", postcode="120 00", city="Praha 2"),
        _lead("l2", "Eva", "Horka", phone="+420739123456", postcode="12000", city="Praha"),
        _lead("l3", "Eva", "Horká", email="eva.horka@seznam.cz", phone="+420739123456"),
        _lead("l4", "Adam", "Horký", email="adam.horky@seznam.cz", postcode="120 00"),
        _lead("l5", org="Pekárna U Mlýna s.r.o.", email="info@pekarna.cz"),
        _lead("l6", org="Pekárna u mlýna, spol. s r.o.", email="info@pekarna.cz"),
    ]
    companies = [
        _lead(r["source_id"], org=r["organization_name"], email=r["email"])
        for r in _crowd_companies(300)
    ]
    crowd = synthetic_people_as("lead", 800)
    result = match_entity("lead", pl.concat([crowd, _frame("lead", rows + companies)]))
    clusters = _clusters(result)
    assert clusters["MARKETING|l1"] == clusters["MARKETING|l3"]
    assert clusters["MARKETING|l2"] == clusters["MARKETING|l3"]
    assert clusters["MARKETING|l4"] != clusters["MARKETING|l1"]
    assert clusters["MARKETING|l5"] == clusters["MARKETING|l6"]


def test_lead_to_customer_by_email_and_through_persons() -> None:
    customers = _frame(
        "customer",
        [
            {
                "source_system": "BSS",
                "source_id": "C1",
                "party_type": "INDIVIDUAL",
                "first_name": "Eva",
                "last_name": "Horká",
                "email": "eva.horka@seznam.cz",
            },
            {
                "source_system": "BSS",
                "source_id": "C2",
                "party_type": "ORGANIZATION",
                "organization_name": "Pekárna U Mlýna s.r.o.",
            },
            {
                "source_system": "BSS",
                "source_id": "C3",
                "party_type": "INDIVIDUAL",
                "first_name": "Eva",
                "last_name": "Dvořáková",
                "email": "eva.d@email.cz",
            },
        ],
    )
    persons = _frame(
        "person",
        [
            {
                "source_system": "BSS",
                "source_id": "P1",
                "customer_source_id": "C2",
                "role_type": "BILLING_CONTACT",
                "first_name": "Ivo",
                "last_name": "Mlynář",
                "email": "ucetni@pekarna.cz",
            },
        ],
    )
    leads = _frame(
        "lead",
        [
            _lead("l1", "Eva", "Horká", email="eva.horka@seznam.cz"),
            _lead("l2", org="Pekárna u Mlýna", email="ucetni@pekarna.cz"),
            _lead("l3", "Petr", "Novotný", email="eva.d@email.cz"),  # shared address, other human
            _lead("l4", "Karel", "Nikdo", email="karel@nikde.cz"),
        ],
    )
    links = match_leads_to_customers(leads, customers, persons)
    found = dict(zip(links["lead_record_key"], links["customer_record_key"], strict=True))
    assert found == {"MARKETING|l1": "BSS|C1", "MARKETING|l2": "BSS|C2"}
    assert links.columns == ["lead_record_key", "customer_record_key", "score", "reason"]
    reason = links.filter(pl.col("lead_record_key") == "MARKETING|l1")["reason"][0]
    assert "same e-mail" in reason


def test_a_private_prospect_is_no_lead_of_the_company_he_is_a_contact_of() -> None:
    """Věra Novotná is the billing contact of a company and, privately, a customer of her
    own (her surname misspelt there). Her private lead is hers, not the company's."""
    customers = _frame(
        "customer",
        [
            {"source_system": "BSS", "source_id": "C1", "party_type": "ORGANIZATION"}
            | {"organization_name": "Šťastný Reality s.r.o.", "email": "info@stastny.cz"},
            {"source_system": "BSS", "source_id": "C2", "party_type": "INDIVIDUAL"}
            | {"first_name": "Vera", "last_name": "Nvootna", "email": "vera.novotna89@centrum.cz"},
        ],
    )
    persons = _frame(
        "person",
        [
            {"source_system": "BSS", "source_id": "P1", "customer_source_id": "C1"}
            | {"role_type": "BILLING_CONTACT", "first_name": "Věra", "last_name": "Novotná"}
            | {"email": "vera.novotna89@centrum.cz"},
        ],
    )
    leads = _frame(
        "lead",
        [
            _lead("private", "Věra", "Novotná", email="vera.novotna89@centrum.cz"),
            _lead("business", org="Šťastný Reality", email="vera.novotna89@centrum.cz"),
        ],
    )
    links = match_leads_to_customers(leads, customers, persons)
    found = dict(zip(links["lead_record_key"], links["customer_record_key"], strict=True))
    assert found == {"MARKETING|private": "BSS|C2", "MARKETING|business": "BSS|C1"}
    reason = links.filter(pl.col("lead_record_key") == "MARKETING|private")["reason"][0]
    assert reason == "same e-mail; surname misspelt"


def test_a_lead_meets_its_customer_whose_holder_row_has_the_names_swapped() -> None:
    """The e-shop sent Kristýna Křížová's holder row surname first; her lead (same mailbox)
    is hers -- while a lead of another woman at that mailbox is not."""
    customers = _frame(
        "customer",
        [
            {"source_system": "ESHOP", "source_id": "C1", "party_type": "INDIVIDUAL"}
            | {"first_name": "Křížová", "last_name": "Kristýna", "email": "kk49@seznam.cz"},
        ],
    )
    leads = _frame(
        "lead",
        [
            _lead("her", "Kristýna", "Křížová", email="kk49@seznam.cz"),
            _lead("other", "Lenka", "Kovářová", email="kk49@seznam.cz"),
        ],
    )
    links = match_leads_to_customers(leads, customers)
    found = dict(zip(links["lead_record_key"], links["reason"], strict=True))
    assert found == {"MARKETING|her": "same e-mail; similar name"}


def test_a_postcode_keyed_one_digit_off_names_the_same_building_unless_the_district_differs():
    """Sokolská 3108/71 at 140 09 and at 140 00 in Praha 4 is one building keyed twice; the
    same street and number in Praha 4 and in Praha 10 (both read "Praha") are two, and so
    is a postcode two digits off, and another door of the building (3108/73: RÚIAN's
    address points are the building number with the door's number)."""
    rows = [
        _address("p1", "Sokolská", "3108/71", "Praha 4", "140 00"),
        _address("p2", "Sokolská", "3108/71", "Praha 4", "140 09"),
        _address("p3", "Sokolská", "3108/71", "Praha 4", "140 00"),
        _address("q1", "Květná", "333/19", "Praha 3", "130 00"),
        _address("q2", "Květná", "333/19", "Praha 8", "180 00"),
        _address("r1", "Palackého", "1972", "Česká Lípa", "470 01"),
        _address("r2", "Palackého", "1972", "Česká Lípa", "460 99"),
        _address("s1", "Sokolská", "3108/73", "Praha 4", "140 00"),
    ]
    crowd = [
        _address(f"x{i}", f"Ulice{i % 40}", str(i), "Ostrava", f"70{i % 9}00") for i in range(300)
    ]
    clusters = _clusters(match_entity("address", _frame("address", rows + crowd)))
    assert clusters["TEST|p1"] == clusters["TEST|p2"] == clusters["TEST|p3"]
    assert clusters["TEST|q1"] != clusters["TEST|q2"]
    assert clusters["TEST|r1"] != clusters["TEST|r2"]
    assert clusters["TEST|s1"] != clusters["TEST|p1"]
