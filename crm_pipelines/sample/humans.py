"""Real people and the buildings they live in, including deliberate look-alikes.

Hard negatives are made by overwriting some holders so they resemble another holder:
twins (same surname, birth date and home, never the same first name or nickname), father
and son (same full name and home, 25+ years apart) and namesakes in the same city.

Buildings follow the warehouse contract: one building per street + číslo popisné (the
number before the slash) + city, whatever the orientation number after the slash.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample import identifiers as ids
from crm_pipelines.sample.text import ascii_lower, choose, reference

EPOCH = np.datetime64("1970-01-01", "D")
EMAIL_DOMAINS = {
    "CZ": ["seznam.cz", "email.cz", "gmail.com", "centrum.cz", "post.cz", "volny.cz"],
    "SK": ["azet.sk", "gmail.com", "centrum.sk", "zoznam.sk"],
}
DESCRIPTIVE_END = 3500  # čísla popisná are drawn from 1 .. DESCRIPTIVE_END - 1
MAX_REDRAWS = 200


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


def _buildings(rng: np.random.Generator, n: int, country: np.ndarray) -> pl.DataFrame:
    cities, streets = reference("cities"), reference("streets")
    city_idx = np.zeros(n, dtype=np.int64)
    street_idx = np.zeros(n, dtype=np.int64)
    for cc in ("CZ", "SK"):
        mask = country == cc
        rows = np.flatnonzero((cities["country"] == cc).to_numpy())
        w = cities["weight"].cast(pl.Float64).to_numpy()[rows]
        city_idx[mask] = rng.choice(rows, size=int(mask.sum()), p=w / w.sum())
        srows = np.flatnonzero((streets["country"] == cc).to_numpy())
        street_idx[mask] = rng.choice(srows, size=int(mask.sum()))
    city = cities[city_idx]
    descriptive = pl.Series(rng.integers(1, DESCRIPTIVE_END, size=n)).cast(pl.String)
    orientation = pl.Series(rng.integers(1, 90, size=n)).cast(pl.String)
    has_orientation = pl.Series(rng.random(n) < 0.6)
    lat = city["lat"].cast(pl.Float64) + pl.Series(rng.normal(0, 0.02, n))
    lon = city["lon"].cast(pl.Float64) + pl.Series(rng.normal(0, 0.03, n))
    return pl.DataFrame(
        {
            "building_id": pl.Series(np.arange(n)).cast(pl.String).str.zfill(8),
            "street": streets["street"].gather(street_idx),
            "descriptive": descriptive,
            "house_number": pl.select(
                pl.when(has_orientation)
                .then(descriptive + "/" + orientation)
                .otherwise(descriptive)
            ).to_series(),
            "city": city["city"],
            "plain_city": city["plain_city"],
            "postcode": city["postcode"],
            "country": country,
            "latitude": lat.round(6),
            "longitude": lon.round(6),
        }
    ).with_columns(building_id="B" + pl.col("building_id"))


def _unique_descriptive_numbers(rng: np.random.Generator, buildings: pl.DataFrame) -> pl.DataFrame:
    """Redraw the číslo popisné of later buildings that repeat one on their street and city.

    Keyed on the plain city (Praha, not Praha 1): sources write either, so two buildings
    there would be one address to a reader. Streets too crowded for 1..3499 get a longer range.
    """
    street = pl.concat_str("country", "plain_city", "street", separator="|")
    # categorical codes are only a cheap grouping label here; their values never reach the output
    codes = buildings.select(street.cast(pl.Categorical).to_physical()).to_series().to_numpy()
    _, group = np.unique(codes, return_inverse=True)
    end = np.maximum(DESCRIPTIVE_END, 2 * np.bincount(group) + 1)  # per street, > 2x its buildings
    offset = np.r_[0, np.cumsum(end)[:-1]]
    number = buildings["descriptive"].cast(pl.Int64).to_numpy().copy()
    slot = offset[group] + number  # one slot per (street, number)
    taken = np.zeros(int(end.sum()), dtype=bool)
    first = pl.Series(slot).is_first_distinct().to_numpy()
    taken[slot[first]] = True
    pending = np.flatnonzero(~first)
    for _ in range(MAX_REDRAWS):
        if not pending.size:
            break
        drawn = rng.integers(1, end[group[pending]])
        wanted = offset[group[pending]] + drawn
        free = np.flatnonzero(~taken[wanted])
        _, winner = np.unique(wanted[free], return_index=True)  # first claim of a slot wins
        won = free[winner]
        number[pending[won]] = drawn[won]
        taken[wanted[won]] = True
        pending = np.delete(pending, won)
    else:
        raise RuntimeError("could not give every building its own číslo popisné")
    descriptive = pl.Series(number).cast(pl.String)
    orientation = buildings["house_number"].str.extract(r"(/.*)$").fill_null("")
    return buildings.with_columns(descriptive=descriptive, house_number=descriptive + orientation)


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


TITLES_BEFORE = ["Ing.", "Mgr.", "Bc.", "MUDr.", "JUDr.", "PhDr.", "RNDr.", "doc. Ing.", "prof. MUDr."]
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


def humans_and_buildings(
    rng: np.random.Generator, n: int, n_holders: int
) -> tuple[pl.DataFrame, pl.DataFrame, list]:
    names, surnames = reference("first_names"), reference("surnames")
    key = names["name"] + "|" + names["country"]
    position = {k: i for i, k in enumerate(key.to_list())}
    pairs = zip(names["counterpart"], names["country"], strict=True)
    counterpart = np.array([position.get(f"{c}|{cc}", -1) for c, cc in pairs])
    country = choose(rng, ["CZ", "SK"], [0.86, 0.14], n).astype("<U2")
    female = rng.random(n) < 0.51
    a = {
        "country": country,
        "female": female,
        "first": _sample_names(rng, female, country),
        "surname": _sample_surnames(rng, country),
        "birth": rng.integers(_days("1938-01-01"), _days("2006-06-30"), size=n),
        "building": np.zeros(n, dtype=np.int64),
    }
    n_buildings = int(n * 0.75) + 10
    b_country = choose(rng, ["CZ", "SK"], [0.86, 0.14], n_buildings).astype("<U2")
    for cc in ("CZ", "SK"):
        pool = np.flatnonzero(b_country == cc)
        mask = a["country"] == cc
        a["building"][mask] = rng.choice(pool, size=int(mask.sum()))
    pairs, namesakes = _hard_negative_humans(rng, a, n_holders, counterpart, position)
    for cc in ("CZ", "SK"):  # hard-negative copies may have moved country: rehouse them
        pool = np.flatnonzero(b_country == cc)
        wrong = (a["country"] == cc) & (b_country[a["building"]] != cc)
        a["building"][wrong] = rng.choice(pool, size=int(wrong.sum()))
    buildings = _buildings(rng, n_buildings, b_country)
    # namesakes live in the same city as their look-alike, in another building
    left = np.array([p[1] for p in pairs if p[0] == "NAMESAKE_SAME_CITY"], dtype=np.int64)
    extra = _buildings(rng, len(left), a["country"][left])
    extra = extra.with_columns(
        building_id=pl.Series([f"BX{i:07d}" for i in range(len(left))]),
        city=buildings["city"].gather(a["building"][left]),
        plain_city=buildings["plain_city"].gather(a["building"][left]),
        postcode=buildings["postcode"].gather(a["building"][left]),
    )
    a["building"][namesakes] = n_buildings + np.arange(len(left))
    buildings = _unique_descriptive_numbers(rng.spawn(1)[0], pl.concat([buildings, extra]))

    birth = (EPOCH + a["birth"]).astype("datetime64[D]")
    first = names["name"].gather(a["first"])
    last = pl.select(
        pl.when(pl.Series(a["female"]))
        .then(surnames["female"].gather(a["surname"]))
        .otherwise(surnames["male"].gather(a["surname"]))
    ).to_series()
    domain_idx = rng.integers(0, 4, size=n)
    domains = np.where(
        a["country"] == "SK",
        np.array(EMAIL_DOMAINS["SK"])[domain_idx],
        np.array(EMAIL_DOMAINS["CZ"])[domain_idx + rng.integers(0, 3, size=n)],
    )
    suffix = pl.Series(rng.integers(1, 99, size=n)).cast(pl.String)
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
    humans = humans.with_columns(
        email=distinct_emails(humans["email"]),
        alt_email=pl.concat_str(
            ascii_lower(pl.col("first_name").str.head(1)),
            ascii_lower(pl.col("last_name")),
            pl.lit("."),
            pl.col("human_id").str.slice(3).str.strip_chars_start("0"),
            pl.lit("@gmail.com"),
        ),
    )
    hn = pl.DataFrame(pairs, schema=["kind", "left", "right"], orient="row")
    return humans, buildings, hn
