"""Run the nightly job in-process through Dagster (the same asset graph the UI shows).

Around the job: the warehouse's run lock (one run at a time), the cleanup of what killed runs
left, a private work folder for the intermediate frames, pruning of old Dagster run history,
and a summary an operator can act on."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from crm_pipelines.orchestration.resources import today_in_prague
from crm_pipelines.publish.guards import load_run_guards, parse_acceptance
from crm_pipelines.publish.run_files import (
    RunRefused,
    acquire_run_lock,
    clean_leftovers,
    make_run_dir,
)
from crm_pipelines.run_summary import RunOutcome, collect_failure, collect_success

__all__ = ["RunOutcome", "run_nightly"]


def prune_dagster_history(instance, days: int) -> int:
    """Delete Dagster runs (and their event logs) older than `days`: DAGSTER_HOME otherwise
    grows by a few MB a run for ever. The warehouse's meta.run_log keeps every published run."""
    from dagster import RunsFilter

    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    old = instance.get_run_records(filters=RunsFilter(created_before=cutoff))
    for record in old:
        instance.delete_run(record.dagster_run.run_id)
    return len(old)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def fail_dead_runs(instance, job_name: str) -> list[str]:
    """Mark failed the runs of the job still "in progress" whose process is gone.

    A run killed with SIGKILL never reports its end; Dagster would count it in progress for
    ever, and with one run at a time (dagster.yaml) no queued run would start again. Only a
    run whose process (from its RUN_START event) no longer exists is touched."""
    from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

    in_progress = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
    failed = []
    for record in instance.get_run_records(RunsFilter(job_name=job_name, statuses=in_progress)):
        run = record.dagster_run
        started = instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.RUN_START, limit=1
        ).records
        pid = started[0].event_log_entry.dagster_event.pid if started else None
        if pid is None or not _process_gone(pid):
            continue
        instance.report_run_failed(
            run, f"its process (pid {pid}) is gone, killed without reporting its end"
        )
        failed.append(run.run_id)
    return failed


def _run_config(
    landing: Path, warehouse: Path, as_of: dt.date, accept: Sequence[str], run_dir: Path
) -> dict:
    from crm_pipelines.orchestration.definitions import nightly_job_definition

    steps = len(nightly_job_definition().graph.nodes)
    return {
        "resources": {
            "settings": {
                "config": {
                    "landing_dir": str(landing),
                    "warehouse_path": str(warehouse),
                    "as_of": as_of.isoformat(),
                    "accept_shrink": list(accept),
                }
            },
            "io_manager": {"config": {"base_dir": str(run_dir)}},
        },
        # One progress line per stage and the summary; Dagster's own event stream (errors
        # with stack traces included) stays in the run log (DAGSTER_HOME, the UI).
        "loggers": {
            "console": {"config": {"log_level": "CRITICAL"}},
            "progress": {"config": {"total_steps": steps}},
        },
    }


def run_nightly(
    landing: Path,
    warehouse: Path,
    as_of: dt.date | None = None,
    accept_shrink: Sequence[str] = (),
    lock_wait: float | None = None,
) -> RunOutcome:
    """One nightly run under the warehouse's lock; RunOutcome.refused when another run holds it."""
    started = time.monotonic()
    as_of = as_of or today_in_prague()
    warehouse = Path(warehouse).resolve()
    guards = load_run_guards()
    for token in accept_shrink:
        parse_acceptance(token)
    wait = guards.lock_wait_seconds if lock_wait is None else lock_wait
    try:
        lock = acquire_run_lock(warehouse, wait, "crm-mdm run")
    except RunRefused as exc:
        return RunOutcome(False, "-", warehouse, as_of, failure=str(exc), refused=True)
    try:
        cleaned = clean_leftovers(warehouse)
        run_dir = make_run_dir(warehouse)
        outcome = _execute(landing, warehouse, as_of, accept_shrink, run_dir, guards)
        if outcome.success:
            shutil.rmtree(run_dir, ignore_errors=True)
        outcome.cleaned = cleaned + outcome.cleaned
    finally:
        lock.release()
    outcome.seconds = time.monotonic() - started
    return outcome


def _execute(landing, warehouse, as_of, accept_shrink, run_dir, guards) -> RunOutcome:
    from dagster import DagsterInstance, execute_job, reconstructable

    from crm_pipelines.orchestration.definitions import NIGHTLY_JOB, nightly_job_definition

    # execute_job, not execute_in_process: the latter keeps every step's output in memory
    # for its result object (dagster-io/dagster#9731) -- at 1M customers the whole job
    # peaked at 15.6 GiB holding the staged, matched and master frames at once. Steps still
    # run in this process (in_process_executor); outputs live in the FrameStore files.
    with DagsterInstance.get() as instance:
        pruned = prune_dagster_history(instance, guards.dagster_run_history_days)
        dead = fail_dead_runs(instance, NIGHTLY_JOB)
        result = execute_job(
            reconstructable(nightly_job_definition),
            instance,
            run_config=_run_config(landing, warehouse, as_of, accept_shrink, run_dir),
            raise_on_error=False,
        )
    outcome = RunOutcome(result.success, result.run_id, warehouse, as_of)
    outcome.pruned_runs = pruned
    outcome.cleaned += [
        f"Dagster run {run_id} marked failed: its process was gone" for run_id in dead
    ]
    if result.success:
        collect_success(outcome, result)
    else:
        collect_failure(outcome, result)
    return outcome
