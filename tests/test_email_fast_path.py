"""The plain-address shortcut (validate/contacts.py) must say exactly what email-validator says.

Staging and the campaign guard skip email-validator for addresses of a plain shape; these
tests hold the shortcut to the library: every address it calls valid, email-validator
accepts unchanged, and check_email gives every address the result of the per-value check.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipelines.marketing.validity import is_valid_email, validate_distinct
from crm_pipelines.validate.contacts import _email, check_email, plainly_valid_email

EDGE_CASES = [
    "jan.novak@seznam.cz",
    "jan_novak-1@mail.example.com",
    "a@b.cz",
    "jan..novak@seznam.cz",
    ".jan@seznam.cz",
    "jan.@seznam.cz",
    "jan@-seznam.cz",
    "jan@seznam-.cz",
    "jan@sez--nam.cz",
    "jan@xn--sznam-bsa.cz",
    "jan@ab--cd.cz",
    "jan@seznam.c",
    "jan@seznam.123",
    "jan@seznam",
    "jan@localhost",
    "jan@printer.local",
    "jan@host.invalid",
    "jan@x.test",
    "jan@onion.onion",
    "jan@1.0.0.127.in-addr.arpa",
    "jan@seznam.cz.",
    "jan@@seznam.cz",
    "=1+2@seznam.cz",
    "-jan@seznam.cz",
    "jan+tag@seznam.cz",
    "jiří@seznam.cz",
    "jan@séznam.cz",
    "x" * 64 + "@seznam.cz",
    "x" * 65 + "@seznam.cz",
    "jan@" + "a" * 63 + ".cz",
    "jan@" + "a" * 64 + ".cz",
    "jan@" + ".".join(["a" * 60] * 4) + ".cz",
    "jan@" + ".".join(["a" * 61] * 4) + ".cz",
    "jan novak@seznam.cz",
    "1234@5678.cz",
]


def _agrees(address: str) -> bool:
    plain = pl.select(plainly_valid_email(pl.lit(address))).item()
    return not plain or (_email(address) == (address, True) and is_valid_email(address))


def test_every_plain_address_is_one_email_validator_accepts_unchanged() -> None:
    assert all(_agrees(address) for address in EDGE_CASES)
    flagged = pl.select(plainly_valid_email(pl.lit(pl.Series(EDGE_CASES)))).to_series()
    assert flagged.sum() >= 5  # the shortcut is taken, not refused everywhere


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab0-._@xn", min_size=3, max_size=24).map(lambda s: s + ".cz"))
def test_the_shortcut_never_accepts_what_email_validator_would_not(address: str) -> None:
    assert _agrees(address)


def test_check_email_gives_every_address_the_per_value_result() -> None:
    raw = [*EDGE_CASES, "  Jan.Novak@Seznam.CZ ", None, ""]
    checked = check_email(pl.Series(raw, dtype=pl.String))
    for value, row in zip(raw, checked.iter_rows(named=True), strict=True):
        text = (value or "").strip().lower()
        expected = _email(text) if text else (None, None)
        assert (row["email"], row["valid"]) == expected, value


def test_the_campaign_guard_validates_every_address_as_email_validator_does() -> None:
    result = validate_distinct(pl.Series(EDGE_CASES + ["Jan@Seznam.cz"]), "email")
    for value, valid in result.iter_rows():
        assert valid == is_valid_email(value), value
