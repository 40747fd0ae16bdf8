"""Deliberate bad input of every kind feeds.md lists, with the expected severity as truth.

Each defect hits a few rows (about 0.3 % each, at least one); ERROR rows and rows referring
to an ERROR row are expected to be rejected, WARNING rows kept. HOSTILE_TEXT rows are valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

ERROR, WARNING, INFO = "ERROR", "WARNING", "INFO"
TYPED_COLUMNS = {  # native types in the e-shop's Parquet: a bad value cannot be represented
    "_ts_bad",
    "_created_bad",
    "birth_date",
    "consent_email",
    "consent_sms",
    "consent_post",
    "credit_limit",
    "latitude",
    "longitude",
}
# columns a source's files do not carry at all (missing listed column = null)
OMITTED: dict[str, dict[str, tuple[str, ...]]] = {
    "customer": {"LEGACY_CRM": ("chars", "segment", "consent_post")},
    "person": {"LEGACY_CRM": ("chars", "consent_post")},
    "account": {"LEGACY_CRM": ("chars",), "ESHOP": ("billing_contact_source_id",)},
    "address": {
        "LEGACY_CRM": (
            "street",
            "house_number",
            "city",
            "postcode",
            "latitude",
            "longitude",
            "chars",
        )
    },
    "lead": {},
}
BAD_TS = ("yesterday", "31.12.2025 10:00", "2025-13-45T25:61:00", "n/a")
BAD_EMAIL = (
    "jan.novak@",
    "jan novak@seznam.cz",
    "@seznam.cz",
    "petr.svoboda@seznam",
    "a..b@@email.cz",
)
BAD_PHONE = ("123", "+420 12345", "777 12", "+420 000 000 000 000", "abc-def")
BAD_BOOL = ("ano", "ne", "maybe", "2")
BAD_CHARS = (
    "not json",
    "[1, 2]",
    '{"shoe_size": 42}',
    '{"vip": "maybe"}',
    '{"preferred_language": 7}',
    '{"vip": true,',
)
BAD_COUNTRY = ("XX", "ZZ", "C1", "CSK")
BAD_POSTCODE = ("1100", "ABC 12", "110000", "11-000")
HOSTILE = (
    "O'Brien-Nováková",
    'Novák "Pepa" st.',
    "Robert'); DROP TABLE customer;--",
    "Jana 😀 Dvořáková",
    "Ž" * 40 + "luťoučký" * 30,
    '=HYPERLINK("http://x")',
    'Line\nbreak, "quoted"',
)


@dataclass(frozen=True)
class Defect:
    name: str
    severity: str
    columns: tuple[str, ...]
    values: tuple[str | None, ...] = (None,)
    transform: Callable[[pl.Expr], pl.Expr] | None = None
    eligible: Callable[[], pl.Expr] | None = None
    fixed_count: int | None = None


def _last_digit_plus_one(e: pl.Expr) -> pl.Expr:
    last = e.str.slice(-1).cast(pl.Int64, strict=False).fill_null(0)
    return e.str.head(-1) + ((last + 1) % 10).cast(pl.String)


def _not_null(col: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col).is_not_null()


def _party(kind: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col("party_type") == kind


def _common(feed: str) -> list[Defect]:
    return [
        Defect("BAD_UPDATED_AT", ERROR, ("_ts_bad",), BAD_TS),
        Defect("UNKNOWN_SOURCE_SYSTEM", ERROR, ("source_system",), ("CRM2", "SAP_X")),
        Defect("BAD_CHARS", WARNING, ("chars",), BAD_CHARS),
    ]


def _contact_defects() -> list[Defect]:
    return [
        Defect("INVALID_EMAIL", WARNING, ("email",), BAD_EMAIL),
        Defect("INVALID_PHONE", WARNING, ("phone",), BAD_PHONE),
        Defect("BAD_BOOLEAN", WARNING, ("consent_email",), BAD_BOOL),
        Defect("BIRTH_BEFORE_1900", WARNING, ("birth_date",), ("1899-05-12", "1850-01-01")),
        Defect("BIRTH_IN_FUTURE", WARNING, ("birth_date",), ("2031-04-01",)),
        Defect("BAD_BIRTH_DATE", WARNING, ("birth_date",), ("12.5.1980", "1980-02-30")),
    ]


def _customer_classification_defects() -> list[Defect]:
    """Broken or unknown party type, customer type, status and country: the record is unusable."""
    return [
        Defect("EMPTY_PARTY_TYPE", ERROR, ("party_type",)),
        Defect("UNKNOWN_PARTY_TYPE", ERROR, ("party_type",), ("XX", "COMPANY_X")),
        Defect("EMPTY_CUSTOMER_TYPE", ERROR, ("customer_type",)),
        Defect("UNKNOWN_CUSTOMER_TYPE", ERROR, ("customer_type",), ("VIP", "RETAIL_X")),
        Defect("UNKNOWN_STATUS", ERROR, ("status",), ("DELETED", "ZZ")),
        Defect("EMPTY_COUNTRY", ERROR, ("country",)),
        Defect("INVALID_COUNTRY", ERROR, ("country",), BAD_COUNTRY),
    ]


def _customer_identity_defects() -> list[Defect]:
    """Missing names, wrong check digits and unknown codes on a customer's identity."""
    return [
        Defect(
            "EMPTY_NAME_INDIVIDUAL",
            ERROR,
            ("first_name", "last_name"),
            eligible=_party("INDIVIDUAL"),
        ),
        Defect(
            "EMPTY_ORGANIZATION_NAME",
            ERROR,
            ("organization_name",),
            eligible=_party("ORGANIZATION"),
        ),
        Defect(
            "INVALID_ICO",
            WARNING,
            ("registration_no",),
            transform=_last_digit_plus_one,
            eligible=_not_null("registration_no"),
        ),
        Defect(
            "INVALID_VAT",
            WARNING,
            ("vat_no",),
            ("CZ1234567", "CZ 12", "DE12345", "CZABCDEFGH"),
            eligible=_party("ORGANIZATION"),
        ),
        Defect("UNKNOWN_SEGMENT", WARNING, ("segment",), ("GOLD", "PLATINUM_X")),
        Defect(
            "UNKNOWN_LEGAL_FORM",
            WARNING,
            ("legal_form",),
            ("XYZ", "LLC_X"),
            eligible=_party("ORGANIZATION"),
        ),
    ]


def _customer_hostile_text() -> list[Defect]:
    """Names the pipeline must carry through unharmed (quotes, SQL, emoji, very long)."""
    return [
        Defect(
            "HOSTILE_TEXT",
            INFO,
            ("last_name",),
            HOSTILE,
            eligible=_party("INDIVIDUAL"),
            fixed_count=len(HOSTILE),
        ),
        Defect(
            "HOSTILE_TEXT",
            INFO,
            ("organization_name",),
            HOSTILE,
            eligible=_party("ORGANIZATION"),
            fixed_count=3,
        ),
    ]


def _customer_defects() -> list[Defect]:
    """Customers: broken contacts, classification and identity, plus hostile names."""
    return (
        _contact_defects()
        + _customer_classification_defects()
        + _customer_identity_defects()
        + _customer_hostile_text()
    )


def _person_defects() -> list[Defect]:
    """Contact people: broken contacts, roles, names and references to their customer."""
    return _contact_defects() + [
        Defect("EMPTY_ROLE", ERROR, ("role_type",)),
        Defect("UNKNOWN_ROLE", ERROR, ("role_type",), ("BOSS", "CEO")),
        Defect("EMPTY_LAST_NAME", ERROR, ("last_name",)),
        Defect("EMPTY_FIRST_NAME", ERROR, ("first_name",)),
        Defect(
            "MISSING_CUSTOMER_REF",
            ERROR,
            ("customer_source_id",),
            transform=lambda e: e + "-GONE",
            eligible=_not_null("customer_source_id"),
        ),
        Defect(
            "INVALID_BIRTH_NUMBER",
            WARNING,
            ("national_id",),
            transform=lambda e: e.str.head(2) + "13" + e.str.slice(4),
            eligible=_not_null("national_id"),
        ),
        Defect("HOSTILE_TEXT", INFO, ("first_name",), HOSTILE, fixed_count=4),
    ]


def _account_defects() -> list[Defect]:
    """Accounts: references to the customer, codes, currency, IBAN and billing settings."""
    return [
        Defect("EMPTY_CUSTOMER_REF", ERROR, ("customer_source_id",)),
        Defect(
            "MISSING_CUSTOMER_REF",
            ERROR,
            ("customer_source_id",),
            transform=lambda e: e + "-GONE",
        ),
        Defect("UNKNOWN_ACCOUNT_TYPE", ERROR, ("account_type",), ("LOAN", "POSTPAID_X")),
        Defect("UNKNOWN_STATUS", ERROR, ("status",), ("FROZEN",)),
        Defect("EMPTY_CURRENCY", ERROR, ("currency",)),
        Defect("INVALID_CURRENCY", ERROR, ("currency",), ("KCS", "Kč", "EURO", "XYZ")),
        Defect(
            "INVALID_IBAN",
            WARNING,
            ("iban",),
            transform=_last_digit_plus_one,
            eligible=_not_null("iban"),
        ),
        Defect("BAD_DECIMAL", WARNING, ("credit_limit",), ("1 500,00 Kč", "tisíc", "1.500,00")),
        Defect("UNKNOWN_BILLING_CYCLE", WARNING, ("billing_cycle",), ("WEEKLY", "DAILY")),
        Defect("UNKNOWN_PAYMENT_METHOD", WARNING, ("payment_method",), ("CHEQUE", "BITCOIN")),
        Defect(
            "UNKNOWN_BILLING_CONTACT",
            WARNING,
            ("billing_contact_source_id",),
            ("NEEXISTUJE", "P999999999"),
        ),
    ]


def _address_defects() -> list[Defect]:
    """Addresses: no usable form, unknown owner or role, bad country, postcode, coordinate."""
    return [
        Defect(
            "NO_ADDRESS_FORM",
            ERROR,
            ("street", "house_number", "city", "postcode", "address_line"),
        ),
        Defect("UNKNOWN_OWNER_KIND", ERROR, ("owner_kind",), ("SHOP", "BUILDING")),
        Defect("UNKNOWN_ROLE", ERROR, ("role_type",), ("HOME", "WORK")),
        Defect("EMPTY_OWNER_REF", ERROR, ("owner_source_id",)),
        Defect("MISSING_OWNER_REF", ERROR, ("owner_source_id",), transform=lambda e: e + "-GONE"),
        Defect("EMPTY_COUNTRY", ERROR, ("country",)),
        Defect("INVALID_COUNTRY", ERROR, ("country",), BAD_COUNTRY),
        Defect(
            "INVALID_POSTCODE",
            WARNING,
            ("postcode",),
            BAD_POSTCODE,
            eligible=_not_null("postcode"),
        ),
        Defect(
            "BAD_COORDINATE",
            WARNING,
            ("latitude",),
            ("N50.08", "abc"),
            eligible=_not_null("latitude"),
        ),
    ]


def _lead_defects() -> list[Defect]:
    """Leads: no name, bad status and contacts, unknown channel, bad dates, hostile text."""
    return [
        Defect("NO_NAME", ERROR, ("first_name", "last_name", "organization_name")),
        Defect("EMPTY_STATUS", ERROR, ("status",)),
        Defect("UNKNOWN_STATUS", ERROR, ("status",), ("WON", "LOST_X")),
        Defect("INVALID_EMAIL", WARNING, ("email",), BAD_EMAIL),
        Defect("INVALID_PHONE", WARNING, ("phone",), BAD_PHONE),
        Defect("INVALID_POSTCODE", WARNING, ("postcode",), BAD_POSTCODE),
        Defect("UNKNOWN_CHANNEL", WARNING, ("channel",), ("FACEBOOK", "TIKTOK")),
        Defect("BAD_BOOLEAN", WARNING, ("consent_sms",), BAD_BOOL),
        Defect("BAD_CREATED_AT", WARNING, ("_created_bad",), ("včera", "2026-02-30")),
        Defect("HOSTILE_TEXT", INFO, ("product_interest",), HOSTILE, fixed_count=len(HOSTILE)),
    ]


FEED_DEFECTS: dict[str, Callable[[], list[Defect]]] = {
    "customer": _customer_defects,
    "person": _person_defects,
    "account": _account_defects,
    "address": _address_defects,
    "lead": _lead_defects,
}


def specs(feed: str) -> list[Defect]:
    """The defects of a feed, common ones first; the order is fixed (position = id in inject)."""
    own = FEED_DEFECTS.get(feed)
    return _common(feed) + (own() if own is not None else [])


def inject(
    frame: pl.DataFrame, feed: str, rng: np.random.Generator, share: float = 0.003
) -> pl.DataFrame:
    """Break a few rows per defect; adds _src (original source), _defect, _valid."""
    n = frame.height
    for stamp in ("_ts_bad", "_created_bad"):
        if stamp not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(stamp))
    source = frame["source_system"].to_numpy()
    defects = specs(feed)
    perm = rng.permutation(n)
    taken = np.zeros(n, dtype=bool)
    defect_id = np.full(n, -1, dtype=np.int64)
    for i, d in enumerate(defects):
        ok = np.ones(n, dtype=bool)
        if d.eligible is not None:
            ok &= frame.select(d.eligible()).to_series().fill_null(False).to_numpy()
        if TYPED_COLUMNS.intersection(d.columns):
            ok &= source != "ESHOP"
        for src, cols in OMITTED[feed].items():
            if set(cols).intersection(d.columns):
                ok &= source != src
        count = d.fixed_count or max(1, round(share * n))
        chosen = perm[ok[perm] & ~taken[perm]][:count]
        defect_id[chosen] = i
        taken[chosen] = True
    frame = frame.with_columns(
        _src=pl.col("source_system"),
        _did=pl.Series(defect_id),
        _k=pl.Series(rng.integers(0, 1 << 30, n)),
    )
    updates: dict[str, pl.Expr] = {}
    for i, d in enumerate(defects):
        for col in d.columns:
            if d.transform is not None:
                bad = d.transform(pl.col(col))
            elif d.values == (None,):
                bad = pl.lit(None, dtype=pl.String)
            else:
                mapping = dict(enumerate(d.values))
                bad = (pl.col("_k") % len(d.values)).replace_strict(mapping, return_dtype=pl.String)
            updates[col] = (
                pl.when(pl.col("_did") == i).then(bad).otherwise(updates.get(col, pl.col(col)))
            )
    names = {i: d.name for i, d in enumerate(defects)}
    invalid = [i for i, d in enumerate(defects) if d.severity == ERROR]
    return frame.with_columns(
        **updates,
        _defect=pl.col("_did").replace_strict(names, default=None, return_dtype=pl.String),
        _valid=~pl.col("_did").is_in(invalid),
    ).drop("_did", "_k")


def cascade(frame: pl.DataFrame, kind: pl.Expr, ref: str, rejected: pl.Series) -> pl.DataFrame:
    """Rows referring to a rejected record are rejected too (feeds.md: reference rule)."""
    hit = (
        (kind + "|" + pl.col("_src") + "|" + pl.col(ref)).is_in(rejected.implode()).fill_null(False)
    )
    return frame.with_columns(
        _defect=pl.when(hit & pl.col("_valid"))
        .then(
            pl.concat_str(
                pl.col("_defect").fill_null(""), pl.lit("REF_REJECTED"), separator=""
            ).str.replace(r"^(.+)REF", "$1+REF")
        )
        .otherwise(pl.col("_defect")),
        _valid=pl.col("_valid") & ~hit,
    )


def rejected_keys(frame: pl.DataFrame, kind: str) -> pl.Series:
    return (
        frame.filter(~pl.col("_valid"))
        .select(pl.lit(kind) + "|" + pl.col("_src") + "|" + pl.col("source_id"))
        .to_series()
    )
