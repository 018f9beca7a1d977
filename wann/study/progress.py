"""What a running study tells a person and a tracker: `StudyReporter` hooks, the progress display,
and TensorBoard.

`ProgressLines` writes to stderr. Not a terminal (CI logs, a file): one line per event (the
study starting, each cell starting and finishing, a list of the running cells with their
progress when nothing else was printed for `heartbeat_s`, the end). A terminal: the same
finished-cell lines scroll above a live view of the running cells with their elapsed times, their
own progress and time left, and the estimate of the study's time left (`rich`'s live display
where rich is installed, else one status line rewritten in place). A running cell's own progress
is what it writes to its progress file (`wann.study.cell_progress`): a search cell's generation
k/N and the time left at its pace, a training cell its recipe's last message; other cells' time
left is the mean time of the finished cells of their kind.

`TensorBoardStudy` logs each finished cell's final scores (``score/<task>/<method>/<variant>``
at step = the seed) and the study's progress (cells done / failed / running / pending and the
time left, at step = cells finished); the search cells log their own per-generation curves
beside it (``searches/<task>-s<seed>``).

A reporter's `cell_args` are settings that travel with every cell (to a Ray worker, as the
cell's arguments): ``cell_progress`` (write a progress file) and ``tensorboard`` (the folder).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from wann.study.cell_progress import describe, own_eta, read_progress
from wann.study.plan import SEARCH, Cell


class StudyReporter:
    """Hooks of a running study (all optional): ``start(info)`` once (info: ``study``, ``cells``
    in the grid, ``done`` already, ``todo``, ``concurrency``); ``cell_started(cell, status)``
    when a cell is handed to a worker; ``cell_done(cell, doc, error, status)`` after each cell
    (doc: its `CellResult` document, or None with `error`); status: ``done``, ``running``,
    ``failed`` counts and the ``pending`` cells (not yet started); ``end(result)`` once with the
    `StudyResult`; ``close()`` always, last, also when the study stops on an error."""

    def start(self, info: dict[str, Any]) -> None:
        pass

    def cell_started(self, cell: Cell, status: dict[str, Any]) -> None:
        pass

    def cell_done(self, cell: Cell, doc: dict | None, error: str | None, status: dict[str, Any]) -> None:
        pass

    def end(self, result: Any) -> None:  # result: a wann.study.scheduler.StudyResult
        pass

    def close(self) -> None:
        pass

    def cell_args(self) -> dict[str, Any]:
        """Settings every cell receives with its arguments (see the module docstring)."""
        return {}


class CellTimes:
    """The wall seconds of finished cells by (task, kind), and the time a study has left."""

    def __init__(self):
        self.kind_times: dict[str, list[float]] = {}

    def add(self, cell: Cell, wall_s: float) -> None:
        self.kind_times.setdefault(f"{cell.task}/{cell.kind}", []).append(float(wall_s))

    def expected(self, cell: Cell) -> float:
        """A cell's expected seconds: the mean of its (task, kind) so far, else of its kind, else
        the median of all finished cells that are not searches (a search is minutes, an untrained
        assessment a second: neither stands in for the other); NaN when nothing is known."""
        seen = self.kind_times.get(f"{cell.task}/{cell.kind}")
        if not seen:
            seen = [x for k, v in self.kind_times.items() if k.split("/", 1)[1] == cell.kind for x in v]
        if seen:
            return float(np.mean(seen))
        others = [x for k, v in self.kind_times.items() if not k.endswith(f"/{SEARCH}") for x in v]
        return float(np.median(others)) if others else math.nan

    def eta(self, pending: list[Cell], concurrency: int, running: list[tuple] = ()) -> float:
        """Seconds of work left / concurrency: each pending cell costs `expected`, each running
        one ((cell, seconds it has run[, seconds it says it has left])) what it says it has
        left, else what it has left of `expected` (at least 0)."""
        if not pending and not running:
            return 0.0
        work = sum(self.expected(c) for c in pending)
        work += sum(np.nan_to_num(self.left(*r)) for r in running)  # a running cell of unknown cost: 0
        return work / max(1, concurrency)

    def left(self, cell: Cell, elapsed: float, own: float | None = None) -> float:
        """A running cell's seconds left: its own estimate, else `expected` less `elapsed` (at
        least 0; NaN when nothing is known)."""
        if own is not None:
            return own
        exp = self.expected(cell)
        return exp if math.isnan(exp) else max(0.0, exp - elapsed)


#: running cells listed by the live view (the rest are counted)
LIVE_ROWS = 12


class ProgressLines(StudyReporter):
    """The study's progress on `stream` (default stderr). display: "lines" (one line per event:
    the default off a terminal), "live" (rich's live view of the running cells: the default on a
    terminal when rich is installed) or "status" (one status line rewritten in place: a terminal
    without rich, or TERM=dumb). heartbeat_s: off a terminal, a line listing the running cells
    when nothing was printed for this long (0: never); refresh_s: how often the status line and
    the live view are redrawn."""

    def __init__(self, stream=None, display: str | None = None, heartbeat_s: float = 60.0, refresh_s: float = 1.0):
        self.stream = stream or sys.stderr
        self.display = display or _default_display(self.stream)
        if self.display not in ("lines", "live", "status"):
            raise ValueError(f"display must be 'lines', 'live' or 'status', got {display!r}")
        self.heartbeat_s, self.refresh_s = heartbeat_s, refresh_s
        self.times = CellTimes()
        self.kind_times = self.times.kind_times
        self.started: dict[str, tuple[Cell, float]] = {}  # running cells: id -> (cell, start time)
        self.status: dict[str, Any] = {"done": 0, "running": 0, "failed": 0, "pending": []}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live = None
        self._shown = 0  # length of the status line on screen (display "status")
        self._last_print = time.monotonic()
        self.out: Path | None = None
        self._docs: dict[str, tuple[float, dict | None]] = {}  # cell id -> (read at, its progress)

    # ---- hooks -------------------------------------------------------------------------------

    def cell_args(self) -> dict[str, Any]:
        return {"cell_progress": True}

    def start(self, info: dict[str, Any]) -> None:
        self.total, self.concurrency = info["cells"], max(1, info["concurrency"])
        self.t0 = time.monotonic()
        study = info["study"]
        self.out = study.out
        self.status["done"] = info["done"]
        self._print(
            f"study {study.name}: {info['cells']} cells ({info['done']} already done, {info['todo']} to run) "
            f"on {info['concurrency']} worker(s); results in {study.out}"
        )
        if self.display == "live":
            self._start_live()
        if self.display == "status" or (self.display == "lines" and self.heartbeat_s > 0):
            self._thread = threading.Thread(target=self._tick, name="wann-study-progress", daemon=True)
            self._thread.start()

    def eta(self, pending: list[Cell], running: list[tuple] = ()) -> float:
        """Seconds left (see `CellTimes.eta`)."""
        return self.times.eta(pending, self.concurrency, running)

    def progress_of(self, cell: Cell) -> dict | None:
        """What a running cell last wrote about itself (`wann.study.cell_progress`), re-read at
        most every `refresh_s`; None when it wrote nothing (yet, or where the driver can see)."""
        if self.out is None:
            return None
        now = time.monotonic()
        got = self._docs.get(cell.id)
        if got is None or now - got[0] >= self.refresh_s:
            got = (now, read_progress(self.out, cell.file))
            self._docs[cell.id] = got
        return got[1]

    def cell_started(self, cell: Cell, status: dict[str, Any]) -> None:
        with self._lock:
            self.started[cell.id] = (cell, time.monotonic())
            self.status = status
            if self.display == "lines":
                self._print(f"[{self._counts()}] started {cell.id}")

    def cell_done(self, cell: Cell, doc: dict | None, error: str | None, status: dict[str, Any]) -> None:
        with self._lock:
            self.started.pop(cell.id, None)
            self._docs.pop(cell.id, None)
            self.status = status
            if doc is not None:
                self.times.add(cell, float(doc.get("wall_s", 0.0)))
                last = f"{cell.id} {doc.get('wall_s', 0.0):.1f} s"
            else:
                last = f"{cell.id} FAILED: {error.strip().splitlines()[-1] if error and error.strip() else ''}"
            self._print(f"[{self._counts()}] {last}")

    def end(self, result: Any) -> None:  # result: a wann.study.scheduler.StudyResult
        self.close()
        self._print(
            f"study: {result.done}/{self.total} cells done, {len(result.failed)} failed, "
            f"{len(result.skipped)} skipped; table {result.table}"
        )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None
            self._clear_status()

    # ---- what is shown -----------------------------------------------------------------------

    def running(self) -> list[tuple[Cell, float]]:
        """The running cells and their elapsed seconds, longest first."""
        now = time.monotonic()
        with self._lock:
            out = [(c, now - t) for c, t in self.started.values()]
        return sorted(out, key=lambda x: -x[1])

    def _left(self) -> str:
        running = [(c, el, own_eta(self.progress_of(c))) for c, el in self.running()]
        eta = self.eta(list(self.status.get("pending", [])), running)
        return "?" if math.isnan(eta) else _hms(eta)

    def cell_line(self, cell: Cell, elapsed: float, short: bool = False) -> str:
        """A running cell: its id, elapsed time, its own progress and the time it has left
        (``swingup/search/-/s0 0:02:10 gen 40/160 ~0:06:30 left``); `short`: without a
        training recipe's message."""
        doc = self.progress_of(cell)
        left = self.times.left(cell, elapsed, own_eta(doc))
        what = describe(doc, short)
        return (
            f"{cell.id} {_hms(elapsed)}"
            + (f" {what}" if what else "")
            + (f" ~{_hms(left)} left" if not math.isnan(left) else "")
        )

    def _counts(self) -> str:
        s = self.status
        return (
            f"{s['done']}/{self.total} cells done | {s['running']} running | {s['failed']} failed | "
            f"{_hms(time.monotonic() - self.t0)} elapsed | ~{self._left()} left"
        )

    def status_line(self, width: int) -> str:
        """The one-line view: counts, then the running cells with their elapsed times."""
        run = ", ".join(self.cell_line(c, el, short=True) for c, el in self.running())
        line = f"[{self._counts()}]" + (f" running: {run}" if run else "")
        return line if len(line) <= width else line[: max(0, width - 3)] + "..."

    def __rich__(self):
        from rich.console import Group
        from rich.text import Text

        lines = [Text(f"[{self._counts()}]")]
        rows = self.running()
        for c, el in rows[:LIVE_ROWS]:
            lines.append(Text(f"  {self.cell_line(c, el)}", no_wrap=True, overflow="ellipsis"))
        if len(rows) > LIVE_ROWS:
            lines.append(Text(f"  ... and {len(rows) - LIVE_ROWS} more running"))
        return Group(*lines)

    # ---- output ------------------------------------------------------------------------------

    def _print(self, line: str) -> None:
        with self._lock:
            if self._live is not None:
                self._live.console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
            else:
                self._clear_status()
                print(line, file=self.stream, flush=True)
                self._draw_status()
            self._last_print = time.monotonic()

    def _width(self) -> int:
        return max(20, shutil.get_terminal_size((120, 24)).columns - 1)

    def _clear_status(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def _draw_status(self) -> None:
        if self.display != "status" or self._stop.is_set() or not hasattr(self, "t0"):
            return
        line = self.status_line(self._width())
        pad = max(0, self._shown - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._shown = len(line)

    def _tick(self) -> None:
        while not self._stop.wait(self.refresh_s):
            with self._lock:
                if self.display == "status":
                    self._draw_status()
                elif self.started and time.monotonic() - self._last_print >= self.heartbeat_s:
                    run = ", ".join(self.cell_line(c, el) for c, el in self.running())
                    self._print(f"[{self._counts()}] running: {run}")

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.stream, highlight=False)
        self._live = Live(self, console=console, refresh_per_second=max(0.2, 1 / self.refresh_s), transient=True)
        self._live.start()


def _default_display(stream) -> str:
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return "lines"
    if os.environ.get("TERM") == "dumb":
        return "status"
    try:
        import rich.live  # noqa: F401
    except ImportError:
        return "status"
    return "live"


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ---- TensorBoard --------------------------------------------------------------------------------


def score_tag(task: str, method: str, variant: str) -> str:
    """The TensorBoard tag of a method's final score in a study: score/<task>/<method>[/<variant>]."""
    return f"score/{task}/{method}" + (f"/{variant}" if variant and variant != "-" else "")


class TensorBoardStudy(StudyReporter):
    """TensorBoard event files of a study in `logdir`: each finished cell's final scores (the
    100 % rows of results.csv, one tag per (task, method, variant), `score_tag`, at step = the
    seed; a search cell: ``search/<task>/best_fitness`` and ``search/<task>/connections`` of its
    champion), the cell's wall seconds (``wall_s/<task>/<kind>``), and the study's progress
    (``progress/cells_done``, ``cells_failed``, ``cells_running``, ``cells_pending``,
    ``eta_s``) at step = cells finished so far; each search cell writes its own per-generation
    curves (those of `wann search --tensorboard`) to ``LOGDIR/searches/<task>-s<seed>``, from
    the worker that runs it (`cell_args`). Needs the ``tensorboard`` package:
    ConfigError(`field`) here, before any work, when it is missing."""

    def __init__(self, logdir: str | Path, field: str = "--tensorboard"):
        from wann.search.tensorboard import EventFile

        self.events = EventFile(logdir, field)
        self.events.check()
        self.logdir = self.events.logdir
        self.times = CellTimes()

    def cell_args(self) -> dict[str, Any]:
        # the search cells' curves: LOGDIR/searches/<task>-s<seed> (`wann.study.cell.search_logdir`),
        # an absolute path, as a Ray worker's working directory need not be the driver's
        return {"tensorboard": str(self.logdir.resolve())}

    def start(self, info: dict[str, Any]) -> None:
        self.events.open()
        self.concurrency = max(1, info["concurrency"])
        study = info["study"]
        self.step = info["done"]
        self.events.text(
            "study",
            f"**{study.name}**: {info['cells']} cells ({info['done']} already done, {info['todo']} to run) "
            f"on {info['concurrency']} worker(s); results in `{study.out}`",
            self.step,
        )

    def cell_done(self, cell: Cell, doc: dict | None, error: str | None, status: dict[str, Any]) -> None:
        self.step += 1
        values: dict[str, float] = {}
        if doc is not None:
            wall = float(doc.get("wall_s", 0.0))
            self.times.add(cell, wall)
            self.events.scalars({f"wall_s/{cell.task}/{cell.kind}": wall}, cell.seed)
            for row in doc.get("rows", []):
                if row.get("final"):
                    values[score_tag(row["task"], row["method"], row.get("variant", "-"))] = row["score"]
            champ = doc.get("champion")
            if cell.kind == SEARCH and champ:
                meta = champ.get("meta", {})
                if "fitness" in meta:
                    values[f"search/{cell.task}/best_fitness"] = meta["fitness"]
                conns = sum(1 for c in champ.get("connections", []) if c.get("enabled", True))
                values[f"search/{cell.task}/connections"] = conns
            self.events.scalars(values, cell.seed)
        else:
            self.events.text("failed", f"`{cell.id}`: {(error or 'failed').strip().splitlines()[-1]}", self.step)
        eta = self.times.eta(list(status["pending"]), self.concurrency)
        progress = {
            "progress/cells_done": status["done"],
            "progress/cells_failed": status["failed"],
            "progress/cells_running": status["running"],
            "progress/cells_pending": len(status["pending"]),
        }
        if not math.isnan(eta):
            progress["progress/eta_s"] = eta
        self.events.scalars(progress, self.step)
        self.events.flush()

    def end(self, result: Any) -> None:  # result: a wann.study.scheduler.StudyResult
        self.events.text(
            "study",
            f"finished: {result.done} cells done, {len(result.failed)} failed, {len(result.skipped)} skipped; "
            f"table `{result.table}`",
            self.step,
        )
        self.close()

    def close(self) -> None:
        self.events.close()


def study_reporters_from_settings(
    tensorboard: str | Path | None = None, name: str | None = None
) -> list[StudyReporter]:
    """The optional study reporters a command line asks for, built and checked (ConfigError
    naming ``--tensorboard``) before any work: tensorboard: a TensorBoard log folder; the study's
    event files go to ``tensorboard/name`` (the study's name), or to the folder itself."""
    out: list[StudyReporter] = []
    if tensorboard:
        out.append(TensorBoardStudy(Path(tensorboard) / name if name else Path(tensorboard)))
    return out


__all__ = [
    "CellTimes",
    "ProgressLines",
    "StudyReporter",
    "TensorBoardStudy",
    "score_tag",
    "study_reporters_from_settings",
]
