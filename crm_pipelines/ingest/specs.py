"""Feed specs: the data files under assets/feeds/ that say what each landing feed holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crm_pipelines.paths import ASSETS_DIR, load_yaml
from crm_pipelines.yaml_keys import GovernanceKeyError, unknown_keys

FEEDS = ("customer", "person", "account", "address", "lead", "campaign", "steward_decision")
COLUMN_KEYS = {
    "type": None,
    "required": {"when": None},
    "code_table": None,
    "references": {"by": None, "feeds": None},
    "on_unknown": None,
    "plausible": None,
    "not_before": None,
    "default": None,
    "max_length": None,
}
FEED_SPEC_KEYS = {
    "feed": None,
    "text_max_length": None,
    "columns": {"*": COLUMN_KEYS},
    "column_aliases": None,
    "required_any": None,
}


@dataclass(frozen=True)
class Reference:
    """A column naming a record of another feed in the same source system.

    `feeds` maps the code of the `by` column onto the feed it names ({"*": feed} when the
    target is always one feed); `rule_id` is the rule a dangling reference breaks -- its
    severity in rules.yaml decides: ERROR rejects the row, WARNING leaves the value out.
    """

    feeds: dict[str, str]
    by: str | None
    rule_id: str

    def targets(self) -> set[str]:
        return set(self.feeds.values())


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    required_when: dict[str, str] = field(default_factory=dict)
    code_table: str | None = None
    reference: Reference | None = None
    plausible: str | None = None
    not_before: str | None = None
    default: Any = None
    max_length: int | None = None  # string columns: longest text kept


@dataclass(frozen=True)
class FeedSpec:
    feed: str
    columns: dict[str, ColumnSpec]
    column_aliases: dict[str, str]
    required_any: list[list[str]]

    def of_type(self, *types: str) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.type in types]

    def references(self) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.reference is not None]


def _reference(feed: str, name: str, raw: dict[str, Any]) -> Reference | None:
    target, rule_id = raw.get("references"), raw.get("on_unknown")
    if target is None and rule_id is None:
        return None
    if target is None or not isinstance(rule_id, str):
        raise ValueError(f"feed spec {feed}.{name}: references and on_unknown go together")
    if isinstance(target, str):
        feeds, by = {"*": target}, None
    else:
        feeds, by = dict(target["feeds"]), target["by"]
    unknown = set(feeds.values()) - set(FEEDS)
    if unknown:
        raise ValueError(f"feed spec {feed}.{name}: references unknown feeds {sorted(unknown)}")
    return Reference(feeds, by, rule_id)


def _column(feed: str, name: str, raw: dict[str, Any], text_max_length: int) -> ColumnSpec:
    required = raw.get("required", False)
    when = required.get("when", {}) if isinstance(required, dict) else {}
    max_length = raw.get("max_length", text_max_length if raw["type"] == "string" else None)
    return ColumnSpec(
        name=name,
        type=raw["type"],
        required=required is True,
        required_when=when,
        code_table=raw.get("code_table"),
        reference=_reference(feed, name, raw),
        plausible=raw.get("plausible"),
        not_before=raw.get("not_before"),
        default=raw.get("default"),
        max_length=max_length,
    )


@cache
def feed_spec(feed: str) -> FeedSpec:
    path = ASSETS_DIR / "feeds" / f"{feed}.yaml"
    problems = unknown_keys(path, FEED_SPEC_KEYS)  # a misspelt key must not pass unread
    if problems:
        raise GovernanceKeyError("; ".join(problems))
    raw = load_yaml(path)
    text_max_length = raw.get("text_max_length")
    if not isinstance(text_max_length, int) or text_max_length < 1:
        raise ValueError(f"{path}: text_max_length (a positive integer) is required")
    return FeedSpec(
        feed=raw["feed"],
        columns={
            name: _column(feed, name, col, text_max_length) for name, col in raw["columns"].items()
        },
        column_aliases={k.lower(): v for k, v in (raw.get("column_aliases") or {}).items()},
        required_any=raw.get("required_any") or [],
    )


def reference_order() -> list[str]:
    """Feeds in an order where every referenced feed comes before the feeds naming it."""
    pending = {
        feed: {t for c in feed_spec(feed).references() for t in c.reference.targets()}
        for feed in FEEDS
    }
    order: list[str] = []
    while pending:
        ready = [f for f in FEEDS if f in pending and pending[f] <= set(order)]
        if not ready:
            raise ValueError(f"feed specs: references form a cycle among {sorted(pending)}")
        order.append(ready[0])
        del pending[ready[0]]
    return order
