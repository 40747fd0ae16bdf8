"""What a run did, in words an operator can act on: counts, identity changes, failed checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm_pipelines.validate.decision_rules import RULE_ID as DECISION_NOT_APPLIED

IDENTITY_METRICS = ("new_ids", "merges", "splits", "retired_ids", "dormant_ids", "revived_ids")
MATCH_STEPS = ("match_address", "match_customer", "match_person", "match_lead")


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    warehouse: Path
    as_of: dt.date
    failure: str = ""
    refused: bool = False  # another run held the lock
    counts: dict[str, int] = field(default_factory=dict)
    identity: dict[str, int] = field(default_factory=dict)
    campaigns: list[tuple] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    guard_breaches: list[str] = field(default_factory=list)
    exports: int = 0
    decisions_applied: int = 0
    decisions_not_applied: int = 0  # quality.finding DECISION_NOT_APPLIED: refused, ignored
    cleaned: list[str] = field(default_factory=list)
    pruned_runs: int = 0
    seconds: float = 0.0

    def summary_text(self) -> str:
        if not self.success:
            return self._failure_text()
        c, ids = self.counts, self.identity
        lines = [
            f"run {self.run_id} succeeded in {self.seconds:.1f} s; warehouse {self.warehouse} (as of {self.as_of})",
            f"  source rows in      {c.get('rows_in', 0):>10,}",
            f"  records (latest)    {c.get('records', 0):>10,}",
            f"  accepted            {c.get('accepted', 0):>10,}",
            f"  quarantined rows    {c.get('rejected', 0):>10,}   (quality.rejected, incl. {c.get('unreadable_files', 0)} unreadable files)",
            f"  warnings            {c.get('findings', 0):>10,}   (quality.finding)",
            f"  golden customers    {c.get('customer', 0):>10,}",
            f"  golden persons      {c.get('person', 0):>10,}",
            f"  golden accounts     {c.get('account', 0):>10,}",
            f"  golden addresses    {c.get('crm_address', 0):>10,}",
            f"  golden leads        {c.get('lead', 0):>10,}",
            f"  ids: new {ids.get('new_ids', 0):,}, merges {ids.get('merges', 0):,}, "
            f"splits {ids.get('splits', 0):,}, retired {ids.get('retired_ids', 0):,}, "
            f"dormant {ids.get('dormant_ids', 0):,}, revived {ids.get('revived_ids', 0):,}",
            f"  steward decisions applied {self.decisions_applied:,}",
            f"  {self.decisions_not_applied:,} steward decisions not applied"
            f"   (quality.finding {DECISION_NOT_APPLIED}: ignored until a steward resolves them)",
            f"  match review pairs  {c.get('match_review', 0):>10,}",
            f"  campaign targets    {c.get('campaign_target', 0):>10,}   in {self.exports} export files",
        ]
        for key, channel, targets, excluded in self.campaigns:
            lines.append(
                f"    {key:<28} {channel:<6} targets {targets:>8,}  excluded {excluded:>8,}"
            )
        errors = [c for c in self.failed_checks if "(ERROR" in c]
        lines.append(
            f"  failed checks: {len(errors)} of severity ERROR"
            + (f" ({'; '.join(errors)})" if errors else "")
            + f", {len(self.failed_checks) - len(errors)} warning checks with failing rows"
            " (quality.rule_result, quality.finding)"
        )
        lines += [f"  {line}" for line in self.cleaned]
        return "\n".join(lines)

    def _failure_text(self) -> str:
        if self.refused:
            return f"run REFUSED: {self.failure}"
        lines = [f"run {self.run_id} FAILED after {self.seconds:.1f} s: {self.failure}"]
        if self.guard_breaches:
            lines.append("circuit breaker (quality_rules/run_guards.yaml) stopped the run:")
            lines += [f"  - {breach}" for breach in self.guard_breaches]
            lines.append(
                "  a deliberate shrink is accepted with --accept-shrink FEED:SOURCE (e.g. customer:BSS)"
            )
        lines.append(
            f"nothing was published: the previous warehouse (if any) and the campaign exports are unchanged: {self.warehouse}"
        )
        return "\n".join(lines)


def _root_cause(error) -> str:
    """The innermost error message: what went wrong, not Dagster's wrapper around it."""
    while getattr(error, "cause", None) is not None or getattr(error, "context", None) is not None:
        error = error.cause or error.context
    return error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name


def _check_evaluations(result) -> list:
    return [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def _failed_checks(outcome: RunOutcome, result) -> None:
    """Failed checks as "name on asset (SEVERITY[, blocking])"; guard breaches in words."""
    for check in _check_evaluations(result):
        if check.passed:
            continue
        where = "/".join(check.asset_key.path)
        kind = check.severity.value + (", blocking" if check.blocking else "")
        outcome.failed_checks.append(f"{check.check_name} on {where} ({kind})")
        details = check.metadata.get("details")
        if details is not None and details.value:
            outcome.guard_breaches += str(details.value).splitlines()


def collect_failure(outcome: RunOutcome, result) -> None:
    failures = [
        f"{event.step_key}: {_root_cause(event.event_specific_data.error)}"  # type: ignore[union-attr]
        for event in result.all_events
        if event.is_step_failure
        and event.event_specific_data is not None
        and getattr(event.event_specific_data, "error", None)
        # a failed blocking check is reported below, with its name
        and event.event_specific_data.error.cls_name != "DagsterAssetCheckFailedError"
    ]
    _failed_checks(outcome, result)
    blocking = [c for c in outcome.failed_checks if c.endswith(", blocking)")]
    outcome.failure = (
        "; ".join(failures + [f"blocking check failed: {c}" for c in blocking])
        or "see the Dagster run log"
    )


def _metadata_sum(result, node: str, keys: tuple[str, ...]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for materialization in result.asset_materializations_for_node(node):
        for key in keys:
            if key in materialization.metadata:
                totals[key] = totals.get(key, 0) + int(materialization.metadata[key].value)
    return totals


def collect_success(outcome: RunOutcome, result) -> None:
    outcome.counts.update(
        _metadata_sum(result, "landing_feeds", ("rows_in", "records", "accepted", "findings"))
    )
    outcome.identity = _metadata_sum(result, "master_data", IDENTITY_METRICS)
    outcome.decisions_applied = sum(
        _metadata_sum(result, step, ("steward_decisions_applied",)).get(
            "steward_decisions_applied", 0
        )
        for step in MATCH_STEPS
    )
    outcome.exports = _metadata_sum(result, "publish__warehouse", ("exports",)).get("exports", 0)
    _failed_checks(outcome, result)
    _summarise_warehouse(outcome)


def _summarise_warehouse(outcome: RunOutcome) -> None:
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:

        def count(sql: str) -> int:
            return con.sql(sql).fetchall()[0][0]

        for table in ("customer", "person", "account", "crm_address", "lead"):
            outcome.counts[table] = count(f"SELECT count(*) FROM master.{table}")
        outcome.counts["match_review"] = count("SELECT count(*) FROM quality.match_review")
        outcome.counts["campaign_target"] = count("SELECT count(*) FROM marketing.campaign_target")
        outcome.counts["rejected"] = count("SELECT count(*) FROM quality.rejected")
        outcome.counts["findings"] = count("SELECT count(*) FROM quality.finding")
        outcome.decisions_not_applied = count(
            f"SELECT count(*) FROM quality.finding WHERE rule_id = '{DECISION_NOT_APPLIED}'"
        )
        outcome.counts["unreadable_files"] = count(
            "SELECT count(*) FROM quality.rejected WHERE rule_id = 'FILE_UNREADABLE'"
        )
        outcome.campaigns = con.sql(
            "SELECT campaign_key, channel, targets, excluded FROM marketing.campaign_summary ORDER BY campaign_key"
        ).fetchall()
