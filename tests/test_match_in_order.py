"""Matching in order: customers compare golden addresses, leads the golden customers they
were linked to -- what the master already knows is evidence for the next entity."""

from __future__ import annotations

import datetime as dt

import polars as pl
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity, match_leads_to_customers
from crm_pipelines.match.leads import customer_of_leads
from crm_pipelines.staged import conform


def _frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.lit("CZ").alias("country"))
    frame = frame.with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key")
    )
    return conform(entity, frame)


def _customer(sid: str, first: str, last: str, **contacts: str) -> dict:
    row = {"source_system": "BSS", "source_id": sid, "party_type": "INDIVIDUAL"}
    return row | {"first_name": first, "last_name": last, "status": "ACTIVE"} | contacts


def _lead(sid: str, first: str, last: str, city: str, **contacts: str) -> dict:
    row = {"source_system": "MARKETING", "source_id": sid, "first_name": first}
    return row | {"last_name": last, "city": city, "status": "NEW"} | contacts


CUSTOMERS = [
    # one customer known by two mailboxes and a number (billing and e-shop records)
    _customer("C1", "Eva", "Horká", email="eva.horka@seznam.cz", phone="+420739123456"),
    _customer("C1-ESHOP", "Eva", "Horká", email="horka.eva@gmail.com", phone="+420739123456"),
    # her namesake in the same town, another customer
    _customer("C2", "Eva", "Horká", email="evicka.h@email.cz", phone="+420602555111"),
]
LEADS = [
    # the same woman asking twice, from mailboxes the two leads do not share
    _lead("l1", "Eva", "Horká", "Praha", email="eva.horka@seznam.cz"),
    _lead("l2", "Eva", "Horká", "Praha", email="horka.eva@gmail.com"),
    # her namesake, same town, reached through the other customer
    _lead("l3", "Eva", "Horká", "Praha", email="evicka.h@email.cz"),
    # a prospect nobody knows: the same name and town is not enough to join anyone
    _lead("l4", "Eva", "Horká", "Praha", email="e.horka@post.cz"),
]


def _lead_clusters(with_customers: bool) -> dict[str, str]:
    customers = pl.concat([synthetic_people_as("customer", 600), _frame("customer", CUSTOMERS)])
    leads = pl.concat([synthetic_people_as("lead", 600), _frame("lead", LEADS)])
    customer_clusters = match_entity("customer", customers).clusters
    links = match_leads_to_customers(leads, customers)
    customer_of = customer_of_leads(links, customer_clusters) if with_customers else None
    result = match_entity("lead", leads, customer_of=customer_of)
    return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))


def test_two_leads_of_one_customer_are_one_prospect_without_a_shared_contact() -> None:
    clusters = _lead_clusters(with_customers=True)
    assert clusters["MARKETING|l1"] == clusters["MARKETING|l2"]


def test_namesake_leads_of_different_customers_and_unknown_prospects_stay_apart() -> None:
    clusters = _lead_clusters(with_customers=True)
    assert clusters["MARKETING|l3"] != clusters["MARKETING|l1"]
    assert clusters["MARKETING|l4"] != clusters["MARKETING|l1"]
    assert clusters["MARKETING|l4"] != clusters["MARKETING|l3"]


def test_without_the_customer_links_the_two_mailboxes_are_two_prospects() -> None:
    """The link is what joins them: name and town alone are a steward's call."""
    clusters = _lead_clusters(with_customers=False)
    assert clusters["MARKETING|l1"] != clusters["MARKETING|l2"]


def test_customer_of_leads_follows_the_golden_customer_of_the_best_link() -> None:
    links = pl.DataFrame(
        {
            "lead_record_key": ["L|1", "L|1", "L|2"],
            "customer_record_key": ["C|a", "C|b", "C|c"],
            "score": [0.95, 0.99, 0.97],
            "reason": ["", "", ""],
        }
    )
    clusters = pl.DataFrame(
        {"record_key": ["C|a", "C|b", "C|c"], "cluster_id": ["C|a", "C|b", "C|b"]}
    )
    found = dict(customer_of_leads(links, clusters).iter_rows())
    assert found == {"L|1": "C|b", "L|2": "C|b"}


def _home(owner: str, street: str, number: str) -> dict:
    row = {"source_system": "BSS", "source_id": f"a-{owner}", "owner_kind": "CUSTOMER"}
    row |= {"owner_source_id": owner, "role_type": "SERVICE", "street": street}
    return row | {"house_number": number, "city": "Poprad", "postcode": "058 01"}


def _address_crowd(n: int) -> list[dict]:
    """Buildings in another town, every third one again from a record with a typo, and as
    in any town, the same number on another street at the same postcode (neighbours EM
    learns a non-match from: with matches alone it has no second class to fit)."""
    streets = ["Hlavná", "Mlynská", "Štúrova", "Hviezdoslavova", "Komenského"]
    rows = []
    for i in range(n):
        street = streets[i % 5]
        row = _home(f"x{i}", street, str(i)) | {"city": "Košice", "postcode": f"04{i % 9}01"}
        rows.append(row)
        if i % 3 == 0:
            rows.append(row | {"source_id": f"a-y{i}", "street": street[:2] + street[3:]})
        if i % 3 == 1:
            rows.append(row | {"source_id": f"a-z{i}", "street": streets[(i + 2) % 5]})
    return rows


def test_a_misspelt_street_is_still_the_building_a_namesake_lives_in() -> None:
    """Father (1944) and son (1975) of one name; the son's record spells the street
    "Jeenskeho" (its first letters wrong, so no spelt-out key names the building). A bare
    record with the name at Jesenského 3127/43 fits both men: as raw building keys only the
    father shared it and took it; as golden addresses the son lives there too, so it goes
    to a steward."""
    family = [
        _customer("dad", "Jozef", "Polák", phone="+421904424491")
        | {"birth_date": dt.date(1944, 9, 10)},
        _customer("son", "Jozef", "Polák", phone="+421916451668")
        | {"birth_date": dt.date(1975, 1, 27)},
        _customer("bare", "Jozef", "Polák"),
    ]
    homes = [
        _home("dad", "Jesenského", "3127"),
        _home("son", "Jeenskeho", "3127/43"),
        _home("bare", "Jesenského", "3127/43"),
    ]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", family)])
    addresses = _frame("address", homes + _address_crowd(300))
    golden = match_entity("address", addresses).clusters
    building = dict(zip(golden["record_key"], golden["cluster_id"], strict=True))
    assert building["BSS|a-son"] == building["BSS|a-bare"] == building["BSS|a-dad"]

    def clusters(address_clusters: pl.DataFrame | None) -> dict[str, str]:
        result = match_entity(
            "customer", customers, addresses=addresses, address_clusters=address_clusters
        )
        return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))

    by_spelling = clusters(None)
    assert by_spelling["BSS|bare"] == by_spelling["BSS|dad"]  # the merge this prevents
    by_building = clusters(golden)
    assert len({by_building[f"BSS|{k}"] for k in ("dad", "son", "bare")}) == 3


def test_a_bare_customer_row_takes_its_holders_birth_date_and_contacts() -> None:
    """The son's customer row says only "Jan Marek" at the family's building; his holder
    row in the person feed (role OWNER) has his birth date and mailbox. Without it the
    bare row joins the father's record; with it the birth dates keep them apart."""
    family = [
        _customer("dad", "Jan", "Marek", email="jan.marek.8@gmail.com", phone="+421904000111")
        | {"birth_date": dt.date(1953, 8, 21)},
        _customer("son", "Jan", "Marek"),
    ]
    homes = [_home("dad", "Jiráskova", "2710/32"), _home("son", "Jiráskova", "2710/32")]
    holder = {
        "source_system": "BSS",
        "source_id": "P-son",
        "customer_source_id": "son",
        "role_type": "OWNER",
        "first_name": "Jan",
        "last_name": "Marek",
        "birth_date": dt.date(1986, 12, 11),
        "email": "jan.marek.6@gmail.com",
    }
    persons = _frame("person", [holder]).with_columns(pl.lit("person_feed").alias("origin"))
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", family)])
    addresses = _frame("address", homes)

    def clusters(with_persons: bool) -> dict[str, str]:
        result = match_entity(
            "customer", customers, addresses=addresses, persons=persons if with_persons else None
        )
        return dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))

    assert clusters(with_persons=False)["BSS|son"] == clusters(with_persons=False)["BSS|dad"]
    assert clusters(with_persons=True)["BSS|son"] != clusters(with_persons=True)["BSS|dad"]


def test_addresses_without_a_house_number_name_no_building() -> None:
    """Two namesakes whose addresses say only "Hlavná, Poprad": address matching may put
    such rows together, but a street without a number is no shared building."""
    rows = [_customer("n1", "Ján", "Kováč"), _customer("n2", "Ján", "Kováč")]
    homes = [_home("n1", "Hlavná", None), _home("n2", "Hlavná", None)]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rows)])
    addresses = _frame("address", homes + _address_crowd(300))
    golden = match_entity("address", addresses).clusters
    result = match_entity("customer", customers, addresses=addresses, address_clusters=golden)
    pair = result.pairs.filter(
        pl.col("left_record_key").is_in(["BSS|n1", "BSS|n2"])
        & pl.col("right_record_key").is_in(["BSS|n1", "BSS|n2"])
    )
    assert pair["level_address"].to_list() in ([], [0])
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["BSS|n1"] != clusters["BSS|n2"]


def test_father_and_son_customers_marked_st_and_ml_stay_apart() -> None:
    """Ladislav Hruška st. and ml.: one family landline, one building -- and the markers
    the customer rows carry, as person rows do, say father and son."""
    family = [
        _customer("dad", "Ladislav", "Hruška", phone="+420321765432") | {"generation": "SENIOR"},
        _customer("son", "Ladislav", "Hruška", phone="+420321765432") | {"generation": "JUNIOR"},
    ]
    homes = [_home("dad", "Jesenského", "3127"), _home("son", "Jesenského", "3127")]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", family)])
    result = match_entity("customer", customers, addresses=_frame("address", homes))
    cluster = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert cluster["BSS|dad"] != cluster["BSS|son"]


def test_a_customers_old_number_does_not_split_it_from_its_newer_records() -> None:
    """Eva Horká's billing record keeps her old number and her birth date; the e-shop
    record has her new number and her mailbox; the portal's has the mailbox and the birth
    date. The two numbers stop the billing-e-shop pair's own edge, but the portal record
    joins all three: a customer's numbers change, and older systems keep the old ones."""
    born = dt.date(1971, 3, 14)
    eva = [
        _customer("bss", "Eva", "Horká", phone="+420603111222") | {"birth_date": born},
        _customer("eshop", "Eva", "Horká", phone="+420777333444", email="eva.horka@seznam.cz")
        | {"source_system": "ESHOP"},
        _customer("portal", "Eva", "Horká", email="eva.horka@seznam.cz")
        | {"source_system": "PARTNER_PORTAL", "birth_date": born},
    ]
    systems = {"bss": "BSS", "eshop": "ESHOP", "portal": "PARTNER_PORTAL"}
    homes = [_home(o, "Palackého", "12") | {"source_system": s} for o, s in systems.items()]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", eva)])
    result = match_entity(
        "customer", customers, addresses=_frame("address", homes), settings={"pairs_min_score": 0}
    )
    cluster = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert cluster["BSS|bss"] == cluster["ESHOP|eshop"] == cluster["PARTNER_PORTAL|portal"]
    own_edge = result.pairs.filter(
        pl.col("left_record_key").is_in(["BSS|bss", "ESHOP|eshop"])
        & pl.col("right_record_key").is_in(["BSS|bss", "ESHOP|eshop"])
    )
    assert own_edge["decision"].to_list() == ["NO_MATCH"]
    evas = ["BSS|bss", "ESHOP|eshop", "PARTNER_PORTAL|portal"]
    assert result.review.filter(pl.col("left_record_key").is_in(evas)).height == 0


def test_twin_customers_at_one_building_stay_two_whatever_their_contacts() -> None:
    """Zuzana and Alena Urbanová, born the same day, one flat: her number on one contract,
    her sister's mailbox on the other, nothing comparable between them. A customer row is a
    contract partner a clerk identified: a whole other first name is another person."""
    born = {"birth_date": dt.date(1978, 4, 9)}
    twins = [
        _customer("zuzana", "Zuzana", "Urbanová", phone="+420776892191") | born,
        _customer("alena", "Alena", "Urbanová", email="urbanova.alena@centrum.cz") | born,
        _customer("alena2", "Alena", "Urbanova", email="urbanova.alena@centrum.cz") | born,
    ]
    homes = [_home(k, "Hlavná", "12/3") for k in ("zuzana", "alena", "alena2")]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", twins)])
    addresses = _frame("address", homes + _address_crowd(300))
    result = match_entity("customer", customers, addresses=addresses)
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["BSS|alena"] == clusters["BSS|alena2"]
    assert clusters["BSS|zuzana"] != clusters["BSS|alena"]


def test_a_customer_sent_surname_first_meets_itself_at_its_building() -> None:
    """The partner portal sends "Kolářová Petra"; billing has Petra Kolářová at the same
    building, with a phone and no birth date: no name key survives the swap, the building
    and the name pair do."""
    rows = [
        _customer("billing", "Petra", "Kolářová", phone="+420777123456"),
        _customer("portal", "Kolářová", "Petra"),
    ]
    homes = [_home(k, "Hlavná", "7/2") for k in ("billing", "portal")]
    customers = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rows)])
    addresses = _frame("address", homes + _address_crowd(300))
    result = match_entity("customer", customers, addresses=addresses)
    assert result.metrics["candidate_pairs_by_rule"]["name_pair_address"] >= 1
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["BSS|billing"] == clusters["BSS|portal"]
