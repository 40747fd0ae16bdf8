"""A record meeting two records kept apart: a steward's call, unless one side wins clearly."""

from __future__ import annotations

import polars as pl

from crm_pipelines.match.ambiguity import AMBIGUOUS_NOTE, demote_ambiguous_attachments
from crm_pipelines.match.settings import entity_settings


def _scored(edges: list[tuple[int, int, str, float, bool]]) -> pl.DataFrame:
    """l, r, decision, log2_odds, veto (an identity veto) per edge."""
    left, right, decision, odds, veto = zip(*edges, strict=True)
    return pl.DataFrame(
        {
            "l": left,
            "r": right,
            "decision": decision,
            "log2_odds": odds,
            "veto": veto,
            "veto_identity": veto,
            "forced": [False] * len(edges),
            "note": [None] * len(edges),
        },
        schema_overrides={"l": pl.UInt32, "r": pl.UInt32, "note": pl.String},
    )


def test_a_record_far_likelier_one_side_joins_it_an_even_one_goes_to_review() -> None:
    """0 (the father's birth date, name, building) and 1 (the son's name, building) are kept
    apart; record 2 meets the father at 30 bits, the son at 8: it joins the father and only
    its edge to the son is asked about. Record 3 meets them at 9 and 8 bits: both asked."""
    margin = entity_settings("person").decisive_margin_bits
    assert 30 - 8 >= margin > 9 - 8
    scored = _scored(
        [
            (0, 1, "NO_MATCH", -20.0, True),
            (0, 2, "MATCH", 30.0, False),
            (1, 2, "MATCH", 8.0, False),
            (0, 3, "MATCH", 9.0, False),
            (1, 3, "MATCH", 8.0, False),
        ]
    )
    out, demoted = demote_ambiguous_attachments(scored, margin)
    decisions = {(a, b): d for a, b, d in out.select("l", "r", "decision").iter_rows()}
    assert demoted == 3
    assert decisions[(0, 2)] == "MATCH" and decisions[(1, 2)] == "REVIEW"
    assert decisions[(0, 3)] == decisions[(1, 3)] == "REVIEW"
    assert set(out.filter(pl.col("decision") == "REVIEW")["note"]) == {AMBIGUOUS_NOTE}
