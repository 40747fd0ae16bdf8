"""Field comparisons: each maps a candidate pair to a small agreement level (0 = missing).

Pairs carry integer codes (see encode.py); fuzzy scores run through rapidfuzz
`process.cpdist` once per distinct pair of differing values, not once per candidate pair.
The name comparisons are in name_compare.py, the pairs' values side by side in pair_codes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz

from crm_pipelines.match.address_compare import compare_building, compare_postcode
from crm_pipelines.match.config import similarity_cutoff
from crm_pipelines.match.encode import Encoded, encode
from crm_pipelines.match.levels import column_similarity as _sim
from crm_pipelines.match.levels import left as _l
from crm_pipelines.match.levels import missing as _missing
from crm_pipelines.match.levels import pair_levels as _levels
from crm_pipelines.match.levels import right as _r
from crm_pipelines.match.name_compare import compare_first_name, compare_last_name, swapped
from crm_pipelines.match.pair_codes import key_set_parts, pair_columns, pair_frame, shares_a_key
from crm_pipelines.match.similarity import JW, code_similarity


def compare_exact(column: str) -> Callable[[pl.DataFrame, Encoded], pl.Series]:
    def compare(p: pl.DataFrame, enc: Encoded) -> pl.Series:
        return _levels(p, [_l(column) == _r(column)], _missing(column))

    return compare


GENERATION_DAYS = 15 * 365  # parents are at least this much older than their children


def compare_birth_date(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """bd_int = YYYYMMDD: exact, day/month transposed, one digit or one day off, different."""
    a, b = _l("bd_int"), _r("bd_int")
    digit_diffs = pl.sum_horizontal(
        [((a // 10**k) % 10 != (b // 10**k) % 10).cast(pl.Int8) for k in range(8)]
    )
    transposed = (
        (a // 10000 == b // 10000) & ((a // 100) % 100 == b % 100) & (a % 100 == (b // 100) % 100)
    )
    one_day = (_l("bd_days") - _r("bd_days")).abs() <= 1
    # a father and his son of one name are a generation apart; a nearer date on the same
    # name is weighed by the model (a wrong date keyed by hand), never a veto by itself
    near = (_l("bd_days") - _r("bd_days")).abs() < GENERATION_DAYS
    return _levels(p, [a == b, transposed, (digit_diffs == 1) | one_day, near], _missing("bd_int"))


def compare_email(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    jw = code_similarity(p["email_l"], p["email_r"], enc.text("email"), JW, max_length_gap=2)
    p = p.with_columns(jw.alias("_jw"))
    return _levels(
        p,
        [
            _l("email") == _r("email"),
            # a typo: nearly the same text with the same digits; the same local part at another
            # domain is not enough (jan.novak@ is a name, not a person)
            (pl.col("_jw") >= similarity_cutoff("email_typo_jw"))
            & (_l("email_digits") == _r("email_digits")),
        ],
        _missing("email"),
    )


def compare_email_number(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """Conflicting: another mailbox under the same name-based local part (jan.novak.3@ vs
    jan.novak@seznam, jan.novak@gmail): the name is shared, the mailbox is not."""
    conflicting = (_l("email_letters") == _r("email_letters")) & (_l("email") != _r("email"))
    return _levels(p, [~conflicting], _missing("email_letters"))


def compare_contacts(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """missing / different / same / same_mailbox_and_mobile over both contacts: missing
    unless each record carries a phone or an e-mail; same when either agrees. Two records
    from systems that hold contacts and share none are told apart by them; records without
    any (old extracts) are not. A household shares a mailbox or the flat's line; the same
    mailbox and the same mobile number -- a mobile is one person's -- are one person's."""
    has_l = _l("email").is_not_null() | _l("phone").is_not_null()
    has_r = _r("email").is_not_null() | _r("phone").is_not_null()
    same_email, same_phone = _l("email") == _r("email"), _l("phone") == _r("phone")
    mobile = _l("phone_is_mobile") & _r("phone_is_mobile")
    return _levels(p, [same_email & same_phone & mobile, same_email | same_phone], ~(has_l & has_r))


def compare_org_name(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    p = p.with_columns(
        _sim(p, enc, "org_norm", fuzz.token_sort_ratio).alias("_tsr"),
        _sim(p, enc, "org_norm").alias("_jw"),
    )
    return _levels(
        p,
        [
            _l("org_norm") == _r("org_norm"),
            pl.col("_tsr") >= similarity_cutoff("org_name_alike_tsr"),
            (pl.col("_jw") >= similarity_cutoff("org_name_similar_jw"))
            | (pl.col("_tsr") >= similarity_cutoff("org_name_similar_tsr")),
        ],
        _missing("org_norm"),
    )


def _no_keys(column: str) -> pl.Expr:
    return (_l(f"{column}:n").fill_null(0) == 0) | (_r(f"{column}:n").fill_null(0) == 0)


def compare_shared(column: str) -> Callable[[pl.DataFrame, Encoded], pl.Series]:
    """Sets of keys (a record's building keys): same when they share one, else different."""

    def compare(p: pl.DataFrame, enc: Encoded) -> pl.Series:
        return _levels(p, [pl.lit(shares_a_key(p, enc, column))], _no_keys(column))

    return compare


def compare_home(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """Where a person lives, as one piece of evidence: a shared building, else a shared
    postcode (or town): a misspelt street or house number still names the area."""

    def unknown(column: str) -> pl.Expr:  # no set at all (null) on either side
        return _l(f"{column}:n").is_null() | _r(f"{column}:n").is_null()

    missing = unknown("area_keys") & unknown("address_keys")
    return _levels(
        p,
        [
            pl.lit(shares_a_key(p, enc, "address_keys")),
            pl.lit(shares_a_key(p, enc, "area_keys")),
        ],
        missing,
    )


def compare_fuzzy(column: str, cutoff: str) -> Callable[[pl.DataFrame, Encoded], pl.Series]:
    """same, or similar at the named similarity cut-off, or different."""

    def compare(p: pl.DataFrame, enc: Encoded) -> pl.Series:
        p = p.with_columns(_sim(p, enc, column).alias("_jw"))
        similar = pl.col("_jw") >= similarity_cutoff(cutoff)
        return _levels(p, [_l(column) == _r(column), similar], _missing(column))

    return compare


def compare_place(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """Where a party lives, as one piece of evidence: the same postcode, else the same (or
    nearly the same) town. Scored as two fields, a postcode and its town would count twice."""
    p = p.with_columns(_sim(p, enc, "city_norm").alias("_jw"))
    return _levels(
        p,
        [
            _l("postcode_norm") == _r("postcode_norm"),
            pl.col("_jw") >= similarity_cutoff("place_town_jw"),
        ],
        _missing("postcode_norm") & _missing("city_norm"),
    )


@dataclass(frozen=True)
class Comparison:
    label: str  # words for review reasons
    levels: tuple[str, ...]  # level names, index = level code
    columns: tuple[str, ...]  # feature columns the comparison reads
    compare: Callable[[pl.DataFrame, Encoded], pl.Series]
    tf_column: str | None = None  # value whose frequency adjusts agreement weights


EXACT = ("missing", "different", "same")
FUZZY = ("missing", "different", "similar", "same")
NAME_COLUMNS = ("fn_fold", "fn_canon", "ln_as_fn_canon", "ln_fold", "ln_stem", "fn_as_ln_stem")

COMPARISONS: dict[str, Comparison] = {
    "first_name": Comparison(
        "first name",
        # similar: two real names a letter apart (Dana / Hana); misspelt: a typo of one
        ("missing", "different", "gender_mismatch", "similar", "misspelt", "alike", "same"),
        (*NAME_COLUMNS, "fn_female", "fn_gender_known", "fn_canon_stem"),
        compare_first_name,
        "fn_canon",
    ),
    "last_name": Comparison(
        "surname",
        ("missing", "different", "maiden_or_married", "gender_mismatch", "similar", "alike")
        + ("same",),
        (*NAME_COLUMNS, "ln_gender", "fn_female"),
        compare_last_name,
        "ln_stem",
    ),
    "birth_date": Comparison(
        "birth date",
        ("missing", "different", "near", "one_off", "transposed", "same"),
        ("bd_int", "bd_days"),
        compare_birth_date,
    ),
    "national_id": Comparison("national id", EXACT, ("national_id",), compare_exact("national_id")),
    "email": Comparison("e-mail", FUZZY, ("email", "email_digits"), compare_email, "email"),
    # for vetoes only (not in EM: namesakes' name-based mailboxes would dominate it)
    "email_number": Comparison(
        "e-mail number",
        ("missing", "conflicting", "other"),
        ("email_letters", "email"),
        compare_email_number,
    ),
    "phone": Comparison("phone", EXACT, ("phone",), compare_exact("phone"), "phone"),
    # for vetoes only: a fixed line against a mobile (a line at a place, a person's phone)
    "phone_kind": Comparison(
        "phone kind", EXACT, ("phone_is_mobile",), compare_exact("phone_is_mobile")
    ),
    # for vetoes only: does each record carry a contact, and do any agree
    "contacts": Comparison(
        "contacts",
        ("missing", "different", "same", "same_mailbox_and_mobile"),
        ("email", "phone", "phone_is_mobile"),
        compare_contacts,
    ),
    "party_type": Comparison("party type", EXACT, ("party_type",), compare_exact("party_type")),
    "registration_no": Comparison(
        "IČO", EXACT, ("registration_no",), compare_exact("registration_no")
    ),
    "vat_no": Comparison("VAT number", EXACT, ("vat_no",), compare_exact("vat_no")),
    "org_name": Comparison(
        "organisation name",
        ("missing", "different", "similar", "alike", "same"),
        ("org_norm",),
        compare_org_name,
        "org_norm",
    ),
    "street": Comparison(
        "street", FUZZY, ("street_norm",), compare_fuzzy("street_norm", "street_similar_jw")
    ),
    "building": Comparison("house number", EXACT, ("building", "entrance"), compare_building),
    "postcode": Comparison(
        "postcode",
        ("missing", "different", "one_digit", "same"),
        ("postcode_norm",),
        compare_postcode,
    ),
    "district": Comparison("district", EXACT, ("district_no",), compare_exact("district_no")),
    "city": Comparison(
        "city", FUZZY, ("city_norm",), compare_fuzzy("city_norm", "city_similar_jw")
    ),
    "place": Comparison(
        "place",
        ("missing", "different", "same_town", "same_postcode"),
        ("postcode_norm", "city_norm"),
        compare_place,
    ),
    "country": Comparison("country", EXACT, ("country",), compare_exact("country")),
    "address": Comparison("address", EXACT, ("address_keys",), compare_shared("address_keys")),
    # a person's buildings and areas (its own addresses and its individual customer's)
    "home": Comparison(
        "home address",
        ("missing", "different", "same_area", "same_building"),
        ("address_keys", "area_keys"),
        compare_home,
    ),
    # st. / ml. (validate/names.py): a father and his son of one name
    "generation": Comparison("generation", EXACT, ("generation",), compare_exact("generation")),
    # the golden customer each record was linked to (leads): the master knows all of a
    # customer's mailboxes and numbers, two leads never had to share one
    "customer": Comparison(
        "linked customer", EXACT, ("customer_cluster",), compare_exact("customer_cluster")
    ),
}

NAME_FIELDS = ("first_name", "last_name")


def encode_for(features: pl.DataFrame, fields: list[str], known: Encoded | None = None) -> Encoded:
    """Codes for every feature column the fields compare; those `known` already codes are
    taken from it (an e-mail dictionary of 1.3M addresses at 1M customers is built once)
    unless a column shares a dictionary with one it lacks."""
    columns = {c for f in fields for c in COMPARISONS[f].columns}
    reused = {c for c in columns if known is not None and c in known.codes.columns}
    if known is None or not reused:
        return encode(features, columns)
    fresh = encode(features, columns - reused)
    if set(fresh.groups.values()) & set(known.groups.values()):
        return encode(features, columns)
    groups = {**{c: g for c, g in known.groups.items() if c in reused}, **fresh.groups}
    dictionaries = {**known.dictionaries, **fresh.dictionaries}
    codes = pl.concat([known.codes.select(reused), fresh.codes], how="horizontal")
    return Encoded(
        codes.select(sorted(columns)),
        {g: dictionaries[g] for g in set(groups.values())},
        groups,
    )


# pairs compared at a time: every comparison is row-wise, so chunks only bound the memory of
# the gathered values and their temporaries (distinct value pairs are scored once per chunk)
COMPARE_CHUNK_PAIRS = 2_000_000


def compare_pairs(enc: Encoded, pairs: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    """One Int8 level column per field, aligned with `pairs`.

    Values are gathered per chunk of pairs and per field and dropped after, to keep peak
    memory low.
    """
    parts = key_set_parts(enc.codes)
    if pairs.height <= COMPARE_CHUNK_PAIRS:
        return _compare_chunk(enc, pairs, fields, parts)
    chunks = [
        _compare_chunk(enc, pairs.slice(start, COMPARE_CHUNK_PAIRS), fields, parts)
        for start in range(0, pairs.height, COMPARE_CHUNK_PAIRS)
    ]
    return pl.concat(chunks, rechunk=True)


def _compare_chunk(
    enc: Encoded, pairs: pl.DataFrame, fields: list[str], parts: pl.DataFrame
) -> pl.DataFrame:
    """Every column the fields read gathered once for the chunk; each field reads its own."""
    read = {c for f in fields for c in COMPARISONS[f].columns}
    names = bool(set(NAME_FIELDS) & set(fields))
    values = pair_frame(enc.codes, pairs, read | (set(NAME_COLUMNS) if names else set()), parts)
    swap = None
    if names:
        swap = swapped(values.select(f"{c}_{s}" for s in "lr" for c in sorted(NAME_COLUMNS)), enc)
    out = []
    for f in fields:
        side = values.select(pair_columns(enc.codes, COMPARISONS[f].columns))
        if swap is not None and f in NAME_FIELDS:
            side = side.with_columns(swap)
        out.append(COMPARISONS[f].compare(side, enc).alias(f))
    return pl.DataFrame(out)
