"""A synthetic person population with known truth, for the matching tests.

Duplicates carry the variants the engine must see through (nicknames, missing diacritics,
typos, name order swaps, transposed or mistyped birth dates, missing contacts); hard
negatives (twins, father and son, namesakes) are generated on purpose.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.staged import conform

MALE = [
    "Jan",
    "Josef",
    "Jiří",
    "František",
    "Stanislav",
    "Zdeněk",
    "Jakub",
    "Václav",
    "Antonín",
    "Ladislav",
    "Miroslav",
    "Petr",
    "Pavel",
    "Tomáš",
    "Martin",
    "Lukáš",
    "Ondřej",
    "Karel",
    "Jaroslav",
    "Vladimír",
    "Michal",
    "David",
    "Daniel",
    "Marek",
    "Radek",
    "Milan",
    "Roman",
    "Vojtěch",
    "Filip",
    "Adam",
    "Matěj",
    "Dominik",
    "Richard",
    "Robert",
    "Libor",
    "Vít",
]
FEMALE = [
    "Jana",
    "Marie",
    "Eva",
    "Hana",
    "Anna",
    "Lenka",
    "Kateřina",
    "Lucie",
    "Věra",
    "Alena",
    "Petra",
    "Veronika",
    "Jaroslava",
    "Tereza",
    "Martina",
    "Michaela",
    "Zuzana",
    "Ivana",
    "Monika",
    "Helena",
    "Barbora",
    "Markéta",
    "Klára",
    "Dagmar",
    "Pavlína",
    "Šárka",
]
SURNAMES = [
    "Novák",
    "Svoboda",
    "Novotný",
    "Dvořák",
    "Černý",
    "Procházka",
    "Kučera",
    "Veselý",
    "Horák",
    "Němec",
    "Marek",
    "Pospíšil",
    "Pokorný",
    "Hájek",
    "Král",
    "Jelínek",
    "Růžička",
    "Beneš",
    "Fiala",
    "Sedláček",
    "Doležal",
    "Zeman",
    "Kolář",
    "Navrátil",
    "Čermák",
    "Vaněk",
    "Urban",
    "Blažek",
    "Kříž",
    "Kovář",
    "Bartoš",
    "Vlček",
    "Polák",
    "Musil",
    "Kopecký",
    "Šimek",
    "Konečný",
    "Malý",
    "Holub",
    "Štěpánek",
    "Kadlec",
    "Dostál",
    "Soukup",
    "Šťastný",
    "Mareš",
    "Moravec",
    "Sýkora",
    "Tichý",
    "Valenta",
    "Vávra",
    "Matoušek",
    "Bláha",
    "Říha",
    "Ševčík",
    "Bureš",
    "Hruška",
    "Mašek",
    "Pavlík",
    "Janda",
    "Hrubý",
    "Dušek",
    "Havlíček",
    "Mach",
    "Sokol",
    "Zelenka",
    "Kratochvíl",
    "Hladík",
]
NICK = {
    "Jan": "Honza",
    "Josef": "Pepa",
    "Jiří": "Jirka",
    "František": "Franta",
    "Stanislav": "Standa",
    "Zdeněk": "Zdenda",
    "Jakub": "Kuba",
    "Václav": "Vašek",
    "Antonín": "Tonda",
    "Ladislav": "Láďa",
    "Miroslav": "Mirek",
    "Petr": "Péťa",
    "Kateřina": "Katka",
    "Zuzana": "Zuzka",
    "Tereza": "Terka",
    "Barbora": "Bára",
}
TWIN_SISTER = {
    "Jan": "Jana",
    "Petr": "Petra",
    "Pavel": "Pavla",
    "Martin": "Martina",
    "Michal": "Michaela",
    "Jaroslav": "Jaroslava",
    "Daniel": "Daniela",
}


def female_surname(name: str) -> str:
    if name.endswith("ý"):
        return name[:-1] + "á"
    if name.endswith("a"):
        return name[:-1] + "ová"
    if name.endswith("ek"):
        return name[:-2] + "ková"
    if name.endswith("ec"):
        return name[:-2] + "cová"
    return name + "ová"


def _strip_marks(e: pl.Expr) -> pl.Expr:
    return e.str.normalize("NFKD").str.replace_all(r"\p{M}", "")


def _typo(e: pl.Expr, pos: pl.Expr) -> pl.Expr:
    """Swap two adjacent characters at pos (1..len-2)."""
    return (
        e.str.slice(0, pos) + e.str.slice(pos + 1, 1) + e.str.slice(pos, 1) + e.str.slice(pos + 2)
    )


def synthetic_persons(
    n_parties: int, seed: int = 7
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(staged person frame, truth record_key -> party_id, hard-negative record_key pairs)."""
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.7
    female = rng.random(n_parties) < 0.5
    fn = np.where(female, rng.choice(FEMALE, n_parties), rng.choice(MALE, n_parties))
    ln_m = rng.choice(SURNAMES, n_parties, p=zipf / zipf.sum())
    # rare surnames make term-frequency adjustment matter
    rare = rng.random(n_parties) < 0.3
    onset = np.array(
        ["Kr", "Zv", "Bl", "Ho", "Pa", "Me", "Lu", "Ši", "Vo", "Ra", "Do", "Ne", "St", "Tr"]
    )
    middle = np.array(["ch", "n", "l", "r", "š", "t", "m", "b", "ž", "d"])
    ending = np.array(["ák", "ík", "ský", "an", "ouš", "ýl", "och", "ut"])
    invented = np.char.add(
        np.char.add(
            onset[rng.integers(0, 14, n_parties)],
            np.array(["a", "o", "e", "u"])[rng.integers(0, 4, n_parties)],
        ),
        np.char.add(middle[rng.integers(0, 10, n_parties)], ending[rng.integers(0, 8, n_parties)]),
    )
    ln_m = np.where(rare, invented, ln_m)
    ln = np.where(female, [female_surname(s) for s in ln_m], ln_m)
    born = rng.integers(-30 * 365, 30 * 365, n_parties)
    parties = pl.DataFrame(
        {
            "party_id": np.arange(n_parties),
            "first_name": fn,
            "last_name": ln,
            "birth_date": pl.Series(born, dtype=pl.Int32).cast(pl.Date),
        }
    ).with_columns(
        pl.format(
            "u{}.{}@mail.cz", pl.col("party_id"), pl.Series(rng.integers(0, 1000, n_parties))
        ).alias("email"),
        ("+420" + (600000000 + pl.col("party_id") * 7 % 399999999).cast(pl.String)).alias("phone"),
        pl.when(pl.col("party_id") % 3 == 0)
        .then((7000000000 + pl.col("party_id")).cast(pl.String))
        .alias("national_id"),
    )
    parties, hard = _hard_negatives(parties, rng)
    copies = 1 + np.minimum(rng.poisson(0.8, parties.height), 3)
    records = parties.select(pl.all().repeat_by(pl.Series(copies)).explode())
    records = records.with_columns(pl.int_range(pl.len()).over("party_id").alias("copy"))
    records = _perturb(records, rng)
    systems = np.array(["BSS", "ESHOP", "LEGACY_CRM", "PARTNER_PORTAL"])
    records = records.with_columns(
        pl.Series("source_system", systems[rng.integers(0, 4, records.height)]),
        pl.int_range(pl.len()).cast(pl.String).alias("source_id"),
    ).with_columns(
        (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key"),
        pl.lit("person_feed").alias("origin"),
        pl.lit("CONTACT").alias("role_type"),
        pl.lit("CZ").alias("country"),
    )
    truth = records.select("record_key", "party_id")
    first = records.filter(pl.col("copy") == 0).select("party_id", "record_key")
    hard_pairs = (
        hard.join(first.rename({"record_key": "left_record_key"}), left_on="a", right_on="party_id")
        .join(first.rename({"record_key": "right_record_key"}), left_on="b", right_on="party_id")
        .select("left_record_key", "right_record_key", "kind")
    )
    return conform("person", records), truth, hard_pairs


def _hard_negatives(
    parties: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Twins (same surname, birth date, phone; other first name) and fathers of sons."""
    n = parties.height
    chosen = rng.choice(n, size=max(n // 50, 2), replace=False)
    twins_of, fathers_of = chosen[: len(chosen) // 2], chosen[len(chosen) // 2 :]
    base = parties[twins_of.tolist()]
    twin_first = [
        TWIN_SISTER.get(f) or ("Petr" if f != "Petr" else "Pavel")
        for f in base["first_name"].to_list()
    ]
    twin_last = [
        female_surname(s) if TWIN_SISTER.get(f) else s
        for f, s in zip(base["first_name"].to_list(), base["last_name"].to_list(), strict=True)
    ]
    twins = base.with_columns(
        pl.Series("first_name", twin_first),
        pl.Series("last_name", twin_last),
        pl.Series("email", [f"twin{i}@mail.cz" for i in range(base.height)]),
        pl.lit(None, dtype=pl.String).alias("national_id"),
    )
    fathers = parties[fathers_of.tolist()].with_columns(
        (pl.col("birth_date") - pl.duration(days=365 * 28 + 17)).alias("birth_date"),
        pl.Series("email", [f"father{i}@mail.cz" for i in range(len(fathers_of))]),
        pl.lit(None, dtype=pl.String).alias("national_id"),
    )
    extra = pl.concat([twins, fathers]).with_columns((pl.int_range(pl.len()) + n).alias("party_id"))
    hard = pl.DataFrame(
        {
            "a": np.concatenate([twins_of, fathers_of]),
            "b": extra["party_id"].to_numpy(),
            "kind": ["twin"] * len(twins_of) + ["father_son"] * len(fathers_of),
        }
    )
    return pl.concat([parties, extra.cast(parties.schema)]), hard


def _perturb(records: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = records.height
    dup = pl.col("copy") > 0

    def chance(p: float) -> pl.Expr:
        return dup & pl.Series(rng.random(n) < p)

    fn, ln = pl.col("first_name"), pl.col("last_name")
    pos = pl.Series(rng.integers(1, 3, n))
    records = records.with_columns(
        pl.when(chance(0.15))
        .then(fn.replace(NICK))
        .when(chance(0.05))
        .then(_typo(fn, pos))
        .when(chance(0.1))
        .then(_strip_marks(fn))
        .otherwise(fn)
        .alias("first_name"),
        pl.when(chance(0.05))
        .then(_typo(ln, pos + 1))
        .when(chance(0.1))
        .then(_strip_marks(ln))
        .otherwise(ln)
        .alias("last_name"),
        pl.when(chance(0.05))
        .then(None)
        .when(chance(0.03) & (pl.col("birth_date").dt.day() <= 12))
        .then(
            pl.date(
                pl.col("birth_date").dt.year(),
                pl.col("birth_date").dt.day(),
                pl.col("birth_date").dt.month(),
            )
        )
        .when(chance(0.03))
        .then(pl.col("birth_date").dt.offset_by("1y"))
        .otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        pl.when(chance(0.3))
        .then(None)
        .when(chance(0.05))
        .then(pl.lit("other") + pl.col("email"))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(chance(0.3)).then(None).otherwise(pl.col("phone")).alias("phone"),
        pl.when(chance(0.5)).then(None).otherwise(pl.col("national_id")).alias("national_id"),
    )
    swap = chance(0.03)
    return records.with_columns(
        pl.when(swap).then(ln).otherwise(fn).alias("first_name"),
        pl.when(swap).then(fn).otherwise(ln).alias("last_name"),
    )


def synthetic_people_as(entity: str, n_parties: int, seed: int = 7) -> pl.DataFrame:
    """The synthetic persons recast as individual customers or leads (a crowd for EM)."""
    records, _, _ = synthetic_persons(n_parties, seed)
    records = records.with_columns(
        (pl.col("record_key").str.replace(r"\|", "|crowd-")).alias("record_key"),
        ("crowd-" + pl.col("source_id")).alias("source_id"),
    )
    if entity == "customer":
        extra = [
            pl.lit("INDIVIDUAL").alias("party_type"),
            pl.lit("RESIDENTIAL").alias("customer_type"),
        ]
    else:
        cities = pl.Series(["Praha", "Brno", "Ostrava", "Plzeň", "Liberec", "Olomouc"])
        pick = pl.Series(np.random.default_rng(seed).integers(0, 6, records.height))
        extra = [
            cities.gather(pick).alias("city"),
            (pl.lit("1") + pick.cast(pl.String) + pl.lit("0 00")).alias("postcode"),
            pl.lit("NEW").alias("status"),
        ]
    return conform(entity, records.with_columns(*extra))
