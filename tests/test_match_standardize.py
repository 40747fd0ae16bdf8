"""Standardisation rules of the matching engine (declared in quality_rules/)."""

from __future__ import annotations

import polars as pl
import pytest

from crm_pipelines.match.standard_forms import (
    building_number,
    canonical_first_name,
    city_name,
    consonant_skeleton,
    fold,
    organization_name,
    street_name,
    surname_gender,
    with_surname_stem,
)


def _apply(expr_fn, values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")))[:, 0]
        .to_list()
    )


def test_fold_removes_case_diacritics_and_punctuation() -> None:
    assert _apply(fold, ["  Žluťoučký  KŮŇ ", "Łukasz-Müller", "", None]) == [
        "zlutoucky kun",
        "lukasz muller",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("nick", "name"),
    [
        ("Honza", "jan"),
        ("Pepa", "josef"),
        ("Jirka", "jiri"),
        ("Franta", "frantisek"),
        ("Standa", "stanislav"),
        ("Kuba", "jakub"),
        ("Vašek", "vaclav"),
        ("Tonda", "antonin"),
        ("Láďa", "ladislav"),
        ("Mirek", "miroslav"),
        ("Jarda", "jaroslav"),
        ("Péťa", "peta"),  # Petr or Petra: ambiguous, left for the comparison
        ("Zdenda", "zdenek"),
        ("Jan", "jan"),
    ],
)
def test_nicknames_map_to_the_formal_name(nick: str, name: str) -> None:
    assert _apply(lambda e: canonical_first_name(fold(e)), [nick]) == [name]


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("Jiřka", "jirina"),  # a woman's nickname (Jiřina)
        ("JIŘKA", "jirina"),
        ("Jirka", "jiri"),  # a man's (Jiří)
        ("JIRKA", "jiri"),  # diacritics lost: the plain form, as written, is the man's
        ("Jiřina", "jirina"),
    ],
)
def test_nicknames_one_fold_apart_are_told_apart_by_their_diacritics(
    written: str, name: str
) -> None:
    assert _apply(lambda e: canonical_first_name(fold(e), e), [written]) == [name]


def test_female_surnames_share_the_male_stem() -> None:
    names = ["Novák", "Nováková", "Novotný", "Novotná", "Marek", "Marková", "Svoboda", "Svobodová"]
    frame = pl.DataFrame({"ln": names}).with_columns(fold(pl.col("ln")).alias("f"))
    stems = with_surname_stem(frame, "f", "stem")["stem"].to_list()
    assert stems == ["novak", "novak", "novotn", "novotn", "mark", "mark", "svobod", "svobod"]
    genders = frame.select(surname_gender(pl.col("ln"), pl.col("f")))[:, 0].to_list()
    assert genders == ["M", "F", "M", "F", "M", "F", "U", "F"]


def test_building_number_is_the_part_before_the_slash() -> None:
    assert _apply(building_number, ["1234/5a", "1234", " 12a ", "č.p. 7", None]) == [
        "1234",
        "1234",
        "12a",
        "7",
        None,
    ]


def test_street_abbreviations_and_city_districts() -> None:
    assert _apply(street_name, ["ul. Dlouhá", "Dlouhá ulice", "nám. Míru", "tř. Svobody"]) == [
        "dlouha",
        "dlouha",
        "namesti miru",
        "trida svobody",
    ]
    assert _apply(city_name, ["Praha 1", "Praha 10 - Strašnice", "Brno-Židenice", "Ostrava"]) == [
        "praha",
        "praha",
        "brno",
        "ostrava",
    ]


def test_legal_form_suffixes_are_ignored_in_organisation_names() -> None:
    names = ["ACME s.r.o.", "ACME spol. s r.o.", "Acme, a.s.", "ACME v.o.s.", "Acme k.s.", "Acme"]
    assert set(_apply(organization_name, names)) == {"acme"}


def test_a_consonant_skeleton_survives_vowel_typos_doubled_letters_and_lost_diacritics() -> None:
    names = [
        "Hilton",
        "Hilotn",
        "Connor",
        "Conor",
        "Dvořák",
        "DVORAK",
        "Novák",
        "Nowak",
        "Ye",
        None,
    ]
    assert _apply(lambda name: consonant_skeleton(fold(name)), names) == [
        "hltn",
        "hltn",
        "cnr",
        "cnr",
        "dvrk",
        "dvrk",
        "nvk",
        "nwk",  # another consonant is another name
        None,  # one letter is no key
        None,
    ]
