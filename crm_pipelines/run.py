"""Run the nightly job in-process through Dagster (the same asset graph the UI shows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm_pipelines.orchestration.resources import today_in_prague


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    warehouse: Path
    as_of: dt.date
    failure: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    campaigns: list[tuple] = field(default_factory=list)

    def summary_text(self) -> str:
        if not self.success:
            return f"run {self.run_id} FAILED: {self.failure}\nthe previous warehouse (if any) is unchanged: {self.warehouse}"
        c = self.counts
        lines = [
            f"run {self.run_id} succeeded; warehouse {self.warehouse} (as of {self.as_of})",
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
            f"  match review pairs  {c.get('match_review', 0):>10,}",
            f"  campaign targets    {c.get('campaign_target', 0):>10,}",
        ]
        for key, channel, targets, excluded in self.campaigns:
            lines.append(
                f"    {key:<28} {channel:<6} targets {targets:>8,}  excluded {excluded:>8,}"
            )
        return "\n".join(lines)


def _summarise(outcome: RunOutcome) -> None:
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        for table in ("customer", "person", "account", "crm_address", "lead"):
            outcome.counts[table] = con.sql(f"SELECT count(*) FROM master.{table}").fetchall()[0][0]
        outcome.counts["match_review"] = con.sql(
            "SELECT count(*) FROM quality.match_review"
        ).fetchall()[0][0]
        outcome.counts["campaign_target"] = con.sql(
            "SELECT count(*) FROM marketing.campaign_target"
        ).fetchall()[0][0]
        outcome.counts["rejected"] = con.sql("SELECT count(*) FROM quality.rejected").fetchall()[0][
            0
        ]
        outcome.counts["findings"] = con.sql("SELECT count(*) FROM quality.finding").fetchall()[0][
            0
        ]
        outcome.counts["unreadable_files"] = con.sql(
            "SELECT count(*) FROM quality.rejected WHERE rule_id = 'FILE_UNREADABLE'"
        ).fetchall()[0][0]
        outcome.campaigns = con.sql(
            "SELECT campaign_key, channel, targets, excluded FROM marketing.campaign_summary ORDER BY campaign_key"
        ).fetchall()


def _root_cause(error) -> str:
    """The innermost error message: what went wrong, not Dagster's wrapper around it."""
    while getattr(error, "cause", None) is not None or getattr(error, "context", None) is not None:
        error = error.cause or error.context
    return error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name


def run_nightly(landing: Path, warehouse: Path, as_of: dt.date | None = None) -> RunOutcome:
    from dagster import DagsterInstance, execute_job, reconstructable

    from crm_pipelines.orchestration.definitions import nightly_job_definition

    as_of = as_of or today_in_prague()
    run_config = {
        "resources": {
            "settings": {
                "config": {
                    "landing_dir": str(landing),
                    "warehouse_path": str(warehouse),
                    "as_of": as_of.isoformat(),
                }
            },
            "io_manager": {"config": {"base_dir": str(warehouse.parent / "frames")}},
        },
        # Step progress and our own log lines on the console, without Dagster's DEBUG event stream.
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    # execute_job, not execute_in_process: the latter keeps every step's output in memory
    # for its result object (dagster-io/dagster#9731) -- at 1M customers the whole job
    # peaked at 15.6 GiB holding the staged, matched and master frames at once. Steps still
    # run in this process (in_process_executor); outputs live in the FrameStore files.
    with DagsterInstance.get() as instance:
        result = execute_job(
            reconstructable(nightly_job_definition),
            instance,
            run_config=run_config,
            raise_on_error=False,
        )
    outcome = RunOutcome(result.success, result.run_id, warehouse, as_of)
    if not result.success:
        failures = [
            f"{event.step_key}: {_root_cause(event.event_specific_data.error)}"  # type: ignore[union-attr]
            for event in result.all_events
            if event.is_step_failure
            and event.event_specific_data is not None
            and getattr(event.event_specific_data, "error", None)
        ]
        failed_checks = [
            f"{e.asset_check_evaluation_data.check_name} on {'/'.join(e.asset_check_evaluation_data.asset_key.path)}"
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and not e.asset_check_evaluation_data.passed
            and e.asset_check_evaluation_data.severity.value == "ERROR"
        ]
        outcome.failure = (
            "; ".join(failures + [f"blocking check failed: {c}" for c in failed_checks])
            or "see the Dagster run log"
        )
        return outcome
    stats = [result.asset_materializations_for_node("landing_feeds")]
    for materialization in stats[0]:
        meta = materialization.metadata
        for k in ("rows_in", "records", "accepted", "findings"):
            if k in meta:
                outcome.counts[k] = outcome.counts.get(k, 0) + int(meta[k].value)
    _summarise(outcome)
    return outcome
