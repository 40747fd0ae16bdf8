"""One line per finished stage on the operator's console: stage k of n, rows, seconds.

A Dagster @logger: it sees every structured event of the run (step success with its duration,
materialisations with their row counts) as the steps finish, in the running process."""

from __future__ import annotations

import logging
import sys

from dagster import Field, InitLoggerContext, logger

# the metadata entry that counts an asset's rows (lead_customer_link counts its `links`)
_ROW_KEYS = ("rows", "records", "targets", "pairs", "links")


class StageProgress(logging.Handler):
    """Collects the rows of each step's materialisations and prints a line when it succeeds."""

    def __init__(self, total_steps: int) -> None:
        super().__init__(logging.DEBUG)
        self.total_steps = total_steps
        self.done = 0
        self.rows: dict[str, int] = {}

    def _of(self, k: int) -> str:
        return f"{k:>2} of {self.total_steps}" if self.total_steps else f"{k:>2}"

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or not event.step_key:
            return
        if event.is_step_materialization:
            metadata = event.step_materialization_data.materialization.metadata
            value = next(
                (metadata[k].value for k in _ROW_KEYS if k in metadata),
                sum(v.value for k, v in metadata.items() if k.startswith("rows.")),
            )
            self.rows[event.step_key] = self.rows.get(event.step_key, 0) + int(value or 0)
        elif event.is_step_success:
            self.done += 1
            seconds = event.event_specific_data.duration_ms / 1000
            print(
                f"stage {self._of(self.done)}  {event.step_key:<24} "
                f"{self.rows.get(event.step_key, 0):>12,} rows  {seconds:>7.1f} s",
                file=sys.stdout,
                flush=True,
            )
        elif event.is_step_failure:
            print(
                f"stage {self._of(self.done + 1)}  {event.step_key:<24} FAILED",
                flush=True,
            )


@logger(
    config_schema={"total_steps": Field(int, default_value=0)},
    description="Prints one line per finished stage (stage k of n, rows, seconds).",
)
def progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    progress = logging.getLogger(f"crm_mdm.progress.{id(init_context)}")
    progress.setLevel(logging.DEBUG)
    progress.propagate = False
    progress.handlers = [StageProgress(init_context.logger_config["total_steps"])]
    return progress
