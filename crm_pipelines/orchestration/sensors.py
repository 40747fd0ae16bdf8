"""Start the nightly job when new files land, once they have stopped changing."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from crm_pipelines.ingest.readers import SUFFIXES
from crm_pipelines.ingest.specs import FEEDS
from crm_pipelines.orchestration.resources import PipelineSettings

SETTLE_SECONDS = 60


def landing_signature(landing: Path) -> tuple[str, float]:
    """A digest of every feed file's name, size and mtime, and the newest mtime."""
    digest = hashlib.sha256()
    newest = 0.0
    for feed in FEEDS:
        folder = landing / feed
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name.lower().endswith(SUFFIXES):
                stat = path.stat()
                newest = max(newest, stat.st_mtime)
                digest.update(
                    f"{path.relative_to(landing)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
                )
    return digest.hexdigest(), newest


def landing_sensor(job) -> SensorDefinition:
    @sensor(
        job=job,
        name="new_landing_files",
        minimum_interval_seconds=120,
        default_status=DefaultSensorStatus.STOPPED,
        description=(
            "Starts the nightly job when landing feed files are added or changed, once no "
            f"file has changed for {SETTLE_SECONDS} s (checked every 2 minutes). Off until "
            "switched on; needs `dagster dev` or dagster-daemon running."
        ),
    )
    def new_landing_files(context: SensorEvaluationContext, settings: PipelineSettings):
        landing = Path(settings.landing_dir)
        if not landing.is_dir():
            return SkipReason(f"landing folder {landing} does not exist")
        signature, newest = landing_signature(landing)
        if signature == context.cursor:
            return SkipReason("no new or changed landing files")
        if time.time() - newest < SETTLE_SECONDS:
            return SkipReason("files are still arriving; waiting for them to settle")
        context.update_cursor(signature)
        return RunRequest(run_key=signature)

    return new_landing_files
