"""Every query of README's "Analyst questions" runs against a real warehouse and answers."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def analyst_questions() -> list[tuple[str, str]]:
    """(question, query) pairs of the README section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Analyst questions", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"\*\*(.+?)\*\*\s*```sql\n(.*?)```", section, flags=re.S)


def test_the_readme_asks_the_analyst_questions_the_issue_names() -> None:
    queries = " ".join(query for _, query in analyst_questions())
    assert len(analyst_questions()) >= 8
    for name in (
        "master.customer_360",
        "tmf.customer",
        "source.customer",
        "attribute_lineage",
        "consent_feed",
        "quality.match_review",
        "quality.rejected",
    ):
        assert name in queries


@pytest.mark.parametrize(
    ("question", "query"), analyst_questions(), ids=[q for q, _ in analyst_questions()]
)
def test_readme_query_answers_its_question(sample_run, question: str, query: str) -> None:
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        rows = con.execute(query).fetchall()
    assert rows, f"no answer to: {question}"
