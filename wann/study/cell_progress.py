"""What a running cell says about itself: one small progress file the driver reads.

A cell writes ``OUT/.progress/<cell file>`` (atomically, at most about once a second): a search
cell after its generations (generations done of the total and its own estimate of the time left,
from this run's pace), a training cell the latest message of its recipe (e.g. ``dense:
generation 12/250, 3000/8000 episodes, ...``; not every recipe reports). The driver's live view
(`wann.study.progress`) reads the files of the running cells; the cell removes its file when it
ends, and the driver clears the folder when a run starts. A cell that runs where the driver
cannot see its files (a cluster node's own disk) just has no progress there: the view then shows
its elapsed time only. Writing the file never fails a cell.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from wann.search.reporters import Reporter

#: the folder of the running cells' progress files, inside a study's results folder
PROGRESS_DIR = ".progress"
FORMAT = "wann.cell-progress/1"
#: the shortest time between two writes of a cell's progress file (the first and last aside)
EVERY_S = 1.0


def progress_file(out: str | Path, cell_file: str) -> Path:
    """Where the cell whose result file is `cell_file` (`Cell.file`) writes its progress."""
    return Path(out) / PROGRESS_DIR / cell_file


class CellProgress:
    """The progress file of one cell. `update(**fields)` rewrites it (at most every `every_s`
    seconds unless `force`); `message(text)` is a recipe's progress callback; `close()` removes
    the file."""

    def __init__(self, out: str | Path, cell_file: str, every_s: float | None = None):
        self.path = progress_file(out, cell_file)
        self.every_s = EVERY_S if every_s is None else every_s
        self._last = -float("inf")
        self.fields: dict[str, Any] = {}

    def update(self, force: bool = False, **fields: Any) -> None:
        self.fields.update(fields)
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        doc = {"format": FORMAT, "time": time.time(), **self.fields}
        try:
            from wann.files import atomic_write_text

            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(doc))
        except OSError:
            pass  # progress is for the eye only

    def message(self, text: str) -> None:
        self.update(message=str(text))

    def close(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass


class SearchCellProgress(Reporter):
    """A search cell's progress file (a search `Reporter`): generations done and total, the time
    left at this run's pace (a resumed search counts from where it resumed), the best fitness."""

    def __init__(self, progress: CellProgress):
        self.progress = progress

    def start(self, info: dict[str, Any]) -> None:
        self.first, self.total = info["start"], info["total"]
        self.t0 = time.monotonic()
        self.progress.update(force=True, done=self.first, total=self.total, unit="generations")

    def generation(self, state, report: dict[str, Any]) -> None:
        g = int(report["generation"]) + 1
        el = time.monotonic() - self.t0
        eta = el / (g - self.first) * (self.total - g) if g > self.first else None
        self.progress.update(
            force=g == self.total, done=g, eta_s=eta, best_fitness=float(report.get("best_ever_fitness", "nan"))
        )


def read_progress(out: str | Path, cell_file: str) -> dict[str, Any] | None:
    """The progress a running cell last wrote, or None (no file yet, unreadable, or not ours)."""
    try:
        doc = json.loads(progress_file(out, cell_file).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def describe(doc: dict[str, Any] | None, short: bool = False) -> str:
    """A running cell's progress in a few words: ``gen 12/250`` for a search, else the recipe's
    last message (none when `short`: messages are long); "" when there is nothing."""
    if not doc:
        return ""
    if doc.get("unit") == "generations" and isinstance(doc.get("total"), int):
        return f"gen {doc.get('done', 0)}/{doc['total']}"
    return "" if short else str(doc.get("message", ""))


def own_eta(doc: dict[str, Any] | None) -> float | None:
    """The seconds a running cell says it has left (search cells), or None."""
    eta = (doc or {}).get("eta_s")
    return float(eta) if isinstance(eta, (int, float)) and eta == eta and eta >= 0 else None


def clear(out: str | Path) -> None:
    """Remove the progress folder: files a killed run left (the driver, before any cell starts
    and after the last one ended; nothing else writes there then)."""
    folder = Path(out) / PROGRESS_DIR
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        try:
            f.unlink()
        except OSError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass
