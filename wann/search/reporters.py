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

A run folder is written by three of them, in this order, so that the checkpoint is always the
last file of a generation (a kill leaves the folder resumable): `ChampionFiles`, `MetricsCSV`,
`Checkpoint`. `ProgressLine` is the terminal display. A user adds their own in a few lines::

    class Best(wann.Reporter):
        def new_best(self, genome, generation):
            print(generation, genome.meta["fitness"])

    wann.run_search(exp, reporters=[Best()])
"""

from __future__ import annotations

import sys
import time
from typing import Any

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
    """One row of metrics.csv per generation (appended and fsynced)."""

    def __init__(self, run: RunDir):
        self.run = run

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        self.run.append_metrics(report)


class Checkpoint(Reporter):
    """checkpoint.json after every generation, atomically: the whole search state, the
    experiment's identity and the wall / CPU seconds so far."""

    def __init__(self, run: RunDir, experiment_id: str):
        self.run = run
        self.experiment_id = experiment_id

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        extra = {"experiment_id": self.experiment_id, "wall_s": report["wall_s"], "cpu_s": report["cpu_s"]}
        self.run.write_checkpoint(state.to_dict(), extra)


class ProgressLine(Reporter):
    """One status line per generation (at most ~100 characters): on a terminal it rewrites
    itself, elsewhere it prints about 40 lines per run. `distributed`: add the Ray executor's
    figures (workers, restarts, compute vs dispatch time, memory)."""

    def __init__(self, stream=None, distributed: bool = False):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.distributed = distributed

    def start(self, info: dict[str, Any]) -> None:
        self.total, self.first = info["total"], info["start"]
        self.t0 = time.monotonic()
        self.every = max(1, (self.total - self.first) // 40)

    def generation(self, state: SearchState, report: dict[str, Any]) -> None:
        g = report["generation"] + 1
        done = g - self.first
        el = time.monotonic() - self.t0
        eta = el / done * (self.total - g) if done else 0.0
        extra = ""
        if self.distributed:
            extra = (
                f" | workers {report['workers']} restarts {report['restarts']}"
                f" compute {report['compute_s']:.2f}s dispatch {report['dispatch_s']:.2f}s"
                f" rss driver {report['driver_rss_mb']:.0f}M evaluator {report['evaluator_rss_mb_max']:.0f}M"
            )
        line = (
            f"gen {g:>5}/{self.total}  best {report['best_fitness']:8.2f}  "
            f"mean {report['mean_fitness']:8.2f}  best-ever {report['best_ever_fitness']:8.2f}  "
            f"conns {report['best_connections']:3d}  {report['gen_wall_s']:5.2f}s/gen  "
            f"eta {hms(eta)}{extra}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(120)[:220])
            if g == self.total:
                self.stream.write("\n")
        elif done % self.every == 0 or g == self.total or done == 1:
            self.stream.write(line + "\n")
        self.stream.flush()


def hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
