"""Standard forms of names and addresses (quality_rules/standardization.yaml), as expressions."""

from __future__ import annotations

from functools import cache

import polars as pl

from crm_pipelines.match.config import nickname_pairs, standardization


def fold(expr: pl.Expr, keep: str = "") -> pl.Expr:
    """Lower-case, strip diacritics, turn punctuation (except `keep`) into single spaces."""
    extra = standardization()["extra_folds"]
    out = expr.str.to_lowercase().str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    out = out.str.replace_many(list(extra), list(extra.values()))
    out = out.str.replace_all(rf"[^a-z0-9{keep}]+", " ").str.strip_chars()
    return pl.when(out != "").then(out)


CONSONANTS = "bcdfghjklmnpqrstvwxz"


def consonant_skeleton(folded: pl.Expr) -> pl.Expr:
    """A folded name's first letter and then its consonants, each run of one letter once:
    Hilton / Hilotn -> hltn, Connor / Conor -> cnr, Dvořák / Dvorak -> dvrk -- what survives
    a mistyped or dropped vowel, a doubled letter, a y for an i or lost diacritics."""
    letters = folded.str.replace_all(r"[^a-z]", "")
    rest = letters.str.slice(1).str.replace_all(r"[aeiouy]", "")
    rest = rest.str.replace_many([c + c for c in CONSONANTS], list(CONSONANTS))
    skeleton = letters.str.slice(0, 1) + rest
    return pl.when(skeleton.str.len_chars() >= 2).then(skeleton)


def _strip_suffix(expr: pl.Expr, suffix: str, replace: str) -> pl.Expr:
    return expr.str.slice(0, expr.str.len_chars() - len(suffix)) + replace


def _suffix_applies(expr: pl.Expr, suffix: str) -> pl.Expr:
    return expr.str.ends_with(suffix) & (expr.str.len_chars() > len(suffix) + 2)


def with_surname_stem(frame: pl.DataFrame, folded: str, out: str) -> pl.DataFrame:
    """Gender-neutral stem: Nováková, Novák -> novak; Novotná, Novotný -> novotn.

    Applied column by column (not as one nested expression) to keep the plan small.
    """
    rules = standardization()["surname"]
    col = pl.col(folded)
    chain = None
    for rule in rules["stem_suffix_rules"]:
        cond, new = (
            _suffix_applies(col, rule["suffix"]),
            _strip_suffix(col, rule["suffix"], rule["replace"]),
        )
        chain = pl.when(cond).then(new) if chain is None else chain.when(cond).then(new)
    frame = frame.with_columns((col if chain is None else chain.otherwise(col)).alias(out))
    for rule in rules["stem_vowel_drop_rules"]:
        stem = pl.col(out)
        frame = frame.with_columns(
            pl.when(_suffix_applies(stem, rule["suffix"]))
            .then(_strip_suffix(stem, rule["suffix"], rule["replace"]))
            .otherwise(stem)
            .alias(out)
        )
    return frame


def surname_gender(original: pl.Expr, folded: pl.Expr) -> pl.Expr:
    """F for a female form (-ová, -á), M for a male form, U when unknown (Svoboda, ASCII -a)."""
    rules = standardization()["surname"]
    lower = original.str.strip_chars().str.to_lowercase()
    female = pl.any_horizontal(
        *[folded.str.ends_with(e) for e in rules["female_folded_endings"]],
        *[lower.str.ends_with(e) for e in rules["female_original_endings"]],
    )
    male = pl.any_horizontal(
        *[lower.str.ends_with(e) for e in rules["male_original_endings"]],
        ~folded.str.ends_with("a"),
    )
    return (
        pl.when(folded.is_null())
        .then(None)
        .when(female)
        .then(pl.lit("F"))
        .when(male)
        .then(pl.lit("M"))
        .otherwise(pl.lit("U"))
    )


@cache
def _nickname_rows() -> pl.DataFrame:
    """quality_rules/nicknames.csv as (written: the nickname lower-cased, nick and name:
    both folded)."""
    pairs = nickname_pairs()
    written = pl.Series("written", [nick for nick, _ in pairs], dtype=pl.String)
    return pl.DataFrame(
        {"written": written.str.to_lowercase(), "nick": written, "name": [m for _, m in pairs]}
    ).with_columns(fold(pl.col("nick")).alias("nick"), fold(pl.col("name")).alias("name"))


@cache
def nickname_table() -> pl.DataFrame:
    """Folded (nick, name) pairs from quality_rules/nicknames.csv."""
    return _nickname_rows().select("nick", "name").unique()


def canonical_first_name(folded: pl.Expr, written: pl.Expr | None = None) -> pl.Expr:
    """Nickname -> formal name (Honza -> jan), compared folded.

    Only unambiguous nicknames are rewritten: not one listed for two names (Péťa: Petr,
    Petra) and not one that is itself a formal name (Dana); the comparison still knows them.
    Two nicknames one fold apart (Jirka: Jiří, Jiřka: Jiřina) are told apart by the
    `written` form, lower-cased; a record without diacritics means the plain one."""
    mapping, by_writing = _nickname_mappings()
    canon = folded.replace(mapping)
    if written is None or not by_writing:
        return canon
    exact = written.str.to_lowercase().replace_strict(by_writing, default=None)
    return pl.coalesce(exact, canon)


@cache
def _nickname_mappings() -> tuple[dict[str, str], dict[str, str]]:
    """(folded nickname -> folded name, written nickname -> folded name): the first for every
    nickname of one name (or, among forms one fold apart, the plain form's name), the second
    for the forms one fold apart."""
    rows = _nickname_rows()
    formal = set(rows["name"].to_list())
    rows = rows.filter(~pl.col("nick").is_in(list(formal))).unique()
    one_name = pl.col("name").n_unique().over("written") == 1
    apart = rows.filter((pl.col("written").n_unique().over("nick") > 1) & one_name)
    plain = apart.filter(pl.col("written") == pl.col("nick"))
    single = rows.filter(pl.col("name").n_unique().over("nick") == 1).unique("nick")
    mapping = dict(zip(single["nick"], single["name"], strict=True))
    mapping |= dict(zip(plain["nick"], plain["name"], strict=True))
    by_writing = dict(zip(apart["written"], apart["name"], strict=True))
    return mapping, by_writing


def first_name_is_female(canon: pl.Expr) -> pl.Expr:
    """A listed name's own gender; else a Czech / Slovak guess from the ending."""
    rules = standardization()["first_name"]
    guess = (
        canon.str.ends_with("a") & ~canon.is_in(rules["male_names_ending_in_a"])
    ) | canon.is_in(rules["female_names_not_ending_in_a"])
    return (
        pl.when(canon.is_in(rules["known_female"]))
        .then(True)
        .when(canon.is_in(rules["known_male"]))
        .then(False)
        .otherwise(guess)
    )


def first_name_gender_is_known(canon: pl.Expr) -> pl.Expr:
    """Whether the name's gender is more than a guess: a name of the calendars, or of the
    gender lists. A misspelt name ("Jna", "Luciie") is in none and has no gender to clash."""
    rules = standardization()["first_name"]
    listed = {*rules["known_male"], *rules["known_female"]}
    listed |= {*rules["male_names_ending_in_a"], *rules["female_names_not_ending_in_a"]}
    return canon.is_in(sorted(listed))


def organization_name(original: pl.Expr) -> pl.Expr:
    """Folded name without its legal-form suffix (ACME s.r.o. ~ ACME spol. s r.o.)."""
    suffixes = standardization()["organization"]["legal_form_suffixes"]
    pattern = r"(\s|^)(" + "|".join(s.replace(" ", r"\s") for s in suffixes) + r")$"
    out = fold(original).str.replace(pattern, "").str.strip_chars()
    out = out.str.replace(r"\s+(spol|a)$", "").str.strip_chars()
    return pl.when(out == "").then(fold(original)).otherwise(out)


def organization_token(org_norm: pl.Expr) -> pl.Expr:
    """The first identity-carrying token: a cheap blocking key for organisation names."""
    stop = standardization()["organization"]["stop_tokens"]
    tokens = org_norm.str.split(" ").list.filter(
        ~pl.element().is_in(stop) & (pl.element().str.len_chars() > 1)
    )
    return tokens.list.first()


def city_name(original: pl.Expr) -> pl.Expr:
    """Folded city without its district: Praha 1, Praha 10 - Strašnice -> praha."""
    pattern = standardization()["address"]["city_district_pattern"]
    out = fold(original, keep=r"\-,").str.replace(pattern, "")
    out = out.str.replace_all(r"[\-,]", " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(out != "").then(out)


def street_name(original: pl.Expr) -> pl.Expr:
    """Folded street with abbreviations spelt out and the 'ul.'/'ulice' noise word dropped."""
    words = standardization()["address"]["street_words"]
    out = fold(original)
    for word, replacement in words.items():
        out = out.str.replace_all(rf"\b{word}\b", replacement)
    out = out.str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(out != "").then(out)


def building_number(house_number: pl.Expr) -> pl.Expr:
    """The building part of a Czech house number: 1234/5a -> 1234; 12a -> 12a; č.p. 7 -> 7."""
    before_slash = house_number.str.to_lowercase().str.split("/").list.first()
    return (
        before_slash.str.replace_all(r"\s", "")
        .str.extract(r"(\d+[a-z]?)$", 1)
        .fill_null(before_slash.str.extract(r"(\d+[a-z]?)", 1))
    )
