"""quality.match_review shows a steward both records: compared values, levels, a rounded
probability and a reason that names the third record of an ambiguous attachment."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from crm_pipelines.match.ambiguity import (
    AMBIGUOUS_NOTE,
    demote_ambiguous_attachments,
    name_the_third,
)
from crm_pipelines.match.settings import entity_settings
from crm_pipelines.stewardship.review import probability_pct


@pytest.fixture(scope="module")
def review(sample_run) -> pl.DataFrame:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        return con.sql("SELECT * FROM quality.match_review").pl()


def test_every_pair_shows_each_compared_field_with_a_level_and_both_values(review) -> None:
    assert review.height > 0
    fields = review.select("entity", "fields").explode("fields").unnest("fields")
    assert set(fields["level"].unique()) <= {"same", "similar", "different", "missing"}
    shown = set(fields.filter(pl.col("entity") == "person")["field"])
    assert set(entity_settings("person").comparisons) <= shown
    exact_same = fields.filter(
        pl.col("field").is_in(["phone", "national_id", "party_type"]) & (pl.col("level") == "same")
    )
    assert exact_same.height > 0
    assert (exact_same["left_value"] == exact_same["right_value"]).all()
    # "different" needs two values; "missing" lacks one
    assert fields.filter(pl.col("level") == "different")["left_value"].null_count() == 0
    # (for a plain field; derived ones -- the buildings of home / address -- are shown as
    # the records' address lines, which need not all be comparable buildings)
    derived = ["home", "address", "customer", "place"]
    missing = fields.filter((pl.col("level") == "missing") & ~pl.col("field").is_in(derived))
    assert (missing["left_value"].is_null() | missing["right_value"].is_null()).all()


def test_a_customer_value_taken_from_its_holder_is_marked() -> None:
    """A customer row without a mailbox shows its holder's, as matching compared it."""
    from crm_pipelines.staged import conform
    from crm_pipelines.stewardship.review import record_values

    def frame(entity: str, rows: list[dict]) -> pl.DataFrame:
        built = pl.DataFrame(rows).with_columns(
            (pl.col("source_system") + "|" + pl.col("source_id")).alias("record_key")
        )
        return conform(entity, built)

    customer = {"source_system": "BSS", "source_id": "C1", "party_type": "INDIVIDUAL"}
    customer |= {"first_name": "Eva", "last_name": "Horká", "phone": "+420603111222"}
    holder = {"source_system": "BSS", "source_id": "P1", "customer_source_id": "C1"}
    holder |= {"role_type": "OWNER", "first_name": "Eva", "last_name": "Horká"}
    holder |= {"email": "eva.horka@seznam.cz"}
    staged = {
        "customer": frame("customer", [customer]),
        "person": frame("person", [holder]).with_columns(pl.lit("person_feed").alias("origin")),
        "address": conform(
            "address", pl.DataFrame({"record_key": []}, schema={"record_key": pl.String})
        ),
    }
    values = record_values("customer", pl.Series(["BSS|C1"]), staged)
    shown = dict(zip(values["field"], values["value"], strict=True))
    assert shown["email"] == "eva.horka@seznam.cz (holder)"
    assert shown["phone"] == "+420603111222"  # the row's own value, unmarked


def test_probability_is_rounded_and_never_shown_certain_when_the_score_is_not(review) -> None:
    # 100 only when the model itself is certain (a guard, not the score, held the pair back)
    below_one = review.filter(pl.col("score") < 1)
    assert below_one.height > 0 and (below_one["probability_pct"] < 100).all()
    assert (
        below_one["probability_pct"] == (below_one["score"] * 100).round(1).clip(upper_bound=99.9)
    ).all()
    near = pl.DataFrame({"score": [0.9999999999991265, 0.876543, 1.0]})
    shown = near.select(probability_pct(pl.col("score")).alias("pct"))["pct"].to_list()
    assert shown == [99.9, 87.7, 100.0]


def test_the_reason_of_an_ambiguous_attachment_names_the_third_record() -> None:
    """Father and son kept apart; a bare record meets both evenly (both edges asked), another
    meets the father far likelier (it joins him; only its edge to the son is asked) -- each
    asked edge names the record it would also join, whether that edge is asked or not."""
    keys = pl.Series(["B|father", "C|son", "A|bare", "D|bare2"])
    scored = pl.DataFrame(
        {
            "l": [0, 0, 1, 0, 1],
            "r": [1, 2, 2, 3, 3],
            "decision": ["NO_MATCH", "MATCH", "MATCH", "MATCH", "MATCH"],
            "log2_odds": [-20.0, 9.0, 8.0, 30.0, 8.0],
            "veto": [True, False, False, False, False],
            "forced": [False] * 5,
            "note": [None] * 5,
        },
        schema_overrides={"l": pl.UInt32, "r": pl.UInt32, "note": pl.String},
    ).with_columns(pl.col("veto").alias("veto_identity"))
    out, demoted = demote_ambiguous_attachments(scored, decisive_margin=10)
    evidence = "same first name and surname"
    asked = out.filter(pl.col("decision") == "REVIEW").with_columns(
        pl.format("{}; " + evidence, "note").alias("reason")
    )
    named = asked.with_columns(name_the_third(pl.col("reason"), keys))
    pairs = zip(named["l"], named["r"], strict=True)
    reasons = dict(zip(pairs, named["reason"], strict=True))
    assert demoted == 3
    assert reasons == {
        (0, 2): f"ambiguous: A|bare also matches C|son, kept apart from B|father; {evidence}",
        (1, 2): f"ambiguous: A|bare also matches B|father, kept apart from C|son; {evidence}",
        (1, 3): f"ambiguous: D|bare2 also matches B|father, kept apart from C|son; {evidence}",
    }


def test_no_reason_in_the_queue_leaves_the_third_record_unnamed(review) -> None:
    assert not review["reason"].str.contains(AMBIGUOUS_NOTE, literal=True).any()
    named = review.filter(pl.col("reason").str.starts_with("ambiguous:"))
    assert named.height > 0
