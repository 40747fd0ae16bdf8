"""The files of one feed folder, symlinks judged before anything is opened.

A symlink is followed only when it resolves to a regular file inside the landing folder. A
symlink leading outside it, a loop, a dangling link, a linked folder or a landing-named
entry that is not a regular file (a FIFO would block the read for ever) is listed with the
reason it is not read, so it becomes a quarantined file row instead of vanishing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass(frozen=True)
class LandingEntry:
    path: Path  # as found under the landing folder (never the symlink's target)
    problem: str | None = None  # why it is not read; None = read it


def _is_landing_name(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def _judge_symlink(path: Path, root: Path) -> str | None:
    try:
        target = path.resolve(strict=True)
    except RuntimeError:
        return "symlink loop; not followed"
    except OSError as exc:
        return f"dangling symlink ({exc.strerror or type(exc).__name__}); not followed"
    if not target.is_relative_to(root):
        return "symlink leads outside the landing folder; not followed"
    if target.is_dir():
        return "symlinked folder; not followed"
    if not target.is_file():
        return "symlink to something that is not a regular file; not followed"
    return None


def _judge(path: Path, root: Path) -> LandingEntry | None:
    if path.is_symlink():
        problem = _judge_symlink(path, root)
        if problem is None and not _is_landing_name(path.name):
            return None
        return LandingEntry(path, problem)
    if path.is_dir() or not _is_landing_name(path.name):
        return None
    mode = path.lstat().st_mode
    if not stat.S_ISREG(mode):
        return LandingEntry(path, "not a regular file; not read")
    return LandingEntry(path)


def landing_entries(landing: Path, feed: str) -> list[LandingEntry]:
    """Every landing file and every symlink of a feed folder, sorted by relative path."""
    root = landing.resolve()
    folder = landing / feed
    if folder.is_symlink():
        problem = _judge_symlink(folder, root)
        if problem != "symlinked folder; not followed":
            return [LandingEntry(folder, problem or "feed folder is a symlink; not followed")]
    if not folder.is_dir():
        return []
    entries: list[LandingEntry] = []
    for directory, folders, files in os.walk(folder, followlinks=False):
        for name in [*folders, *files]:
            judged = _judge(Path(directory) / name, root)
            if judged is not None:
                entries.append(judged)
    return sorted(entries, key=lambda e: e.path.relative_to(folder).as_posix())
