"""Real people and the buildings they live in, including deliberate look-alikes.

Hard negatives are made by overwriting some holders so they resemble another holder:
twins (same surname, birth date and home, never the same first name or nickname), father
and son (same full name and home, 25+ years apart) and namesakes in the same city.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample import identifiers as ids
from crm_pipelines.sample.buildings import MAX_REDRAWS, buildings_with_namesake_homes
from crm_pipelines.sample.text import ascii_lower, choose, reference

EPOCH = np.datetime64("1970-01-01", "D")
EMAIL_DOMAINS = {
    "CZ": ["seznam.cz", "email.cz", "gmail.com", "centrum.cz", "post.cz", "volny.cz"],
    "SK": ["azet.sk", "gmail.com", "centrum.sk", "zoznam.sk"],
}


def _days(date: str) -> int:
    return int((np.datetime64(date, "D") - EPOCH).astype(np.int64))


def _sample_names(rng: np.random.Generator, female: np.ndarray, country: np.ndarray) -> np.ndarray:
    names = reference("first_names")
    out = np.zeros(len(female), dtype=np.int64)
    for sex in ("M", "F"):
        for cc in ("CZ", "SK"):
            rows = np.flatnonzero(
                (names["sex"] == sex).to_numpy() & (names["country"] == cc).to_numpy()
            )
            w = names["weight"].cast(pl.Float64).to_numpy()[rows]
            mask = (female == (sex == "F")) & (country == cc)
            out[mask] = rng.choice(rows, size=int(mask.sum()), p=w / w.sum())
    return out


def _sample_surnames(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    surnames = reference("surnames")
    out = np.zeros(len(country), dtype=np.int64)
    for cc in ("CZ", "SK"):
        rows = np.flatnonzero((surnames["country"] == cc).to_numpy())
        w = surnames["weight"].cast(pl.Float64).to_numpy()[rows]
        mask = country == cc
        out[mask] = rng.choice(rows, size=int(mask.sum()), p=w / w.sum())
    return out


def _name_clashes(names: pl.DataFrame) -> np.ndarray:
    """[i, j]: first names i and j share a spelling or nickname once diacritics are gone."""
    folded = names.select(
        name=ascii_lower(pl.col("name")), nickname=ascii_lower(pl.col("nickname"))
    )
    spellings = [
        {v for v in pair if v} for pair in zip(folded["name"], folded["nickname"], strict=True)
    ]
    return np.array([[bool(a & b) for b in spellings] for a in spellings])


def _separate_twin_names(
    rng: np.random.Generator,
    a: dict[str, np.ndarray],
    left: np.ndarray,
    right: np.ndarray,
    clashes: np.ndarray,
) -> None:
    """Redraw the second twin's first name until it differs from the first twin's."""
    for _ in range(MAX_REDRAWS):
        clash = clashes[a["first"][left], a["first"][right]]
        if not clash.any():
            return
        twin = right[clash]
        a["first"][twin] = _sample_names(rng, a["female"][twin], a["country"][twin])
    raise RuntimeError("could not give twins different first names")


def distinct_emails(emails: pl.Series) -> pl.Series:
    """Two people never share an address: later holders of a taken one get ".2", ".3", …"""
    rank = pl.int_range(pl.len()).over("e")
    parts = pl.col("e").str.split_exact("@", 1)
    return (
        pl.DataFrame({"e": emails})
        .select(
            pl.when(rank == 0)
            .then(pl.col("e"))
            .otherwise(
                pl.concat_str(
                    parts.struct[0],
                    pl.lit("."),
                    (rank + 1).cast(pl.String),
                    pl.lit("@"),
                    parts.struct[1],
                )
            )
        )
        .to_series()
    )


def _hard_negative_humans(
    rng: np.random.Generator,
    a: dict[str, np.ndarray],
    n_holders: int,
    counterpart: np.ndarray,
    first_index: dict[str, int],
) -> tuple[list[tuple[str, int, int]], np.ndarray]:
    """Overwrite some holders so they look like another holder; returns (kind, left, right).

    Fixes draw from a child generator so the rest of the world stays as it was per seed.
    """
    fix_rng = rng.spawn(1)[0]
    k = max(2, round(0.003 * n_holders))
    picks = rng.permutation(n_holders)[: 6 * k].reshape(3, 2, k)
    pairs: list[tuple[str, int, int]] = []
    namesakes = picks[2, 1]
    cz_jan, sk_jan = first_index["Jan|CZ"], first_index["Ján|SK"]
    for kind, (left, right) in zip(
        ("TWINS", "FATHER_SON", "NAMESAKE_SAME_CITY"), picks, strict=True
    ):
        a["surname"][right] = a["surname"][left]
        a["country"][right] = a["country"][left]
        if kind == "TWINS":
            a["birth"][right] = a["birth"][left]
            a["building"][right] = a["building"][left]
            similar = (rng.random(k) < 0.4) & (counterpart[a["first"][left]] >= 0)
            a["first"][right] = np.where(similar, counterpart[a["first"][left]], a["first"][right])
            a["female"][right] = np.where(similar, ~a["female"][left], a["female"][right])
            clashes = _name_clashes(reference("first_names"))
            _separate_twin_names(fix_rng, a, left, right, clashes)
        elif kind == "FATHER_SON":
            male_first = np.where(a["country"][left] == "SK", sk_jan, cz_jan)
            a["first"][left] = np.where(a["female"][left], male_first, a["first"][left])
            a["female"][left] = False
            a["female"][right] = False
            a["first"][right] = a["first"][left]
            a["building"][right] = a["building"][left]
            too_old = a["birth"][left] < _days("1972-01-01")  # the father must be born too
            young = _days("1972-01-01") + rng.integers(0, 30 * 365, size=k)
            a["birth"][left] = np.where(too_old, young, a["birth"][left])
            a["birth"][right] = a["birth"][left] - rng.integers(25 * 365, 36 * 365, size=k)
        else:
            a["first"][right] = a["first"][left]
            a["female"][right] = a["female"][left]
            same_day = a["birth"][right] == a["birth"][left]  # namesakes, not one person
            a["birth"][right[same_day]] -= fix_rng.integers(1, 3650, size=int(same_day.sum()))
        pairs += [(kind, int(x), int(y)) for x, y in zip(left, right, strict=True)]
    return pairs, namesakes


TITLES_BEFORE = [
    "Ing.",
    "Mgr.",
    "Bc.",
    "MUDr.",
    "JUDr.",
    "PhDr.",
    "RNDr.",
    "doc. Ing.",
    "prof. MUDr.",
]
TITLES_AFTER = ["Ph.D.", "CSc.", "MBA", "DiS."]


def _degrees_and_maiden_names(
    rng: np.random.Generator, a: dict, surnames: pl.DataFrame
) -> dict[str, pl.Series]:
    """Academic titles (Czech systems keep them in name fields) and maiden names of married
    women (older systems still hold the name a woman had when she signed up)."""
    n = len(a["female"])
    adult = a["birth"] < _days("1998-01-01")
    titled = adult & (rng.random(n) < 0.15)
    before = np.where(titled, np.array(TITLES_BEFORE)[rng.integers(0, len(TITLES_BEFORE), n)], "")
    after = np.where(
        titled & (rng.random(n) < 0.3),
        np.array(TITLES_AFTER)[rng.integers(0, len(TITLES_AFTER), n)],
        "",
    )
    married = a["female"] & (a["birth"] < _days("1996-01-01")) & (rng.random(n) < 0.4)
    maiden = surnames["female"].gather(rng.integers(0, surnames.height, n))
    return {
        "title_before": pl.Series(before).replace("", None),
        "title_after": pl.Series(after).replace("", None),
        "maiden_name": pl.select(pl.when(pl.lit(pl.Series(married))).then(maiden)).to_series(),
    }


def _first_name_counterparts(names: pl.DataFrame) -> tuple[dict[str, int], np.ndarray]:
    """Row of each "name|country" and, per first name, the row of its other-sex counterpart
    (Jan ~ Jana; -1 for none): similar twins take the counterpart of their sibling's name."""
    key = names["name"] + "|" + names["country"]
    position = {k: i for i, k in enumerate(key.to_list())}
    pairs = zip(names["counterpart"], names["country"], strict=True)
    counterpart = np.array([position.get(f"{c}|{cc}", -1) for c, cc in pairs])
    return position, counterpart


def _attributes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Country, sex, first name and surname (reference rows), birth day; no home yet."""
    country = choose(rng, ["CZ", "SK"], [0.86, 0.14], n).astype("<U2")
    female = rng.random(n) < 0.51
    return {
        "country": country,
        "female": female,
        "first": _sample_names(rng, female, country),
        "surname": _sample_surnames(rng, country),
        "birth": rng.integers(_days("1938-01-01"), _days("2006-06-30"), size=n),
        "building": np.zeros(n, dtype=np.int64),
    }


def _house(rng: np.random.Generator, a: dict[str, np.ndarray], b_country: np.ndarray) -> None:
    """Give every human a building of their country."""
    for cc in ("CZ", "SK"):
        pool = np.flatnonzero(b_country == cc)
        mask = a["country"] == cc
        a["building"][mask] = rng.choice(pool, size=int(mask.sum()))


def _rehouse_movers(
    rng: np.random.Generator, a: dict[str, np.ndarray], b_country: np.ndarray
) -> None:
    """Hard-negative copies may have moved country: give them a building of their new one."""
    for cc in ("CZ", "SK"):
        pool = np.flatnonzero(b_country == cc)
        wrong = (a["country"] == cc) & (b_country[a["building"]] != cc)
        a["building"][wrong] = rng.choice(pool, size=int(wrong.sum()))


def _email_domains_and_suffixes(
    rng: np.random.Generator, country: np.ndarray
) -> tuple[np.ndarray, pl.Series]:
    """A free-mail domain of the person's country and a number some add to their address."""
    n = len(country)
    domain_idx = rng.integers(0, 4, size=n)
    domains = np.where(
        country == "SK",
        np.array(EMAIL_DOMAINS["SK"])[domain_idx],
        np.array(EMAIL_DOMAINS["CZ"])[domain_idx + rng.integers(0, 3, size=n)],
    )
    suffix = pl.Series(rng.integers(1, 99, size=n)).cast(pl.String)
    return domains, suffix


def _with_emails(humans: pl.DataFrame) -> pl.DataFrame:
    """first.last[NN]@domain, made distinct, and a second address at gmail."""
    humans = humans.with_columns(
        email=pl.concat_str(
            ascii_lower(pl.col("first_name")),
            pl.lit("."),
            ascii_lower(pl.col("last_name")),
            pl.when(pl.col("with_suffix")).then(pl.col("suffix")).otherwise(pl.lit("")),
            pl.lit("@"),
            pl.col("domain"),
        )
    ).drop("domain", "with_suffix", "suffix")
    return humans.with_columns(
        email=distinct_emails(humans["email"]),
        alt_email=pl.concat_str(
            ascii_lower(pl.col("first_name").str.head(1)),
            ascii_lower(pl.col("last_name")),
            pl.lit("."),
            pl.col("human_id").str.slice(3).str.strip_chars_start("0"),
            pl.lit("@gmail.com"),
        ),
    )


def _humans_table(
    rng: np.random.Generator, a: dict[str, np.ndarray], names: pl.DataFrame, surnames: pl.DataFrame
) -> pl.DataFrame:
    """The humans with their names, birth number, phone, e-mails, consents and titles."""
    n = len(a["female"])
    birth = (EPOCH + a["birth"]).astype("datetime64[D]")
    first = names["name"].gather(a["first"])
    last = pl.select(
        pl.when(pl.Series(a["female"]))
        .then(surnames["female"].gather(a["surname"]))
        .otherwise(surnames["male"].gather(a["surname"]))
    ).to_series()
    domains, suffix = _email_domains_and_suffixes(rng, a["country"])
    humans = pl.DataFrame(
        {
            "human_id": pl.Series(np.arange(n)).cast(pl.String).str.zfill(8),
            "female": a["female"],
            "country": a["country"],
            "first_name": first,
            "nickname": names["nickname"].gather(a["first"]),
            "last_name": last,
            "birth_date": birth,
            "national_id": ids.birth_numbers(birth, a["female"], rng),
            "building": a["building"],
            "phone": ids.mobile_e164(rng, a["country"]),
            "domain": domains,
            "with_suffix": rng.random(n) < 0.4,
            "suffix": suffix,
            "consent_email": rng.random(n) < 0.55,
            "consent_sms": rng.random(n) < 0.45,
            "consent_post": rng.random(n) < 0.3,
        }
    ).with_columns(human_id="H" + pl.col("human_id"), **_degrees_and_maiden_names(rng, a, surnames))
    return _with_emails(humans)


def humans_and_buildings(
    rng: np.random.Generator, n: int, n_holders: int
) -> tuple[pl.DataFrame, pl.DataFrame, list]:
    """n humans (the first n_holders hold a customer) with their homes, and the look-alike
    pairs (kind, left, right) made among the holders. Steps run in a fixed rng order."""
    names, surnames = reference("first_names"), reference("surnames")
    position, counterpart = _first_name_counterparts(names)
    a = _attributes(rng, n)
    n_buildings = int(n * 0.75) + 10
    b_country = choose(rng, ["CZ", "SK"], [0.86, 0.14], n_buildings).astype("<U2")
    _house(rng, a, b_country)
    pairs, namesakes = _hard_negative_humans(rng, a, n_holders, counterpart, position)
    _rehouse_movers(rng, a, b_country)
    buildings = buildings_with_namesake_homes(rng, a, b_country, pairs, namesakes)
    humans = _humans_table(rng, a, names, surnames)
    hn = pl.DataFrame(pairs, schema=["kind", "left", "right"], orient="row")
    return humans, buildings, hn
