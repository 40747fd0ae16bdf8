"""Feed specs: the data files under assets/feeds/ that say what each landing feed holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from crm_pipelines.paths import ASSETS_DIR, load_yaml

FEEDS = ("customer", "person", "account", "address", "lead", "campaign", "steward_decision")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = False
    required_when: dict[str, str] = field(default_factory=dict)
    code_table: str | None = None
    references: str | None = None
    on_unknown: str = "reject"
    plausible: str | None = None
    not_before: str | None = None
    default: Any = None


@dataclass(frozen=True)
class FeedSpec:
    feed: str
    columns: dict[str, ColumnSpec]
    column_aliases: dict[str, str]
    required_any: list[list[str]]

    def of_type(self, *types: str) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.type in types]


def _column(name: str, raw: dict[str, Any]) -> ColumnSpec:
    required = raw.get("required", False)
    when = required.get("when", {}) if isinstance(required, dict) else {}
    return ColumnSpec(
        name=name,
        type=raw["type"],
        required=required is True,
        required_when=when,
        code_table=raw.get("code_table"),
        references=raw.get("references"),
        on_unknown=raw.get("on_unknown", "reject"),
        plausible=raw.get("plausible"),
        not_before=raw.get("not_before"),
        default=raw.get("default"),
    )


@cache
def feed_spec(feed: str) -> FeedSpec:
    raw = load_yaml(ASSETS_DIR / "feeds" / f"{feed}.yaml")
    return FeedSpec(
        feed=raw["feed"],
        columns={name: _column(name, col) for name, col in raw["columns"].items()},
        column_aliases={k.lower(): v for k, v in (raw.get("column_aliases") or {}).items()},
        required_any=raw.get("required_any") or [],
    )
