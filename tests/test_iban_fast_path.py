"""check_iban checks well-formed Czech and Slovak IBANs itself (vectorised mod 97); every
value must still get exactly what stdnum says about it."""

from __future__ import annotations

import random

import polars as pl
from stdnum import iban as stdnum_iban

from crm_pipelines.validate.identifiers import _iban, check_iban


def _ibans(count: int, seed: int) -> list[str]:
    """Valid CZ / SK IBANs and their corruptions: a digit changed, swapped, cut, lower-cased."""
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        country = rng.choice(["CZ", "SK"])
        bban = "".join(rng.choice("0123456789") for _ in range(20))
        valid = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        spot = rng.randrange(2, len(valid))
        changed = valid[:spot] + str((int(valid[spot]) + 1) % 10) + valid[spot + 1 :]
        swapped = valid[: spot - 1] + valid[spot] + valid[spot - 1] + valid[spot + 1 :]
        values += [valid, changed, swapped, valid[:-1], valid.lower(), valid[:4] + " " + valid[4:]]
    return values


def test_no_national_iban_module_checks_czech_or_slovak_ibans_beyond_mod_97() -> None:
    assert stdnum_iban._get_cc_module("CZ") is None
    assert stdnum_iban._get_cc_module("SK") is None


def test_check_iban_gives_every_value_what_stdnum_says() -> None:
    raw = [*_ibans(2000, seed=3), "DE89370400440532013000", "GB82WEST12345698765432", None, ""]
    checked = check_iban(pl.Series(raw, dtype=pl.String))
    assert checked["valid"].sum() > 2000  # the valid ones and the ones a space separates
    for value, row in zip(raw, checked.iter_rows(named=True), strict=True):
        text = (value or "").strip().replace(" ", "")
        expected = _iban(text) if text else (None, None)
        assert (row["iban"], row["valid"]) == expected, value
