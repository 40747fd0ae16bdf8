"""A file's header onto the contract: which position feeds which contract column.

Names compare trimmed and lower-cased, and a source's own names map through the feed spec's
column aliases. Two header columns that land on one contract column (`email` and `EMAIL`,
`email` twice, `source_id` and its alias `customer_id`) make the file unreadable: their
values may disagree and taking either would publish a guess, so the file is quarantined
with both names in the reason and the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_pipelines.ingest.specs import FeedSpec


@dataclass(frozen=True)
class HeaderPlan:
    contract: list[str | None]  # contract column per header position; None = not a contract column
    ignored: list[str]  # header names that are not contract columns (feeds.md: ignored)
    problem: str | None  # why the file cannot be read, or None


def normalised(name: str) -> str:
    return name.strip().lower()


def plan_header(header: list[str], spec: FeedSpec) -> HeaderPlan:
    contract: list[str | None] = []
    ignored: list[str] = []
    claimed: dict[str, list[str]] = {}
    for name in header:
        key = normalised(name)
        column = key if key in spec.columns else spec.column_aliases.get(key)
        contract.append(column)
        if column is None:
            ignored.append(name)
        else:
            claimed.setdefault(column, []).append(name)
    collisions = {column: names for column, names in claimed.items() if len(names) > 1}
    problem = None
    if collisions:
        problem = (
            "header collision: "
            + "; ".join(
                f"columns {', '.join(repr(n) for n in names)} all map to contract column {column}"
                for column, names in sorted(collisions.items())
            )
            + " (the values may disagree, so neither is taken)"
        )
    return HeaderPlan(contract, ignored, problem)
