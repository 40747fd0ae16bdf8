"""An individual customer's holder row fills gaps in the customer row, nothing more."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from crm_pipelines.match.holders import holder_details, with_holder_details
from crm_pipelines.staged import read_without

CUSTOMERS = pl.DataFrame(
    {
        "source_system": ["BSS", "BSS", "BSS", "ESHOP"],
        "source_id": ["c1", "c2", "org", "c1"],
        "party_type": ["INDIVIDUAL", "INDIVIDUAL", "ORGANIZATION", "INDIVIDUAL"],
        "birth_date": [None, dt.date(1970, 1, 1), None, None],
        "email": [None, "stated@x.cz", None, None],
        "phone": [None, None, None, None],
    },
    schema_overrides={"birth_date": pl.Date, "phone": pl.String},
)
PERSONS = pl.DataFrame(
    {
        "source_system": ["BSS", "BSS", "BSS", "BSS", "BSS"],
        "source_id": ["p1", "p2", "p3", "p4", "customer:c1"],
        "customer_source_id": ["c1", "c2", "org", "c1", "c1"],
        "role_type": ["OWNER", "OWNER", "OWNER", "BILLING_CONTACT", "OWNER"],
        "origin": ["person_feed"] * 4 + ["customer_holder"],
        "birth_date": [dt.date(1986, 12, 11), dt.date(1999, 9, 9), dt.date(1960, 6, 6), None, None],
        "email": ["holder@x.cz", "other@x.cz", "boss@firma.cz", "billing@x.cz", None],
        "phone": ["+420777000111", "+420777000222", None, "+420777000333", None],
    }
)


def _rows(frame: pl.DataFrame) -> dict[tuple[str, str], dict]:
    return {(r["source_system"], r["source_id"]): r for r in frame.iter_rows(named=True)}


def test_the_holder_fills_what_the_customer_row_lacks() -> None:
    out = _rows(with_holder_details(CUSTOMERS, holder_details(PERSONS)))
    assert out[("BSS", "c1")]["birth_date"] == dt.date(1986, 12, 11)
    assert out[("BSS", "c1")]["email"] == "holder@x.cz"
    assert out[("BSS", "c1")]["phone"] == "+420777000111"  # not the billing contact's


def test_stated_values_organisations_and_other_systems_are_left_alone() -> None:
    out = _rows(with_holder_details(CUSTOMERS, holder_details(PERSONS)))
    assert out[("BSS", "c2")]["birth_date"] == dt.date(1970, 1, 1)  # stated, not replaced
    assert out[("BSS", "c2")]["email"] == "stated@x.cz"
    assert out[("BSS", "c2")]["phone"] == "+420777000222"  # missing, so filled
    assert out[("BSS", "org")]["birth_date"] is None  # a company has no holder's birth date
    assert out[("ESHOP", "c1")]["email"] is None  # c1 of another system is another record


def test_holder_details_read_from_the_staged_file(tmp_path: Path) -> None:
    path = tmp_path / "person.parquet"
    PERSONS.write_parquet(path)
    assert holder_details(path).sort("source_id").equals(holder_details(PERSONS).sort("source_id"))


def test_read_without_leaves_columns_unread(tmp_path: Path) -> None:
    path = tmp_path / "customer.parquet"
    CUSTOMERS.write_parquet(path)
    assert read_without(path, ["email", "not_there"]).columns == [
        "source_system",
        "source_id",
        "party_type",
        "birth_date",
        "phone",
    ]
