"""Field comparisons: each maps a candidate pair to a small agreement level (0 = missing).

Pairs carry integer codes (see encode.py); fuzzy scores run through rapidfuzz
`process.cpdist` once per distinct pair of differing values, not once per candidate pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz

from crm_pipelines.match.address_compare import compare_building, compare_postcode
from crm_pipelines.match.config import similarity_cutoff
from crm_pipelines.match.encode import Encoded, encode
from crm_pipelines.match.levels import left as _l
from crm_pipelines.match.levels import missing as _missing
from crm_pipelines.match.levels import pair_levels as _levels
from crm_pipelines.match.levels import right as _r
from crm_pipelines.match.similarity import JW, OSA, code_similarity
from crm_pipelines.match.standardize import nickname_table


def _sim(p: pl.DataFrame, enc: Encoded, column: str, scorer: Callable = JW) -> pl.Series:
    return code_similarity(p[f"{column}_l"], p[f"{column}_r"], enc.text(column), scorer)


def compare_exact(column: str) -> Callable[[pl.DataFrame, Encoded], pl.Series]:
    def compare(p: pl.DataFrame, enc: Encoded) -> pl.Series:
        return _levels(p, [_l(column) == _r(column)], _missing(column))

    return compare


def close(p: pl.DataFrame, enc: Encoded, left: str, right: str) -> pl.Series:
    """Typo-close: Jaro-Winkler at the swapped-name cut-off, or one edit on names of three
    or more letters."""
    text = enc.text(left.removesuffix("_l"))
    jw = code_similarity(p[left], p[right], text)
    edits = code_similarity(p[left], p[right], text, OSA)
    lengths = text.str.len_chars()
    shortest = pl.min_horizontal(lengths.gather(p[left]), lengths.gather(p[right]))
    frame = pl.DataFrame({"jw": jw, "edits": edits, "n": pl.select(shortest).to_series()})
    return frame.select(
        (
            (pl.col("jw") >= similarity_cutoff("swapped_name_jw"))
            | ((pl.col("edits") <= 1) & (pl.col("n") >= 3))
        ).fill_null(False)
    ).to_series()


def names_swapped(a: Callable[[str], pl.Expr], b: Callable[[str], pl.Expr]) -> pl.Expr:
    """First and last name exchanged between side `a` and side `b` (each a column getter),
    read through the canonical forms (nicknames, female surname forms)."""
    return ((a("fn_canon") == b("ln_as_fn_canon")) & (a("ln_stem") == b("fn_as_ln_stem"))) | (
        (b("fn_canon") == a("ln_as_fn_canon")) & (b("ln_stem") == a("fn_as_ln_stem"))
    )


def swapped(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """First and last name exchanged on one side (nicknames, female forms, a typo allowed)."""
    exact = p.select(names_swapped(_l, _r).fill_null(False)).to_series()
    # fuzzy only where the straight reading disagrees and one of the crossed names is exact
    # (a swap plus one typo): keeps the fuzzy work to a small share of the pairs
    first = enc.text("fn_canon")
    candidates = p.with_row_index("_i").filter(
        ~exact
        & (_l("fn_canon") != _r("fn_canon"))
        & ((_l("fn_canon") == _r("ln_as_fn_canon")) | (_l("ln_stem") == _r("fn_as_ln_stem")))
    )
    result = exact.to_numpy().copy()
    if candidates.height and first.len():
        # ... or a swap plus a nickname ("Štěpánková Kateřina" ~ "Katka Štěpánková")
        nickname = candidates.select(
            _nickname_pair(candidates, enc, ("ln_as_fn_canon",), ("fn_fold", "fn_canon"))
        ).to_series()
        fuzzy = close(candidates, enc, "fn_canon_l", "ln_as_fn_canon_r") & (
            close(candidates, enc, "ln_stem_l", "fn_as_ln_stem_r") | nickname
        )
        result[candidates["_i"].filter(fuzzy).to_numpy()] = True
    found = np.flatnonzero(result)
    if len(found):
        result[found[_crosses_gender(p[found], enc).to_numpy()]] = False
    return pl.Series("_swapped", result)


def _female_form(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """b is a's female form or the reverse: Jan ~ Jana, Procházka ~ Procházková (folded)."""

    def one_way(x: pl.Expr, y: pl.Expr) -> pl.Expr:
        return (y == x + "a") | (y == x + "ova") | (y == x.str.strip_suffix("a") + "ova")

    return one_way(a, b) | one_way(b, a)


def _crosses_gender(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    """A swapped reading that pairs a name with its female form is a man and a woman of one
    family (twins Jan and Jana Procházka), not one person with names exchanged."""
    first, last = enc.text("fn_fold"), enc.text("ln_fold")
    names = pl.DataFrame(
        {
            "fn_l": first.gather(p["fn_fold_l"]),
            "ln_l": last.gather(p["ln_fold_l"]),
            "fn_r": first.gather(p["fn_fold_r"]),
            "ln_r": last.gather(p["ln_fold_r"]),
        }
    )
    return names.select(
        (
            _female_form(pl.col("fn_l"), pl.col("ln_r"))
            | _female_form(pl.col("ln_l"), pl.col("fn_r"))
        ).fill_null(False)
    ).to_series()


def _nickname_pair(
    p: pl.DataFrame,
    enc: Encoded,
    left: tuple[str, ...] = ("fn_fold", "fn_canon"),
    right: tuple[str, ...] = ("fn_fold", "fn_canon"),
) -> pl.Expr:
    """Known nickname pair (Péťa ~ Petr, Míša ~ Michaela) as u64 code-pair keys, between
    the `left` columns of one side and the `right` columns of the other (one dictionary)."""
    table = nickname_table()
    nick = enc.code_of("fn_fold", table["nick"].to_list()).cast(pl.UInt64)
    name = enc.code_of("fn_fold", table["name"].to_list()).cast(pl.UInt64)
    keys = pl.concat([nick * (1 << 32) + name, name * (1 << 32) + nick]).drop_nulls()
    found = [
        (_l(a).cast(pl.UInt64) * (1 << 32) + _r(b).cast(pl.UInt64)).is_in(keys.implode())
        for a in left
        for b in right
    ]
    return pl.any_horizontal(found)


def compatible_names(p: pl.DataFrame, enc: Encoded, column: str) -> pl.Series:
    """One name holds the other: a second given name or a double surname ("jan pavel" ~
    "pavel", "novakova svobodova" ~ "svobodova") or an initial ("j" ~ "jan").

    Decided once per distinct pair of differing codes, then joined back to the pairs."""
    frame = pl.DataFrame({"a": p[f"{column}_l"], "b": p[f"{column}_r"]})
    distinct = frame.drop_nulls().filter(pl.col("a") != pl.col("b")).unique()
    text = enc.text(column)
    a = pl.lit(text.gather(distinct["a"])).str.split(" ")
    b = pl.lit(text.gather(distinct["b"])).str.split(" ")
    shared = a.list.set_intersection(b).list.len()
    shorter = pl.min_horizontal(a.list.len(), b.list.len())
    first_a, first_b = a.list.first(), b.list.first()
    initial = ((first_a.str.len_chars() == 1) & first_b.str.starts_with(first_a)) | (
        (first_b.str.len_chars() == 1) & first_a.str.starts_with(first_b)
    )
    contained = (shared == shorter) & (pl.max_horizontal(a.list.len(), b.list.len()) > 1)
    distinct = distinct.with_columns((contained | initial).alias("ok"))
    out = frame.join(distinct, on=["a", "b"], how="left", maintain_order="left")
    return out["ok"].fill_null(False)


def compare_first_name(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    lengths = enc.text("fn_canon").str.len_chars()
    p = p.with_columns(
        _sim(p, enc, "fn_canon").alias("_jw"),
        _sim(p, enc, "fn_canon", OSA).alias("_edits"),
        lengths.gather(p["fn_canon_l"]).alias("_len_l"),
        lengths.gather(p["fn_canon_r"]).alias("_len_r"),
    )
    one_edit = (pl.col("_edits") <= 1) & (pl.min_horizontal("_len_l", "_len_r") >= 3)
    # Jan ~ Jana, Pavel ~ Pavla, Michal ~ Michaela: one stem, two genders -- a man and a
    # woman of one family (twins), never a typo of one person; so are two close names of
    # known, different genders (Jiří ~ Jiřina, Milan ~ Milena, Antonín ~ Antonie). The
    # apparent gender of a misspelt or cut-off name proves nothing: Luciie is Lucie, and
    # "Sar" or "Kirr" (a field cut short) is Sara, Kirra -- no man's name.
    genders_differ = (_l("fn_female") != _r("fn_female")) & (_l("fn_canon") != _r("fn_canon"))
    close = (pl.col("_jw") >= similarity_cutoff("first_name_typo_jw")) | one_edit
    both_known = _l("fn_gender_known") & _r("fn_gender_known")
    # Karel / Karla: the man's name is a known one; "Sar" / Sara is a name cut short
    male_side_known = (
        pl.when(_l("fn_female")).then(_r("fn_gender_known")).otherwise(_l("fn_gender_known"))
    )
    other_form = (
        genders_differ
        & (((_l("fn_canon_stem") == _r("fn_canon_stem")) & male_side_known) | (close & both_known))
    ).fill_null(False)
    typo = close & ~other_form
    return _levels(
        p,
        [
            _l("fn_fold") == _r("fn_fold"),
            (_l("fn_canon") == _r("fn_canon"))
            | pl.col("_swapped")
            | _nickname_pair(p, enc)
            | pl.lit(compatible_names(p, enc, "fn_fold")),
            typo,
            other_form,
        ],
        _missing("fn_fold"),
    )


def compare_last_name(p: pl.DataFrame, enc: Encoded) -> pl.Series:
    p = p.with_columns(_sim(p, enc, "ln_fold").alias("_jw"))
    close = pl.col("_jw") >= similarity_cutoff("last_name_similar_jw")
    # Novák / Nováková is a man and a woman -- unless both records name the same woman:
    # foreign and old systems strip "-ová", and since 2022 a Czech woman may use the
    # masculine form (Kateřina Novák)
    one_woman = (_l("fn_canon") == _r("fn_canon")) & _l("fn_female") & _r("fn_female")
    gender_clash = (
        ((_l("ln_gender") == "F") & (_r("ln_gender") == "M"))
        | ((_l("ln_gender") == "M") & (_r("ln_gender") == "F"))
    ) & ~one_woman.fill_null(False)
    return _levels(
        p,
        [
            _l("ln_fold") == _r("ln_fold"),
            ((_l("ln_stem") == _r("ln_stem")) & ~gender_clash)
            | pl.col("_swapped")
            | pl.lit(compatible_names(p, enc, "ln_fold")),
            close & ~gender_clash,
            (_l("ln_stem") == _r("ln_stem")) | close,
            # one woman's name, another surname in the female form: a Czech or Slovak woman
            # takes her husband's name, a man keeps his -- weighed by the model apart from
            # any other difference
            (one_woman & (_l("ln_gender") == "F") & (_r("ln_gender") == "F")).fill_null(False),
        ],
        _missing("ln_fold"),
    )


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
    """missing / different / same over both contacts: missing unless each record carries a
    phone or an e-mail; same when either agrees. Two records from systems that hold contacts
    and share none are told apart by them; records without any (old extracts) are not."""
    has_l = _l("email").is_not_null() | _l("phone").is_not_null()
    has_r = _r("email").is_not_null() | _r("phone").is_not_null()
    agree = (_l("email") == _r("email")) | (_l("phone") == _r("phone"))
    return _levels(p, [agree], ~(has_l & has_r))


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


def shares_a_key(p: pl.DataFrame, enc: Encoded, column: str) -> pl.Series:
    """Whether the two records' sets of keys (a list column) share one; false when either
    has none. Most records hold a few keys (an address's three building keys): their first
    HEAD_KEYS keys are compared crosswise, and the whole sets only where a record holds
    more (see pair_frame)."""
    n_l, n_r = p[f"{column}:n_l"], p[f"{column}:n_r"]
    heads = [f"{column}:{i}" for i in range(HEAD_KEYS)]
    crossed = [p[f"{a}_l"] == p[f"{b}_r"] for a in heads for b in heads]
    shared = pl.select(pl.any_horizontal(crossed).fill_null(False)).to_series().to_numpy().copy()
    longer = (((n_l > HEAD_KEYS) | (n_r > HEAD_KEYS)) & (n_l > 0) & (n_r > 0)).fill_null(False)
    rows = np.flatnonzero(longer.to_numpy())
    if len(rows):
        keys = enc.codes[column]
        left = keys.gather(p["_row_l"].gather(rows))
        right = keys.gather(p["_row_r"].gather(rows))
        shared[rows] = (left.list.set_intersection(right).list.len() > 0).fill_null(False)
    return pl.Series(shared)


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
        ("missing", "different", "gender_mismatch", "similar", "alike", "same"),
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
    # for vetoes only: does each record carry a contact, and do any agree
    "contacts": Comparison("contacts", EXACT, ("email", "phone"), compare_contacts),
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


# keys of a set compared crosswise per pair (shares_a_key); longer sets as whole lists
HEAD_KEYS = 3


def key_set_parts(codes: pl.DataFrame) -> pl.DataFrame:
    """Per record, each list column's size `<c>:n` and first HEAD_KEYS keys `<c>:<i>`
    (null past its end): computed once per comparison, not once per chunk and side."""
    listed = [c for c, dtype in codes.schema.items() if isinstance(dtype, pl.List)]
    return codes.select(
        expr
        for c in listed
        for expr in (
            pl.col(c).list.len().alias(f"{c}:n"),
            *[pl.col(c).list.get(i, null_on_oob=True).alias(f"{c}:{i}") for i in range(HEAD_KEYS)],
        )
    )


def pair_frame(
    codes: pl.DataFrame,
    pairs: pl.DataFrame,
    columns: set[str],
    parts: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Left and right values side by side for each pair (gathered by row index).

    A list column (a set of keys) comes as its size `<c>:n` and first HEAD_KEYS keys
    `<c>:<i>` (key_set_parts; `parts` when the caller computed them), with the pair's row
    indices `_row_l`, `_row_r`: gathering the lists of every pair cost more than the rest
    of the comparison (shares_a_key reads the few longer sets)."""
    left, right = pairs["l"], pairs["r"]
    sides: list[pl.Series] = []
    listed = sorted(c for c in columns if isinstance(codes.schema[c], pl.List))
    if listed and parts is None:
        parts = key_set_parts(codes.select(listed))
    for side, rows in (("l", left), ("r", right)):
        for c in sorted(columns):
            if c in listed:
                for part in (f"{c}:n", *[f"{c}:{i}" for i in range(HEAD_KEYS)]):
                    sides.append(parts[part].gather(rows).alias(f"{part}_{side}"))
            else:
                sides.append(codes[c].gather(rows).alias(f"{c}_{side}"))
    if listed:
        sides += [left.alias("_row_l"), right.alias("_row_r")]
    return pl.DataFrame(sides)


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
    names = None  # the name fields' columns, gathered once for the swap and both names
    swap = None
    if set(NAME_FIELDS) & set(fields):
        read = {c for f in NAME_FIELDS if f in fields for c in COMPARISONS[f].columns}
        names = pair_frame(enc.codes, pairs, read | set(NAME_COLUMNS))
        swap = swapped(names.select(f"{c}_{s}" for s in "lr" for c in sorted(NAME_COLUMNS)), enc)
    out = []
    for f in fields:
        if names is not None and f in NAME_FIELDS:
            read = [f"{c}_{s}" for s in "lr" for c in sorted(COMPARISONS[f].columns)]
            side = names.select(read).with_columns(swap)
        else:
            side = pair_frame(enc.codes, pairs, set(COMPARISONS[f].columns), parts)
        out.append(COMPARISONS[f].compare(side, enc).alias(f))
        del side
    return pl.DataFrame(out)
