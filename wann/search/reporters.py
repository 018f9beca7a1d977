"""Reporters: what happens after each generation of a search, as small pluggable objects.

The run loop (`wann.search.run.run_search`) calls, in order, for every reporter:

- ``start(info)`` once: info has ``experiment``, ``out`` (None without a folder), ``start`` (the
  generation it starts at) and ``total`` (generations in all);
- ``new_best(genome, generation)`` when a generation improved the best genome (its meta holds
  fitness, shared weights, the task);
- ``generation(state, report)`` after every generation: `state` is the new `SearchState`,
  `report` the generation's metrics row (fitness, connections, episodes, wall and CPU seconds,
  executor figures: the columns of ``metrics.csv``);
- ``end(state)`` once, when the loop stops (finished, `stop_after`, or an error).

A run folder is written by three of them, in this order, so that a checkpoint is always the
last file of its generation (a kill leaves the folder resumable): `ChampionFiles`, `MetricsCSV`,
`Checkpoint` (every 2 s, ``WANN_CHECKPOINT_S``, and at the end). `ProgressLine` is the terminal
display (at most 100 columns). `wann.search.tensorboard.TensorBoard` writes TensorBoard event
files (optional: ``pip install 'wann[tracking]'``); `wann.search.tensorboard.reporters_from_settings`
builds the optional ones a command line asks for. A user adds their own in a few lines::

    class Best(wann.Reporter):
        def new_best(self, genome, generation):
            print(generation, genome.meta["fitness"])

    wann.run_search(exp, reporters=[Best()])
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import sys
import time
from typing import Any

from wann.errors import ConfigError
from wann.genome import Genome
from wann.search.rundir import RunDir
from wann.search.search import SearchState


class Reporter:
    """Base class: every hook does nothing; override the ones you need."""

    def start(self, info: dict[str, Any]) -> None:
        pass

    def new_best(self, genome: Genome, generation: int) -> None:
        pass

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        pass

    def end(self, state: SearchState) -> None:
        pass


class ChampionFiles(Reporter):
    """champion.json and champions/gen-NNNNN.json, whenever the best genome improves."""

    def __init__(self, run: RunDir):
        self.run = run

    def new_best(self, genome: Genome, generation: int) -> None:
        self.run.write_champion(genome.to_json(), generation)


class MetricsCSV(Reporter):
    """One row of metrics.csv per generation (appended; fsynced by `Checkpoint` before each
    checkpoint it writes, so every row a checkpoint counts is on disk)."""

    def __init__(self, run: RunDir):
        self.run = run

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        self.run.append_metrics(report, sync=False)


class Checkpoint(Reporter):
    """checkpoint.json, atomically: the whole search state, the experiment's identity and the
    wall / CPU seconds so far. Written after the first generation of this call, then whenever
    `every_s` seconds have passed since the last one, and at the end (a finished, stopped or
    interrupted call), each time after fsyncing metrics.csv. A run killed outright redoes at most
    `every_s` seconds of generations on resume, with the same results (all randomness derives
    from seed and generation); writing every generation cost ~14 ms of a 0.2 s generation."""

    def __init__(self, run: RunDir, experiment_id: str, every_s: float | None = None):
        self.run = run
        self.experiment_id = experiment_id
        self.every_s = checkpoint_every_s() if every_s is None else every_s
        self._last = -math.inf
        self._pending: tuple[SearchState, dict[str, Any]] | None = None

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        extra = {"experiment_id": self.experiment_id, "wall_s": report["wall_s"], "cpu_s": report["cpu_s"]}
        self._pending = (state, extra)
        if time.monotonic() - self._last >= self.every_s:
            self._write()

    def end(self, state: SearchState) -> None:
        if self._pending is not None:
            self._write()

    def _write(self) -> None:
        state, extra = self._pending
        self.run.sync_metrics()
        self.run.write_checkpoint(state.to_dict(), extra)
        self._pending = None
        self._last = time.monotonic()


def checkpoint_every_s() -> float:
    """Seconds between checkpoints: ``WANN_CHECKPOINT_S`` (0: every generation), default 2."""
    v = os.environ.get("WANN_CHECKPOINT_S", "").strip()
    try:
        return max(0.0, float(v)) if v else 2.0
    except ValueError:
        raise ConfigError("WANN_CHECKPOINT_S", f"must be seconds (0: every generation), got {v!r}") from None


class ProgressLine(Reporter):
    """One status line per generation, at most `WIDTH` (100) columns: generation / total, the
    generation's best and mean fitness and the best ever, the best genome's connections,
    episodes per second and the time left (classification tasks: the cross-entropy, labelled
    ``xent``: fitness is its negative, and the champion's training accuracy, ``train acc``). On
    a terminal it rewrites itself; elsewhere it prints about 40 lines per run. A resumed run
    first says from which generation (unless `announce_resume` is false: the caller said so).
    `distributed`: add the Ray executor's workers (and restarts, if any)."""

    def __init__(self, stream=None, distributed: bool = False, announce_resume: bool = True):
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self.distributed = distributed
        self.announce_resume = announce_resume
        self._open = False  # a rewritten line is on screen without its newline

    def start(self, info: dict[str, Any]) -> None:
        self.total, self.first = info["total"], info["start"]
        self.t0 = time.monotonic()
        self.episodes = 0
        self.every = max(1, (self.total - self.first) // 40)
        self.xent = is_classification(info.get("experiment"))
        if self.first > 0 and self.announce_resume:
            where = f" from {info['out']}" if info.get("out") is not None else ""
            left = self.total - self.first
            self.stream.write(
                f"resumed at generation {self.first}/{self.total}{where}: {max(0, left)} generation(s) to go\n"
            )
            self.stream.flush()

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        g = report["generation"] + 1
        done = g - self.first
        el = time.monotonic() - self.t0
        self.episodes += int(report.get("episodes", 0))
        eta = el / done * (self.total - g) if done else 0.0
        rate = self.episodes / el if el > 0 else 0.0
        line = format_progress(report, self.total, eta, rate, self.xent, self.distributed)
        if self.tty:
            width = min(WIDTH, shutil.get_terminal_size((WIDTH + 1, 24)).columns - 1)
            self.stream.write("\r" + line[:width].ljust(width))
            self._open = g != self.total
            if g == self.total:
                self.stream.write("\n")
        elif done % self.every == 0 or g == self.total or done == 1:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self, state: SearchState) -> None:
        if self._open:  # stopped early (stop_after, an error): end the rewritten line
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


#: the widest progress line
WIDTH = 100

#: metrics.csv column of classification searches: the champion's accuracy on the whole training
#: split, mean over the shared weights (fitness: minus the cross-entropy on minibatches of it;
#: `wann.search.run`). A resumed older run folder gets the column, blank in its earlier rows.
ACCURACY_COLUMN = "champion_train_accuracy"


def format_progress(
    report: dict[str, Any],
    total: int,
    eta_s: float,
    episodes_per_s: float,
    xent: bool = False,
    distributed: bool = False,
) -> str:
    """The progress line of one generation's metrics row (at most `WIDTH` characters): the
    fields are dropped from the least useful (best ever, then the executor's, then the
    accuracy) when they do not fit. A classification row's `ACCURACY_COLUMN` is shown as
    ``train acc 0.81`` (the champion's accuracy on the training split)."""
    g = report["generation"] + 1
    n = len(str(total))

    def fit(v: float) -> str:
        return f"{-v:7.4f}" if xent else _fixed(v)

    head = f"gen {g:>{n}}/{total}  " + ("xent " if xent else "")
    best = f"best {fit(report['best_fitness'])}  mean {fit(report['mean_fitness'])}"
    ever = f"  ever {fit(report['best_ever_fitness'])}"
    tail = f"  conns {report['best_connections']:>4d}  {_si(episodes_per_s):>5} ep/s  eta {hms(eta_s)}"
    ex = ""
    if distributed:
        ex = f"  w{report.get('workers', 1)}" + (f" r{report['restarts']}" if report.get("restarts") else "")
    a = report.get(ACCURACY_COLUMN)
    acc = f"  train acc {a:.2f}" if isinstance(a, numbers.Real) and math.isfinite(a) else ""
    parts = (head, best, ever, acc, tail, ex)
    for drop in ((), (2,), (2, 5), (2, 3, 5)):  # best ever, then the executor's, then the accuracy
        line = "".join(p for i, p in enumerate(parts) if i not in drop)
        if len(line) <= WIDTH:
            return line
    return line[:WIDTH]


def _fixed(v: float) -> str:
    """A fitness in 8 characters: two decimals, or 3 (then 2) significant digits when it is large."""
    for form in ("8.2f", "8.3g", "8.2g"):
        s = f"{v:{form}}"
        if len(s) <= 8:
            break
    return s


def _si(x: float) -> str:
    """123, 1.2k, 12.3k, 123k, 1.2M: a rate in at most 5 characters."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            v = x / div
            return f"{v:.1f}{unit}" if v < 100 else f"{v:.0f}{unit}"
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}"


def is_classification(exp) -> bool:
    """Whether an experiment's task is a classification data set (fitness: -cross-entropy),
    decided without building it."""
    if exp is None:
        return False
    task = getattr(exp, "task", None)
    if task is not None and not isinstance(task, dict):
        return getattr(task, "kind", "") == "classify"
    from wann.tasks import classify

    return isinstance(task, dict) and task.get("name") in classify.DATASETS


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ---- TensorBoard --------------------------------------------------------------------------------
