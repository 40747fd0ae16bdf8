"""Per-source noise on names, contacts, consents, identifiers and addresses.

Each function takes a frame with a ``source_system`` column and rewrites some columns the way
real extracts of that system deviate from the truth (rates differ per system: the legacy CRM
is ASCII-only and shouts, the e-shop gets nicknames from self-registration, …).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_pipelines.sample import identifiers as ids
from crm_pipelines.sample.text import (
    phone_formats,
    random_letters,
    strip_diacritics,
    typo,
)

# what a human carries besides its name that a source may write into the name fields
NAME_EXTRAS = ("title_before", "title_after", "maiden_name")
PHONE_STYLE = {"BSS": 0, "ESHOP": 1, "LEGACY_CRM": 2, "PARTNER_PORTAL": 3, "MARKETING": 4}


def rate(by_source: dict[str, float], default: float) -> pl.Expr:
    return pl.col("source_system").replace_strict(
        by_source, default=default, return_dtype=pl.Float64
    )


def _u(rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(rng.random(n, dtype=np.float32))


def _typo(col: str, rng: np.random.Generator, n: int) -> pl.Expr:
    return typo(pl.col(col), pl.lit(_u(rng, n)), pl.lit(_u(rng, n)), pl.lit(random_letters(rng, n)))


def names(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Nicknames, dropped diacritics, typos, swapped first/last, upper-cased surnames."""
    n = frame.height
    u = {k: pl.lit(_u(rng, n)) for k in ("nick", "ascii", "t1", "t2", "swap", "upper")}
    first, last = pl.col("first_name"), pl.col("last_name")
    frame = frame.with_columns(
        first_name=pl.when(
            (u["nick"] < rate({"ESHOP": 0.1, "MARKETING": 0.1, "PARTNER_PORTAL": 0.04}, 0.025))
            & pl.col("nickname").is_not_null()
        )
        .then(pl.col("nickname"))
        .when(u["t1"] < 0.02)
        .then(_typo("first_name", rng, n))
        .otherwise(first),
        last_name=pl.when(u["t2"] < 0.03).then(_typo("last_name", rng, n)).otherwise(last),
    )
    frame = frame.with_columns(
        first_name=pl.when(u["ascii"] < rate({"LEGACY_CRM": 0.6, "PARTNER_PORTAL": 0.2}, 0.03))
        .then(strip_diacritics(first))
        .otherwise(first),
        last_name=pl.when(u["ascii"] < rate({"LEGACY_CRM": 0.6, "PARTNER_PORTAL": 0.2}, 0.03))
        .then(strip_diacritics(last))
        .otherwise(last),
    )
    frame = frame.with_columns(
        last_name=pl.when(u["upper"] < rate({"LEGACY_CRM": 0.3}, 0.02))
        .then(last.str.to_uppercase())
        .otherwise(last)
    )
    swap = u["swap"] < rate({"LEGACY_CRM": 0.04}, 0.01)
    frame = frame.with_columns(
        first_name=pl.when(swap).then(last).otherwise(first),
        last_name=pl.when(swap).then(first).otherwise(last),
    )
    return _titles_and_maiden_names(frame, rng)


def _titles_and_maiden_names(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Older systems keep the maiden name; most keep academic titles inside the name fields,
    written their own way (Ing. / ING. / Ing, "Nováková, Ph.D.")."""
    n = frame.height
    u = {k: pl.lit(_u(rng, n)) for k in ("maiden", "title", "style")}
    maiden = (u["maiden"] < rate({"LEGACY_CRM": 0.35, "PARTNER_PORTAL": 0.2}, 0.08)) & pl.col(
        "maiden_name"
    ).is_not_null()
    written = u["title"] < rate(
        {"BSS": 0.6, "LEGACY_CRM": 0.7, "PARTNER_PORTAL": 0.4, "ESHOP": 0.15}, 0.1
    )
    before = (
        pl.when(u["style"] < 0.15)
        .then(pl.col("title_before").str.to_uppercase())
        .when(u["style"] < 0.25)
        .then(pl.col("title_before").str.replace_all(".", "", literal=True))
        .otherwise(pl.col("title_before"))
    )
    after = pl.when(u["style"] < 0.5).then(pl.lit(", ")).otherwise(pl.lit(" ")) + pl.col(
        "title_after"
    )
    last = pl.when(maiden).then(pl.col("maiden_name")).otherwise(pl.col("last_name"))
    return frame.with_columns(
        first_name=pl.when(written & before.is_not_null() & pl.col("first_name").is_not_null())
        .then(before + " " + pl.col("first_name"))
        .otherwise(pl.col("first_name")),
        last_name=pl.when(pl.col("last_name").is_null())
        .then(None)
        .when(written & pl.col("title_after").is_not_null())
        .then(last + after)
        .otherwise(last),
    )


def contacts(
    frame: pl.DataFrame,
    rng: np.random.Generator,
    country: np.ndarray,
    phone_block: tuple[int, int],
    national_ok: np.ndarray | None = None,
) -> pl.DataFrame:
    """E-mail case/format variants and other addresses; phones in source formats; gaps.

    Needs an ``alt_email`` column (the party's second address). A replaced phone number
    comes from ``phone_block`` so it never belongs to someone else. Where ``national_ok``
    is false, phones keep their international prefix (the reader could not guess it).
    """
    n = frame.height
    ue, uf, up, un, um = (pl.lit(_u(rng, n)) for _ in range(5))
    other_phone = pl.lit(ids.mobile_e164(rng, country, phone_block))
    alt_email = pl.col("alt_email")
    email = pl.col("email")
    style = pl.col("source_system").replace_strict(PHONE_STYLE, default=0, return_dtype=pl.Int64)
    national = pl.lit(True) if national_ok is None else pl.lit(pl.Series(national_ok))
    return frame.with_columns(
        email=pl.when(ue < rate({"MARKETING": 0.05, "ESHOP": 0.03}, 0.15))
        .then(pl.lit(None, dtype=pl.String))
        .when(uf < 0.08)
        .then(email.str.to_titlecase())
        .when(uf < 0.11)
        .then(email.str.to_uppercase())
        .when(uf < 0.19)
        .then(alt_email)
        .otherwise(email),
        phone=pl.when(un < rate({"MARKETING": 0.3, "ESHOP": 0.1}, 0.15))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(
            phone_formats(
                pl.when(um < 0.06).then(other_phone).otherwise(pl.col("phone")),
                up,
                style,
                national,
            )
        ),
    )


def consents(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Stale consents (flipped in one source) and missing statements, as "true"/"false"."""
    n = frame.height
    out = {}
    for channel in ("consent_email", "consent_sms", "consent_post"):
        flip, gap = pl.lit(_u(rng, n)), pl.lit(_u(rng, n))
        value = pl.col(channel).cast(pl.Boolean) ^ (flip < 0.12)
        out[channel] = (
            pl.when(gap < 0.25)
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(value.cast(pl.String).str.to_lowercase())
        )
    return frame.with_columns(**out)


def birth_dates(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """ISO text; present by source; a rare day slip."""
    n = frame.height
    present, slip = pl.lit(_u(rng, n)), pl.lit(_u(rng, n))
    day = pl.col("birth_date").cast(pl.Date)
    day = pl.when(slip < 0.01).then(day + pl.duration(days=1)).otherwise(day)
    keep = present < rate({"BSS": 0.9, "LEGACY_CRM": 0.7, "PARTNER_PORTAL": 0.5}, 0.3)
    return frame.with_columns(
        birth_date=pl.when(keep).then(day.dt.to_string("%Y-%m-%d")).otherwise(None)
    )


def org_names(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    n = frame.height
    uf, ua, uu, ut = (pl.lit(_u(rng, n)) for _ in range(4))
    name = pl.col("organization_name")
    form = (
        pl.when(uf < 0.1)
        .then(name.str.replace(r"spol\. s r\.o\.$", "s.r.o."))
        .when(uf < 0.2)
        .then(name.str.replace(r"s\.r\.o\.$", "s. r. o."))
        .when(uf < 0.26)
        .then(name.str.replace(r",? (s\.r\.o\.|a\.s\.|spol\. s r\.o\.)$", ""))
        .otherwise(name)
    )
    frame = frame.with_columns(organization_name=form)
    frame = frame.with_columns(
        organization_name=pl.when(ua < rate({"LEGACY_CRM": 0.5, "PARTNER_PORTAL": 0.1}, 0.04))
        .then(strip_diacritics(name))
        .otherwise(name)
    )
    return frame.with_columns(
        organization_name=pl.when(uu < rate({"LEGACY_CRM": 0.4}, 0.05))
        .then(name.str.to_uppercase())
        .when(ut < 0.03)
        .then(_typo("organization_name", rng, n))
        .otherwise(name)
    )


def company_ids(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """IČO without leading zeros or spaced; VAT lower-cased, spaced or missing."""
    n = frame.height
    ur, uv = pl.lit(_u(rng, n)), pl.lit(_u(rng, n))
    reg, vat = pl.col("registration_no"), pl.col("vat_no")
    return frame.with_columns(
        registration_no=pl.when(ur < 0.05)
        .then(None)
        .when((ur < 0.15) | (pl.col("source_system") == "LEGACY_CRM"))
        .then(reg.str.strip_chars_start("0"))
        .when(ur < 0.25)
        .then(reg.str.slice(0, 3) + " " + reg.str.slice(3, 2) + " " + reg.str.slice(5))
        .otherwise(reg),
        vat_no=pl.when(uv < 0.2)
        .then(None)
        .when(uv < 0.28)
        .then(vat.str.to_lowercase())
        .when(uv < 0.33)
        .then(vat.str.slice(0, 2) + " " + vat.str.slice(2))
        .otherwise(vat),
    )


def addresses(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """ul./ulice, nám./náměstí, Praha 1 vs Praha, postcode spacing, 1234/5 vs 1234."""
    n = frame.height
    us, uc, up, uh, ua, ut, ul = (pl.lit(_u(rng, n)) for _ in range(7))
    street = pl.col("street")
    plain = ~street.str.contains(r"^(náměstí|třída|námestie|Kpt\.|\d)")
    frame = frame.with_columns(
        street=pl.when(street.str.starts_with("náměstí ") & (us < 0.5))
        .then(street.str.replace("^náměstí ", "nám. "))
        .when(street.str.starts_with("třída ") & (us < 0.5))
        .then(street.str.replace("^třída ", "tř. "))
        .when(plain & (us < 0.08))
        .then("ul. " + street)
        .when(plain & (us < 0.11))
        .then(street + " ulice")
        .when(ut < 0.02)
        .then(_typo("street", rng, n))
        .otherwise(street),
        city=pl.when(uc < 0.35).then(pl.col("plain_city")).otherwise(pl.col("city")),
        postcode=pl.when(up < 0.3)
        .then(pl.col("postcode").str.replace(" ", ""))
        .otherwise(pl.col("postcode")),
        house_number=pl.when(uh < 0.15)
        .then(pl.col("descriptive"))
        .otherwise(pl.col("house_number")),
    )
    ascii_rate = rate({"LEGACY_CRM": 0.5, "PARTNER_PORTAL": 0.15}, 0.04)
    frame = frame.with_columns(
        street=pl.when(ua < ascii_rate).then(strip_diacritics(street)).otherwise(street),
        city=pl.when(ua < ascii_rate)
        .then(strip_diacritics(pl.col("city")))
        .otherwise(pl.col("city")),
    )
    line = pl.concat_str(
        street,
        pl.lit(" "),
        pl.col("house_number"),
        pl.lit(", "),
        pl.col("postcode"),
        pl.lit(" "),
        pl.col("city"),
    )
    with_line = ul < rate({"LEGACY_CRM": 1.0, "BSS": 0.3, "MARKETING": 0.5}, 0.0)
    coords = ul < rate({"ESHOP": 0.6, "BSS": 0.4}, 0.0)
    return frame.with_columns(
        address_line=pl.when(with_line).then(line).otherwise(None),
        latitude=pl.when(coords).then(pl.col("latitude").cast(pl.String)).otherwise(None),
        longitude=pl.when(coords).then(pl.col("longitude").cast(pl.String)).otherwise(None),
    )
