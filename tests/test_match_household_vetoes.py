"""Household vetoes need a comparable contact: without one, the model weighs the difference.

A whole first name or birth date that differs is another member of the household (twins,
father and son) once the records carry contacts -- their own numbers, or one shared landline
under two names. FEBRL's records carry none, and its duplicates rewrite whole first names:
there the data's own weights decide. Data nobody here wrote, run through the real engine.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import AS_OF

from crm_pipelines.match.decisions import level_codes, veto_expr
from crm_pipelines.match.evidence import match_in_order
from crm_pipelines.match.febrl import write_febrl_landing
from crm_pipelines.match.settings import MatchSettingsError, entity_settings, parse_veto
from crm_pipelines.validate.landing import stage_landing


def _person_result(staged: dict[str, pl.DataFrame]):
    return next(r for r in match_in_order(staged) if r.entity == "person")


def _cluster_of(result) -> dict[str, str]:
    clusters = result.clusters
    return dict(zip(clusters["record_key"], clusters["cluster_id"], strict=True))


@pytest.fixture(scope="module")
def febrl1(tmp_path_factory: pytest.TempPathFactory):
    landing = tmp_path_factory.mktemp("febrl1_household")
    write_febrl_landing("febrl1", landing)
    staged = dict(stage_landing(Path(landing), AS_OF).staged)
    return staged, _person_result(staged)


def _merged_pair_with_another_first_name(result) -> tuple[str, str]:
    different = level_codes("first_name", "different")[0]
    merged = result.pairs.filter(
        (pl.col("level_first_name") == different) & (pl.col("decision") == "MATCH")
    )
    assert merged.height > 0, "FEBRL1's rewritten first names should be weighed, not vetoed"
    row = merged.row(0, named=True)
    return row["left_record_key"], row["right_record_key"]


def test_a_rewritten_first_name_without_contacts_is_weighed_by_the_model(febrl1) -> None:
    _, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    clusters = _cluster_of(result)
    assert clusters[left] == clusters[right]
    assert left.split("-")[1] == right.split("-")[1]  # rec-12-org, rec-12-dup-0: one party


def test_the_same_two_records_with_their_own_phones_are_two_people(febrl1) -> None:
    staged, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    persons = staged["person"].with_columns(
        pl.when(pl.col("record_key") == left)
        .then(pl.lit("+420603111222"))
        .when(pl.col("record_key") == right)
        .then(pl.lit("+420603999888"))
        .otherwise(pl.col("phone"))
        .alias("phone")
    )
    again = _cluster_of(_person_result(staged | {"person": persons}))
    assert again[left] != again[right]


def test_the_same_two_records_sharing_one_landline_are_two_people(febrl1) -> None:
    staged, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    persons = staged["person"].with_columns(
        pl.when(pl.col("record_key").is_in([left, right]))
        .then(pl.lit("+420224111222"))
        .otherwise(pl.col("phone"))
        .alias("phone")
    )
    again = _cluster_of(_person_result(staged | {"person": persons}))
    assert again[left] != again[right]


def test_the_same_two_records_one_with_a_phone_the_other_a_mailbox_are_two_people(
    febrl1,
) -> None:
    """Each record comes from a system that holds contacts, and none of them agree: twins
    Zuzana (her number) and Alena (her mailbox), nothing comparable between them."""
    staged, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    persons = staged["person"].with_columns(
        pl.when(pl.col("record_key") == left)
        .then(pl.lit("+420603111222"))
        .otherwise(pl.col("phone"))
        .alias("phone"),
        pl.when(pl.col("record_key") == right)
        .then(pl.lit("alena.urbanova@centrum.cz"))
        .otherwise(pl.col("email"))
        .alias("email"),
    )
    again = _cluster_of(_person_result(staged | {"person": persons}))
    assert again[left] != again[right]


def _sharing(staged: dict, keys: list[str], email: str, phone: str, mobile: bool) -> dict:
    persons = staged["person"].with_columns(
        pl.when(pl.col("record_key").is_in(keys))
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
        for column, value in (("email", email), ("phone", phone), ("phone_is_mobile", mobile))
    )
    return staged | {"person": persons}


def test_the_same_two_records_sharing_a_mailbox_and_a_mobile_are_one_person(febrl1) -> None:
    """A mobile is one person's: the same mailbox and the same mobile number under another
    first name is a name keyed badly (Tondp for Antonín), not a second member of the house."""
    staged, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    shared = _sharing(staged, [left, right], "novakovi@seznam.cz", "+420603111222", True)
    again = _cluster_of(_person_result(shared))
    assert again[left] == again[right]


def test_the_same_two_records_sharing_a_mailbox_and_a_landline_are_two_people(febrl1) -> None:
    """A household shares the family mailbox and the flat's line: two first names there are
    two people."""
    staged, result = febrl1
    left, right = _merged_pair_with_another_first_name(result)
    shared = _sharing(staged, [left, right], "novakovi@seznam.cz", "+420224111222", False)
    again = _cluster_of(_person_result(shared))
    assert again[left] != again[right]


def test_a_veto_condition_may_name_several_levels() -> None:
    veto = [parse_veto({"when": {"first_name": "different", "phone": ["different", "same"]}}, "t")]
    first = level_codes("first_name", "different")[0]
    phone = {name: level_codes("phone", name)[0] for name in ("missing", "different", "same")}
    levels = pl.DataFrame(
        {
            "level_first_name": [first, first, first],
            "level_phone": [phone["missing"], phone["different"], phone["same"]],
        }
    )
    assert levels.select(veto_expr(veto)).to_series().to_list() == [False, True, True]


def test_a_misspelt_level_in_a_veto_is_an_error_at_load() -> None:
    with pytest.raises(MatchSettingsError, match="simillar"):
        entity_settings("person", {"vetoes": [{"when": {"phone": ["same", "simillar"]}}]})


def _level(field: str, left: dict, right: dict) -> str:
    from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for
    from crm_pipelines.match.standardize import FEATURES
    from crm_pipelines.staged import conform

    rows = [
        {"source_system": "T", "source_id": sid} | row for sid, row in (("a", left), ("b", right))
    ]
    frame = pl.DataFrame(rows).with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
        pl.lit("CZ").alias("country"),
        pl.lit("person_feed").alias("origin"),
        pl.lit("CONTACT").alias("role_type"),
    )
    features = FEATURES["person"](conform("person", frame))
    pair = pl.DataFrame({"l": [0], "r": [1]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    code = compare_pairs(encode_for(features, [field]), pair, [field])
    return COMPARISONS[field].levels[code[field][0]]


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("Jiří", "Jiřina", "gender_mismatch"),  # opposite-sex twins: one name, two forms
        ("Milan", "Milena", "gender_mismatch"),
        ("Antonín", "Antonie", "gender_mismatch"),
        ("Michal", "Michaela", "gender_mismatch"),
        ("Jan", "Jana", "gender_mismatch"),
        ("Luciie", "Lucie", "misspelt"),  # a misspelt name has no gender to clash
        ("Tomáš", "Tomš", "misspelt"),
        ("Dana", "Hana", "similar"),  # two real names a letter apart: twins bear such
        ("Marie", "Maria", "similar"),
        ("Honza", "Jan", "alike"),
        ("Pája", "Pavla", "alike"),  # a diminutive of both sexes' names
        ("Pája", "Pavel", "alike"),
        ("Karel", "Karla", "gender_mismatch"),  # a known man's name and its female form
        ("Sar", "Sara", "misspelt"),  # a name cut short is no man's name (FEBRL1)
        ("Kirr", "Kirra", "misspelt"),
        # two records, a typo in each: two edits apart on a name of five letters or more
        ("Filup", "Fiilip", "misspelt"),
        ("Perta", "Petrs", "misspelt"),
        ("Lubooš", "Luboš", "misspelt"),  # a typo in a nickname (Luboš reads as Lubomír)
        # ... but two real names two letters apart are two people
        ("Jarka", "Jiřka", "different"),
        ("Robert", "Robin", "different"),
        ("Petřík", "Patrik", "different"),
        ("Akeš", "Alwš", "different"),  # two edits in four letters: half the name
    ],
)
def test_close_first_names_of_known_different_genders_are_two_people(
    left: str, right: str, level: str
) -> None:
    surname = {"last_name": "Novák"}
    found = _level("first_name", surname | {"first_name": left}, surname | {"first_name": right})
    assert found == level


def test_one_woman_in_both_surname_forms_is_no_man_and_woman() -> None:
    """Kateřina Novák (a foreign system, or the form Czech law allows since 2022) and
    Kateřina Nováková are one woman; Jan Novák and Jana Nováková are two people."""
    katerina = {"first_name": "Kateřina", "last_name": "Nováková"}
    assert _level("last_name", katerina, katerina | {"last_name": "Novák"}) == "alike"
    jan = {"first_name": "Jan", "last_name": "Novák"}
    jana = {"first_name": "Jana", "last_name": "Nováková"}
    assert _level("last_name", jan, jana) == "gender_mismatch"


def test_an_unknown_veto_key_or_a_pair_only_chain_veto_is_an_error_at_load() -> None:
    with pytest.raises(MatchSettingsError, match="unknown veto keys"):
        parse_veto({"when": {"phone": "different"}, "acros_chains": True}, "t")
    with pytest.raises(MatchSettingsError, match="pair_only"):
        parse_veto({"when": {"phone": "different"}, "pair_only": True, "across_chains": True}, "t")
    assert parse_veto({"when": {"phone": "different"}, "pair_only": True}, "t").pair_only


def test_one_womans_other_surname_is_its_own_level_a_mans_is_different() -> None:
    """A Czech or Slovak woman takes her husband's surname; a man keeps his. The model
    weighs "Jana, another surname" apart from any other difference."""
    jana = {"first_name": "Jana", "last_name": "Nováková"}
    assert _level("last_name", jana, jana | {"last_name": "Dvořáková"}) == "maiden_or_married"
    jan = {"first_name": "Jan", "last_name": "Novák"}
    assert _level("last_name", jan, jan | {"last_name": "Dvořák"}) == "different"
    other_woman = {"first_name": "Eva", "last_name": "Dvořáková"}
    assert _level("last_name", jana, other_woman) == "different"


def test_a_fixed_line_against_a_mobile_at_one_building_is_no_phone_conflict() -> None:
    """The household's line in one system, a mobile in another: the phone veto of persons
    holds only between two phones of one kind (or of a kind nobody recorded)."""
    phone_vetoes = [
        v for v in entity_settings("person").vetoes if {"phone_kind", "home"} <= set(v.when)
    ]
    assert len(phone_vetoes) == 1
    fields = {*phone_vetoes[0].when, *phone_vetoes[0].unless}
    kinds = ["different", "same", "missing"]
    levels = pl.DataFrame(
        {
            f"level_{f}": [level_codes(f, "missing")[0]] * len(kinds)
            for f in fields
            if f not in ("phone", "phone_kind", "home")
        }
        | {
            "level_phone": [level_codes("phone", "different")[0]] * len(kinds),
            "level_home": [level_codes("home", "same_building")[0]] * len(kinds),
            "level_phone_kind": [level_codes("phone_kind", k)[0] for k in kinds],
        }
    )
    assert levels.select(veto_expr(phone_vetoes)).to_series().to_list() == [False, True, True]


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("jan.novak@seznam.cz", "jan.novakk@seznam.cz"),
        ("jan.novakk@seznam.cz", "jan.novak@seznam.cz"),
    ],
)
def test_an_email_typo_is_similar_whichever_record_holds_the_shorter_address(
    left: str, right: str
) -> None:
    """A typo adds or drops a letter on either record (the length gap was once computed
    unsigned, so a shorter left address was never scored)."""
    person = {"first_name": "Jan", "last_name": "Novák"}
    assert _level("email", person | {"email": left}, person | {"email": right}) == "similar"
