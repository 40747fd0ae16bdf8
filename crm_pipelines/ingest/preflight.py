"""Before any work: a landing folder without a single feed file is refused at once.

An empty landing (an extract that never came) or `--landing data` one level too high would
otherwise be ingested, matched and assembled to the end, where the run guard stops it
(EMPTY_LANDING). Checked here, it costs a directory listing and the message can say where
the feed folders are."""

from __future__ import annotations

from pathlib import Path

from crm_pipelines.ingest.entries import landing_entries
from crm_pipelines.ingest.specs import FEEDS


def holds_feed_files(landing: Path) -> bool:
    """Whether any feed folder of `landing` holds a file the run would read."""
    return any(entry.problem is None for feed in FEEDS for entry in landing_entries(landing, feed))


def empty_landing_problem(landing: Path) -> str | None:
    """Why `landing` cannot be run (no feed file at all), naming a subfolder that has feed
    files when the folder given is one level too high; None when it holds feed files."""
    if holds_feed_files(landing):
        return None
    nested = sorted(
        child
        for child in landing.iterdir()
        if child.is_dir() and not child.is_symlink() and holds_feed_files(child)
    )
    hint = f"; did you mean --landing {nested[0]}?" if nested else ""
    folders = ", ".join(f"{feed}/" for feed in FEEDS)
    return (
        f"landing folder {landing} holds no feed file (no .csv, .csv.gz or .parquet file in "
        f"any of {folders}){hint}"
    )
