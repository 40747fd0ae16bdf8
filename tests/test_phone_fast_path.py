"""The CZ / SK phone shortcut (validate/phone_fast_path.py) must say exactly what phonenumbers says.

Staging and the campaign guard type `+420` / `+421` and nine digits (and nine digits alone in
a CZ or SK row) by vectorised patterns instead of a phonenumbers call per value; these tests
hold the shortcut to the library over every three-digit prefix, both calling codes, bare
numbers in every region, and odd shapes next to them.
"""

from __future__ import annotations

import random

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipelines.marketing.validity import is_e164_mobile, validate_distinct
from crm_pipelines.validate.contacts import _phone, check_phone
from crm_pipelines.validate.phone_fast_path import fast_phone

REGIONS = ["CZ", "SK", "DE", "AT", "PL"]


def _nationals() -> list[str]:
    """Every three-digit prefix (000-999) with random tails, and numbers that start with
    a calling code (420 / 421) or repeat digits."""
    rng = random.Random(20261207)
    nationals = [f"{p:03d}{rng.randrange(10**6):06d}" for p in range(1000) for _ in range(3)]
    nationals += [f"42{d}{rng.randrange(10**6):06d}" for d in "01" for _ in range(20)]
    return nationals + [d * 9 for d in "0123456789"]


def _shapes(national: str) -> list[str]:
    return [
        f"+420{national}",
        f"+421{national}",
        national,
        f"0{national}",  # a national prefix: not a fast-path shape
        f"+420{national}1",
        f"+421{national[:-1]}",
        f"+422{national}",
        f"+4200{national[1:]}",
    ]


def _disagreements(dialled: list[str], regions: list[str]) -> list[tuple]:
    fast = fast_phone(pl.Series(dialled, dtype=pl.String), pl.Series(regions, dtype=pl.String))
    wrong = []
    for text, region, row in zip(dialled, regions, fast.iter_rows(named=True), strict=True):
        if row["known"]:
            answer = (row["phone"], row["valid"], row["is_mobile"])
            if answer != _phone(text, region):
                wrong.append((text, region, answer, _phone(text, region)))
    return wrong


def test_the_shortcut_types_every_prefix_as_phonenumbers_does() -> None:
    dialled, regions = [], []
    for national in _nationals():
        for shape in _shapes(national):
            for region in REGIONS:
                dialled.append(shape)
                regions.append(region)
    assert _disagreements(dialled, regions) == []


def test_the_shortcut_takes_the_well_formed_shapes_and_only_those() -> None:
    dialled = ["+420602123456", "+421905123456", "602123456", "602123456", "602123456"]
    dialled += ["0602123456", "+4206021234567", "+43660123456", "060212345", "+420 602123456"]
    regions = ["DE", "CZ", "CZ", "SK", "DE", "SK", "CZ", "AT", "CZ", "CZ"]
    fast = fast_phone(pl.Series(dialled), pl.Series(regions))
    assert fast["known"].to_list() == [True] * 4 + [False] * 6
    assert fast["phone"].to_list()[:4] == [
        "+420602123456",
        "+421905123456",
        "+420602123456",
        "+421602123456",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="+0123456789", min_size=6, max_size=14),
            st.sampled_from(REGIONS),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_the_shortcut_never_answers_otherwise_than_phonenumbers(pairs) -> None:
    dialled, regions = zip(*pairs, strict=True)
    assert _disagreements(list(dialled), list(regions)) == []


def test_check_phone_gives_every_value_the_per_value_result() -> None:
    raw = ["+420 602 123 456", "00421 905-123-456", "(602) 123 456", "602123456", "123456789"]
    raw += ["0902 123 456", "+420800123456", "+421 2 1234 5678", "  ", None, "+49 30 1234567"]
    regions = ["CZ", None, "cz", "SK", "CZ", "SK", "XX", "SK", "CZ", "CZ", "DE"]
    checked = check_phone(pl.Series(raw, dtype=pl.String), pl.Series(regions, dtype=pl.String))
    for value, region, row in zip(raw, regions, checked.iter_rows(named=True), strict=True):
        text = "".join(c for c in (value or "") if c not in " ().-/")
        text = "+" + text[2:] if text.startswith("00") else text
        known_region = (region or "").upper() if (region or "").upper() in REGIONS else "CZ"
        expected = _phone(text, known_region) if text else (None, None, None)
        assert (row["phone"], row["valid"], row["is_mobile"]) == expected, value


def test_the_campaign_guard_reads_e164_mobiles_as_phonenumbers_does() -> None:
    values = [f"+42{c}{n}" for n in _nationals()[::7] for c in "01"]
    values += ["+420 602123456", "602123456", "+4206021234567", "+43660123456"]
    verdicts = validate_distinct(pl.Series(values), "mobile")
    assert verdicts.height == len(set(values))
    for value, valid in verdicts.iter_rows():
        assert valid == is_e164_mobile(value), value
    assert verdicts["valid"].sum() > 20  # mobiles are found, not refused everywhere
