"""Leads compare the golden customer each was linked to: the master knows all its contacts."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match import match_entity, match_leads_to_customers
from crm_pipelines.match.leads import customer_of_leads
from crm_pipelines.match.synthetic import synthetic_people_as
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
