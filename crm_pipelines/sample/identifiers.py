"""Vectorised generators of valid Czech/Slovak identifiers (IČO, VAT, birth number, IBAN, phone).

Everything works on numpy arrays so a million values cost milliseconds; the check-digit rules
are the ones python-stdnum applies, so generated values validate unless deliberately broken.
"""

from __future__ import annotations

import numpy as np
import polars as pl

CZ_MOBILE_PREFIXES = np.array(
    [601, 602, 603, 604, 605, 606, 607, 608, 702, 703, 704, 705, 720, 721, 722, 723, 724, 725]
    + [728, 730, 731, 732, 733, 734, 736, 737, 739, 770, 773, 774, 775, 776, 777, 778, 790, 799]
)
SK_MOBILE_PREFIXES = np.array(
    [901, 902, 903, 904, 905, 906, 907, 908, 910, 911, 914, 915, 916, 917, 918, 940, 944, 948]
)
CZ_BANK_CODES = np.array([100, 300, 800, 2010, 600, 5500, 3030, 2700, 6100, 6210])
SK_BANK_CODES = np.array([200, 900, 1100, 7500, 5600, 8330])
_IBAN_COUNTRY_DIGITS = {"CZ": 123500, "SK": 282000}  # letters as digits + "00"
_ACCOUNT_WEIGHTS = np.array([6, 3, 7, 9, 10, 5, 8, 4, 2, 1])


def _digits(
    rng: np.random.Generator, n: int, width: int, first_nonzero: bool = False
) -> np.ndarray:
    out = rng.integers(0, 10, size=(n, width))
    if first_nonzero:
        out[:, 0] = rng.integers(1, 10, size=n)
    return out


def _join_digits(d: np.ndarray) -> np.ndarray:
    """Rows of digits -> int64 (at most 18 digits)."""
    weights = 10 ** np.arange(d.shape[1] - 1, -1, -1, dtype=np.int64)
    return (d.astype(np.int64) * weights).sum(axis=1)


def ico(rng: np.random.Generator, n: int) -> pl.Series:
    """Valid 8-digit IČO (mod-11 check digit), as text."""
    # distinct companies get distinct numbers; a leading 9 is not a valid CZ legal-entity DIČ
    body = rng.choice(9_000_000, size=n, replace=False)
    d = (body[:, None] // 10 ** np.arange(6, -1, -1)) % 10
    s = (d * np.arange(8, 1, -1)).sum(axis=1)
    check = (11 - s % 11) % 11
    check = np.where(check == 0, 1, check) % 10
    return pl.Series(_join_digits(d) * 10 + check).cast(pl.String).str.zfill(8)


def sk_vat(rng: np.random.Generator, n: int) -> pl.Series:
    """Valid SK DIČ/IČ DPH digits: 10 digits, third digit 2, divisible by 11."""
    lo, hi = -(-2020000000 // 11), 2029999999 // 11
    return "SK" + pl.Series(rng.integers(lo, hi, size=n) * 11).cast(pl.String)


def birth_numbers(birth: np.ndarray, female: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Valid CZ/SK birth numbers "YYMMDD/XXXX" (9 digits "YYMMDD/XXX" before 1954)."""
    dt = birth.astype("datetime64[D]")
    year = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    prefix = (year % 100) * 10000 + (month + 50 * female.astype(np.int64)) * 100 + day
    # unique per person: serials spread within each (birth date, sex) group
    rank = pl.DataFrame({"p": prefix}).select(pl.int_range(pl.len()).over("p")).to_series()
    serial = (rank.to_numpy() * 7 + prefix % 997) % 1000
    first9 = prefix * 1000 + serial
    check = first9 % 11
    bump = check == 10  # remainder 10 has a legacy special case; avoid it
    first9 = np.where(bump, np.where(serial == 999, first9 - 1, first9 + 1), first9)
    check = first9 % 11
    ten = (first9 * 10 + check).astype(np.int64)
    text10 = pl.Series(ten).cast(pl.String).str.zfill(10)
    text9 = pl.Series(first9).cast(pl.String).str.zfill(9)
    old = pl.Series(year < 1954)
    frame = pl.DataFrame({"t10": text10, "t9": text9, "old": old})
    return frame.select(
        pl.when(pl.col("old"))
        .then(pl.col("t9").str.slice(0, 6) + "/" + pl.col("t9").str.slice(6))
        .otherwise(pl.col("t10").str.slice(0, 6) + "/" + pl.col("t10").str.slice(6))
    ).to_series()


def iban(rng: np.random.Generator, country: np.ndarray) -> pl.Series:
    """Valid CZ/SK IBANs (prefix 000000, account number passing the mod-11 weights)."""
    n = len(country)
    is_sk = country == "SK"
    bank = np.where(
        is_sk, rng.choice(SK_BANK_CODES, size=n), rng.choice(CZ_BANK_CODES, size=n)
    ).astype(np.int64)
    acct = _digits(rng, n, 10, first_nonzero=True)
    partial = (acct[:, :9] * _ACCOUNT_WEIGHTS[:9]).sum(axis=1)
    last = (-partial) % 11
    bad = last == 10
    acct[bad, 8] = (acct[bad, 8] + 1) % 10
    partial = (acct[:, :9] * _ACCOUNT_WEIGHTS[:9]).sum(axis=1)
    acct[:, 9] = (-partial) % 11
    still_bad = acct[:, 9] == 10
    acct[still_bad, 8] = (acct[still_bad, 8] + 1) % 10
    partial = (acct[:, :9] * _ACCOUNT_WEIGHTS[:9]).sum(axis=1)
    acct[:, 9] = (-partial) % 11 % 10
    account = _join_digits(acct)
    cc_digits = np.where(is_sk, _IBAN_COUNTRY_DIGITS["SK"], _IBAN_COUNTRY_DIGITS["CZ"])
    # BBAN = bank(4) + prefix(6 zeros) + account(10); mod 97 computed piecewise in int64
    rem = (bank * pow(10, 6, 97)) % 97
    rem = (rem * pow(10, 10, 97) + account % 97) % 97
    rem = (rem * pow(10, 6, 97) + cc_digits) % 97
    check = 98 - rem
    frame = pl.DataFrame(
        {
            "cc": np.where(is_sk, "SK", "CZ"),
            "check": pl.Series(check).cast(pl.String).str.zfill(2),
            "bank": pl.Series(bank).cast(pl.String).str.zfill(4),
            "account": pl.Series(account).cast(pl.String).str.zfill(10),
        }
    )
    return frame.select(
        pl.concat_str(["cc", "check", "bank", pl.lit("000000"), "account"])
    ).to_series()


def mobile_e164(
    rng: np.random.Generator, country: np.ndarray, block: tuple[int, int] = (0, 600_000)
) -> pl.Series:
    """Valid, mutually distinct mobile numbers in E.164: +420 6xx/7xx… (CZ), +421 9xx… (SK)."""
    n = len(country)
    is_sk = country == "SK"
    prefix = np.zeros(n, dtype=np.int64)
    rest = np.zeros(n, dtype=np.int64)
    for mask, prefixes in ((is_sk, SK_MOBILE_PREFIXES), (~is_sk, CZ_MOBILE_PREFIXES)):
        width = block[1] - block[0]  # callers use disjoint blocks: no shared numbers
        drawn = rng.choice(len(prefixes) * width, size=int(mask.sum()), replace=False)
        prefix[mask] = prefixes[drawn // width]
        rest[mask] = block[0] + drawn % width
    frame = pl.DataFrame(
        {
            "cc": np.where(is_sk, "+421", "+420"),
            "p": pl.Series(prefix).cast(pl.String),
            "r": pl.Series(rest).cast(pl.String).str.zfill(6),
        }
    )
    return frame.select(pl.concat_str(["cc", "p", "r"])).to_series()
