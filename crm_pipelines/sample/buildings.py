"""The buildings people live in and organisations sit in.

Buildings follow the warehouse contract: one building per street + číslo popisné (the
number before the slash) + city, whatever the orientation number after the slash.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample.text import reference

DESCRIPTIVE_END = 3500  # čísla popisná are drawn from 1 .. DESCRIPTIVE_END - 1
MAX_REDRAWS = 200


def _buildings(rng: np.random.Generator, n: int, country: np.ndarray) -> pl.DataFrame:
    """n buildings of the given countries: a city by its weight, a street, číslo popisné,
    an orientation number for most, and coordinates scattered around the city."""
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


def buildings_with_namesake_homes(
    rng: np.random.Generator,
    a: dict[str, np.ndarray],
    b_country: np.ndarray,
    pairs: list[tuple[str, int, int]],
    namesakes: np.ndarray,
) -> pl.DataFrame:
    """The buildings, plus one per namesake in the same city as their look-alike (another
    building); moves the namesakes there and makes the čísla popisná unique per street."""
    n_buildings = len(b_country)
    buildings = _buildings(rng, n_buildings, b_country)
    left = np.array([p[1] for p in pairs if p[0] == "NAMESAKE_SAME_CITY"], dtype=np.int64)
    extra = _buildings(rng, len(left), a["country"][left])
    extra = extra.with_columns(
        building_id=pl.Series([f"BX{i:07d}" for i in range(len(left))]),
        city=buildings["city"].gather(a["building"][left]),
        plain_city=buildings["plain_city"].gather(a["building"][left]),
        postcode=buildings["postcode"].gather(a["building"][left]),
    )
    a["building"][namesakes] = n_buildings + np.arange(len(left))
    return _unique_descriptive_numbers(rng.spawn(1)[0], pl.concat([buildings, extra]))
