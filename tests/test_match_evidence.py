"""Address evidence for customers, contact conflicts between namesakes, swapped lead names."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from factories.persons import synthetic_people_as

from crm_pipelines.match import match_entity
from crm_pipelines.match.comparisons import COMPARISONS
from crm_pipelines.match.decisions import level_codes
from crm_pipelines.match.scoring import train
from crm_pipelines.match.settings import entity_settings
from crm_pipelines.staged import conform


def _frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.lit("TEST").alias("source_system"), pl.lit("CZ").alias("country")
    )
    frame = frame.with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key")
    )
    return conform(entity, frame)


def _home(owner: str, street: str, number: str, kind: str = "CUSTOMER") -> dict:
    return {
        "source_id": f"a-{owner}",
        "owner_kind": kind,
        "owner_source_id": owner,
        "role_type": "SERVICE",
        "street": street,
        "house_number": number,
        "city": "Kolín",
        "postcode": "280 02",
    }


def _person(sid: str, first: str, last: str, **kw) -> dict:
    return {"source_id": sid, "party_type": "INDIVIDUAL", "first_name": first, "last_name": last}


CUSTOMERS = [
    # one woman: the birth date in one system, the contacts in the other, one home
    _person("eva1", "Eva", "Bartošová") | {"birth_date": dt.date(1965, 6, 13)},
    _person("eva2", "Eva", "Bartosova")
    | {"email": "eva.bartosova56@post.cz", "phone": "+420602401644"},
    # father and son of one name at one home: the son's phone differs
    _person("dad", "Josef", "Svoboda")
    | {"birth_date": dt.date(1950, 1, 5), "phone": "+420608431100"},
    _person("son", "Josef", "Svoboda") | {"phone": "+420728352880"},
    # ... and another pair whose name-based mailboxes differ only by their number
    _person("dad2", "Jan", "Novotný")
    | {"birth_date": dt.date(1952, 3, 8), "email": "jan.novotny.4@gmail.com"},
    _person("son2", "Jan", "Novotný") | {"email": "jan.novotny.3@centrum.cz"},
]
ADDRESSES = [
    _home("eva1", "Palackého", "12"),
    _home("eva2", "Palackého", "12/3"),
    _home("dad", "Husova", "7"),
    _home("son", "Husova", "7"),
    _home("dad2", "Nová", "1"),
    _home("son2", "Nová", "1"),
]


def _match_customers(addresses: pl.DataFrame | None):
    crowd = synthetic_people_as("customer", 800)
    records = pl.concat([crowd, _frame("customer", CUSTOMERS)])
    result = match_entity("customer", records, addresses=addresses)
    return result, dict(
        zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True)
    )


def test_a_shared_building_links_a_name_split_across_systems() -> None:
    result, clusters = _match_customers(_frame("address", ADDRESSES))
    assert clusters["TEST|eva1"] == clusters["TEST|eva2"]
    assert result.metrics["candidate_pairs_by_rule"]["surname_address"] > 0
    pair = result.pairs.filter(
        (pl.col("left_record_key") == "TEST|eva1") | (pl.col("right_record_key") == "TEST|eva1")
    ).filter(
        pl.col("left_record_key").str.contains("eva2")
        | pl.col("right_record_key").str.contains("eva2")
    )
    assert pair["level_address"].to_list() == [2]  # same building (1234/5 ~ 1234)


def test_namesakes_at_one_building_stay_apart_when_a_contact_conflicts() -> None:
    _, clusters = _match_customers(_frame("address", ADDRESSES))
    assert clusters["TEST|dad"] != clusters["TEST|son"]
    assert clusters["TEST|dad2"] != clusters["TEST|son2"]


def test_without_addresses_the_address_comparison_is_missing() -> None:
    result, _ = _match_customers(None)
    assert set(result.pairs["level_address"].unique().to_list()) == {0}


def test_leads_with_first_and_last_name_swapped_meet_at_one_place() -> None:
    crowd = synthetic_people_as("lead", 600)
    rows = [
        {"source_id": "l1", "first_name": "Veronika", "last_name": "Tóthová", "email": "vt@x.sk"},
        {
            "source_id": "l2",
            "first_name": "Tóthová",
            "last_name": "Veronika",
            "phone": "+421911397607",
        },
    ]
    rows = [r | {"postcode": "811 01", "city": "Bratislava", "status": "NEW"} for r in rows]
    result = match_entity("lead", pl.concat([crowd, _frame("lead", rows)]))
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["TEST|l1"] == clusters["TEST|l2"]


def _u(*probs: float) -> np.ndarray:
    return np.array([0.0, *probs])


def test_em_does_not_take_common_namesakes_for_the_match_class() -> None:
    """Candidates dominated by namesakes (same name and town, other contacts): the match
    class is the few pairs that also share the contacts, not the name-agreement majority."""
    same_surname = COMPARISONS["last_name"].levels.index("same")
    same_name = COMPARISONS["first_name"].levels.index("same")
    namesakes = {"first_name": same_name, "last_name": same_surname, "email": 1, "phone": 1}
    namesakes |= {"city": 3}
    duplicates = {"first_name": same_name, "last_name": same_surname, "email": 3, "phone": 2}
    duplicates |= {"city": 3}
    strangers = {"first_name": 1, "last_name": same_surname, "email": 1, "phone": 1, "city": 1}
    levels = pl.DataFrame(
        [namesakes] * 900 + [duplicates] * 30 + [strangers] * 70,
        schema={f: pl.Int8 for f in namesakes},
    )
    u = {
        "first_name": _u(0.97, 0.001, 0.0025, 0.0025, 0.005, 0.02),
        "last_name": _u(0.975, 0.005, 0.005, 0.005, 0.005, 0.005),
        "email": _u(0.9999, 0.00005, 0.00005),
        "phone": _u(0.9999, 0.0001),
        "city": _u(0.9, 0.05, 0.05),
    }
    model = train(levels, u, 0.3, 40, 1e-5, non_match_start="candidates")
    assert model.match_share < 0.1
    assert model.fields["email"].weights[1] < -1.0
    assert model.fields["phone"].weights[1] < -1.0


def _pair(result, a: str, b: str) -> dict:
    keys = {f"TEST|{a}", f"TEST|{b}"}
    rows = result.pairs.filter(
        pl.col("left_record_key").is_in(keys) & pl.col("right_record_key").is_in(keys)
    )
    assert rows.height == 1, f"{a}-{b} was not a scored pair"
    return rows.row(0, named=True)


def test_twins_stay_apart_when_one_record_has_the_names_swapped() -> None:
    """Jan and Jana: one birth date, one home, other contacts. Read with the names swapped,
    Jan ~ Jana looks like a typo; a female form is another person."""
    twins = [
        _person("jan", "Procházka", "Jan")  # swapped at the source
        | {"birth_date": dt.date(1958, 9, 28), "phone": "+420702322844"},
        _person("jana", "Jana", "Procházková")
        | {"birth_date": dt.date(1958, 9, 28), "phone": "+420770320464"},
    ]
    homes = [_home("jan", "Lipová", "3"), _home("jana", "Lipová", "3")]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", twins)])
    result = match_entity("customer", records, addresses=_frame("address", homes))
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["TEST|jan"] != clusters["TEST|jana"]
    jan_jana = result.pairs.filter(
        pl.col("left_record_key").is_in(["TEST|jan", "TEST|jana"])
        & pl.col("right_record_key").is_in(["TEST|jan", "TEST|jana"])
    )
    assert jan_jana["decision"].to_list() in ([], ["NO_MATCH"])


def test_a_name_alone_is_never_an_automatic_match() -> None:
    """Two records sharing only a rare name (no birth date, contact, id or building in
    common) score high, but they go to a steward."""
    rare = [_person("r1", "Radovan", "Zvonař"), _person("r2", "Radovan", "Zvonař")]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rare)])
    result = match_entity("customer", records)
    pair = _pair(result, "r1", "r2")
    assert pair["decision"] == "REVIEW"
    assert result.metrics["uncorroborated"] >= 1
    reason = result.review.filter(pl.col("left_source_id").is_in(["r1", "r2"]))["reason"][0]
    assert reason.startswith("only the name agrees")


def test_a_birth_date_years_apart_is_no_agreement_beside_a_rare_name() -> None:
    """Two Radovan Zvonař born four years apart, nothing else in common: namesakes, or one
    man with a date keyed wrong. A date within a generation is weighed by the model, but it
    corroborates nothing: only the name agrees, so the pair is no automatic merge -- a
    steward's question when its score alone would have merged it, else not even that."""
    rare = [
        _person("r1", "Radovan", "Zvonař") | {"birth_date": dt.date(1961, 3, 2)},
        _person("r2", "Radovan", "Zvonař") | {"birth_date": dt.date(1965, 11, 20)},
    ]
    records = pl.concat([synthetic_people_as("person", 800), _frame("person", rare)])
    result = match_entity("person", records, settings={"pairs_min_score": 0.0})
    pair = _pair(result, "r1", "r2")
    assert pair["level_birth_date"] == level_codes("birth_date", "near")[0]
    queued = result.review.filter(pl.col("left_source_id").is_in(["r1", "r2"]))
    if pair["score"] >= entity_settings("person").thresholds.upper:
        assert pair["decision"] == "REVIEW"
        assert queued["reason"].str.starts_with("only the name agrees").all()
    else:
        assert pair["decision"] == "NO_MATCH"
        assert queued.height == 0


def test_a_bare_namesake_record_is_not_given_to_father_or_son() -> None:
    """Father (1950) and son (1979) of one name at one home are kept apart by their birth
    dates; a third record with that name, the home and an unrelated phone could be either
    of them: review, not a merge into whichever scored higher."""
    family = [
        _person("dad", "Karel", "Kopecký")
        | {"birth_date": dt.date(1950, 5, 21), "phone": "+420733265373"},
        _person("son", "Karel", "Kopecký")
        | {"birth_date": dt.date(1979, 10, 22), "email": "karel.kopecky72@post.cz"},
        _person("bare", "Karel", "Kopecký") | {"phone": "+420730808656"},
    ]
    homes = [_home(k, "Zahradní", "9") for k in ("dad", "son", "bare")]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", family)])
    result = match_entity("customer", records, addresses=_frame("address", homes))
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert len({clusters[f"TEST|{k}"] for k in ("dad", "son", "bare")}) == 3
    assert _pair(result, "bare", "son")["decision"] == "REVIEW"
    assert result.metrics["namesake_at_place"] >= 1


def test_postcode_and_town_count_once() -> None:
    """A postcode and its town are one piece of evidence for leads, not two."""
    rows = [
        {
            "source_id": "p1",
            "first_name": "Ivo",
            "last_name": "Malý",
            "postcode": "602 00",
            "city": "Brno",
        },
        {
            "source_id": "p2",
            "first_name": "Ivo",
            "last_name": "Malý",
            "postcode": "60200",
            "city": "Brno-střed",
        },
        {"source_id": "p3", "first_name": "Ivo", "last_name": "Malý", "city": "Brno"},
    ]
    rows = [r | {"status": "NEW"} for r in rows]
    result = match_entity(
        "lead", pl.concat([synthetic_people_as("lead", 600), _frame("lead", rows)])
    )
    assert "level_postcode" not in result.pairs.columns
    assert _pair(result, "p1", "p2")["level_place"] == 3  # same postcode
    assert _pair(result, "p1", "p3")["level_place"] == 2  # same town


def test_name_only_pairs_below_the_upper_threshold_are_not_queued() -> None:
    """A steward sees a name-only pair only when its score alone would have merged it."""
    records = synthetic_people_as("person", 3000)
    result = match_entity("person", records)
    queued = result.review.join(
        result.pairs, on=["left_record_key", "right_record_key"], how="inner"
    )
    assert queued.height == result.review.height > 0
    evidence = ["birth_date", "national_id", "email", "phone"]
    name_only = queued.filter(
        pl.all_horizontal([pl.col(f"level_{f}").is_in([0, 1]) for f in evidence])
    )
    upper = entity_settings("person").thresholds.upper
    assert name_only.filter(pl.col("score") < upper).height == 0
    assert name_only["reason"].str.starts_with("only the name agrees").all()


def test_twins_with_forms_of_one_name_stay_apart() -> None:
    """Mária and Marie Novotná: one birth date, names a letter apart, every contact different,
    and a third record whose nickname fits both."""
    twins = [
        {
            "source_id": "maria",
            "first_name": "Mária",
            "last_name": "Novotná",
            "birth_date": dt.date(1978, 4, 1),
            "email": "maria.novotna.2@gmail.com",
            "phone": "+420790469572",
        },
        {
            "source_id": "marie",
            "first_name": "Marie",
            "last_name": "Novotná",
            "birth_date": dt.date(1978, 4, 1),
            "email": "marie.novotna.106@gmail.com",
            "phone": "+420739021323",
        },
    ]
    # "Majka" names either twin (her mailbox is Mária's): through her the two would join
    majka = twins[0] | {"source_id": "majka", "first_name": "Majka", "phone": None}
    records = pl.concat([synthetic_people_as("person", 800), _frame("person", [*twins, majka])])
    result = match_entity("person", records)
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["TEST|maria"] != clusters["TEST|marie"]
    # kept apart, the twins make Majka ambiguous -- but her mailbox is Mária's, evidence a
    # thousandfold stronger than the nickname and birth date she shares with Marie: she
    # joins Mária, and only her edge to Marie waits for a steward
    assert _pair(result, "maria", "majka")["decision"] == "MATCH"
    assert clusters["TEST|majka"] == clusters["TEST|maria"]
    assert _pair(result, "marie", "majka")["decision"] == "REVIEW"


def test_twins_a_letter_apart_stay_apart_despite_one_birth_date() -> None:
    """Dana and Hana Fialová: one birth date, one home, phones differ, one has no e-mail."""
    twins = [
        _person("dana", "Dana", "Fialová")
        | {"birth_date": dt.date(2001, 12, 2), "phone": "+420733199573"},
        _person("hana", "Hana", "Fialová")
        | {
            "birth_date": dt.date(2001, 12, 2),
            "phone": "+420776489432",
            "email": "hana.fialova.8@centrum.cz",
        },
    ]
    homes = [_home("dana", "Krátká", "4"), _home("hana", "Krátká", "4")]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", twins)])
    result = match_entity("customer", records, addresses=_frame("address", homes))
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert clusters["TEST|dana"] != clusters["TEST|hana"]


def _home_level(left: dict, right: dict) -> str:
    """The home level of two persons, each owning one address written as given."""
    from crm_pipelines.match.comparisons import COMPARISONS, compare_pairs, encode_for
    from crm_pipelines.match.owner_addresses import with_owner_addresses
    from crm_pipelines.match.standardize import FEATURES

    persons = _frame(
        "person",
        [
            {"source_id": sid, "first_name": "Eva", "last_name": "Malá", "role_type": "CONTACT"}
            for sid in ("l", "r")
        ],
    ).with_columns(pl.lit("person_feed").alias("origin"))
    homes = [
        {"source_id": f"a-{sid}", "owner_kind": "PERSON", "owner_source_id": sid}
        | {"role_type": "CORRESPONDENCE"}
        | address
        for sid, address in (("l", left), ("r", right))
    ]
    features = with_owner_addresses(FEATURES["person"](persons), "person", _frame("address", homes))
    pair = pl.DataFrame({"l": [0], "r": [1]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    code = compare_pairs(encode_for(features, ["home"]), pair, ["home"])
    return COMPARISONS["home"].levels[code["home"][0]]


PALACKEHO = {"street": "Palackého", "house_number": "12", "city": "Kolín", "postcode": "280 02"}


def test_a_mistyped_postcode_or_street_still_names_the_building() -> None:
    assert _home_level(PALACKEHO, PALACKEHO | {"postcode": "208 02"}) == "same_building"
    assert _home_level(PALACKEHO, PALACKEHO | {"street": "Palackeho tr"}) == "same_building"
    assert _home_level(PALACKEHO, PALACKEHO | {"city": "Kolin 2"}) == "same_building"


def test_another_house_at_the_postcode_is_only_the_same_area() -> None:
    assert _home_level(PALACKEHO, PALACKEHO | {"house_number": "14"}) == "same_area"
    # the town alone is no area: Praha holds a million people
    other_street = {"street": "Husova", "house_number": "3", "postcode": "280 20"}
    assert _home_level(PALACKEHO, PALACKEHO | other_street) == "different"
    other_town = {"city": "Nymburk", "postcode": "288 02"}
    assert _home_level(PALACKEHO, PALACKEHO | other_town) == "different"


@pytest.mark.parametrize(
    ("phone", "mobile", "one"), [("+420603118822", True, True), ("+420224118822", False, False)]
)
def test_a_customer_under_a_badly_keyed_first_name_is_one_with_its_mailbox_and_mobile(
    phone: str, mobile: bool, one: bool
) -> None:
    """Antonín / Tondp (his nickname Tonda, mistyped): another first name keeps two customer
    rows apart -- unless they share the mailbox and a mobile number, which are one person's;
    a mailbox and the flat's line are a household's."""
    contacts = {"email": "ruzicka.a@seznam.cz", "phone": phone, "phone_is_mobile": mobile}
    rows = [
        _person("a1", "Antonín", "Růžička") | contacts,
        _person("a2", "Tondp", "Růžička") | contacts,
    ]
    records = pl.concat([synthetic_people_as("customer", 800), _frame("customer", rows)])
    result = match_entity("customer", records)
    clusters = dict(zip(result.clusters["record_key"], result.clusters["cluster_id"], strict=True))
    assert (clusters["TEST|a1"] == clusters["TEST|a2"]) is one
