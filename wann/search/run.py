"""Run a search: experiment -> executor -> ask/evaluate/tell loop -> reporters.

After every generation the reporters run (`wann.search.reporters`): with a run folder, the
champion when it improved, one metrics row, then an atomic checkpoint; the progress line; any
reporter of the user's. `resume=True` continues from the checkpoint and ends identical to an
uninterrupted run (the search state is the whole state; all randomness is derived from seed and
generation).
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wann.errors import ConfigError
from wann.files import atomic_write_text
from wann.search.experiment import Experiment, experiment_identity
from wann.search.reporters import (
    ACCURACY_COLUMN,
    ChampionFiles,
    Checkpoint,
    MetricsCSV,
    ProgressLine,
    Reporter,
    checkpoint_every_s,
)
from wann.search.rundir import Prepared, prepare
from wann.search.search import Search, SearchState
from wann.tasks import task_from_spec
from wann.tasks.base import TaskKind


@dataclass
class RunResult:
    """run_dir: the run folder (None for a run without one); state: the final search state (its
    `best` is the champion); generations_run: in this call; wall_s: seconds of this call."""

    run_dir: Path | None
    state: SearchState
    generations_run: int
    wall_s: float


def make_executor(exp: Experiment, executor: str | None = None, workers: int | None = None, address: str | None = None):
    kind = executor or exp.execution.executor
    if exp.islands is not None:  # one actor per island (`wann.search.island_run`)
        from wann.search.island_run import make_island_executor

        return make_island_executor(exp, kind, address)
    if kind == "serial":
        from wann.executor import SerialExecutor

        return SerialExecutor(exp.task)
    if kind == "ray":
        from wann.distributed import RayExecutor

        return RayExecutor(
            exp.task,
            workers=workers if workers is not None else exp.execution.workers,
            address=address if address is not None else (exp.execution.address or None),
        )
    raise ConfigError("executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")


#: executor columns of metrics.csv, the same for every executor (serial runs: one in-process
#: evaluator), so a run resumed on the other executor keeps one header
EXECUTOR_COLUMNS: dict[str, Any] = {
    "workers": 1,
    "restarts": 0,
    "compute_s": 0.0,
    "dispatch_s": 0.0,
    "batches": 1,
    "nodes_used": 1,
    "evaluator_rss_mb_max": 0.0,
    "evaluator_rss_mb": "",
}


def run_search(
    exp: Experiment,
    out: str | Path | None = None,
    executor=None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    prepared: Prepared | None = None,
    reporters: Sequence[Reporter] = (),
    announced: bool = False,
) -> RunResult:
    """Run (or resume) `exp` with `executor` (default: the experiment's own, closed at the end).

    out: the run folder (checked and locked first; see `wann.search.rundir`), or None to run
    without writing anything. reporters: extra `Reporter`s, called after the folder's own
    (champion, metrics, checkpoint) and the progress line. stop_after: finish at most this many
    generations in this call. prepared: a folder already checked and locked by `prepare` (the
    CLI does this before starting Ray); it is released at the end either way. An experiment with
    ``[islands]`` runs as islands (`wann.search.island_run.run_islands`, same arguments).
    announced: the caller has already said from which generation a resumed run continues (the
    command line's first line does), so the progress line does not say it again."""
    if exp.islands is not None:
        from wann.search.island_run import run_islands

        return RunResult(*run_islands(exp, out, executor, resume, progress, stop_after, prepared, reporters))
    task = task_from_spec(exp.task)
    every_s = checkpoint_every_s() if out is not None or prepared is not None else None  # checked first
    if out is not None and prepared is None:
        prepared = prepare(exp, out, resume)
    if out is None and resume:
        raise ConfigError("resume", "needs the run folder (out) to resume from")
    state = prepared.state if prepared else None
    wall0, cpu0 = (prepared.wall_s, prepared.cpu_s) if prepared else (0.0, 0.0)
    search = Search.for_task(task, exp.search, exp.variation, exp.seed, meta={"experiment": exp.name})
    own_executor = executor is None
    hooks: list[Reporter] = []
    try:
        if own_executor:
            executor = make_executor(exp)
        if prepared is not None:
            run = prepared.run
            if state is not None:
                run.truncate_metrics(state.generation)
            atomic_write_text(run.experiment_file, exp.to_toml())
            hooks += [ChampionFiles(run), MetricsCSV(run), Checkpoint(run, experiment_identity(exp), every_s)]
        if state is None:
            state = search.init()
        serial = executor.stats().get("executor") == "serial"
        if progress:
            hooks.append(ProgressLine(distributed=not serial, announce_resume=not announced))
        hooks += list(reporters)
        info = {"experiment": exp, "out": Path(out) if out is not None else None}
        for h in hooks:
            h.start({**info, "start": state.generation, "total": exp.search.generations})
        accuracy = champion_accuracy_of(task, exp.search.shared_weights)
        acc = accuracy(state.best) if accuracy else math.nan
        t_start, c_start = time.monotonic(), _cpu_self()
        ev_cpu_start = executor.stats().get("eval_cpu_s", 0.0)
        done = 0
        tree_rss = _Every(2.0, _tree_rss_mb)  # reading /proc for every Ray process costs ~10 ms
        try:
            while state.generation < exp.search.generations and (stop_after is None or done < stop_after):
                g0, c0 = time.monotonic(), _cpu_self()
                genomes, seeds = search.ask(state)
                ev = executor.evaluate(genomes, exp.search.shared_weights, seeds)
                state, report = search.tell(state, ev)
                stats = executor.stats()
                wall = wall0 + time.monotonic() - t_start
                # CPU: the driver's own time plus evaluation CPU spent in other processes
                remote_cpu = 0.0 if serial else stats.get("eval_cpu_s", 0.0) - ev_cpu_start
                cpu = cpu0 + (_cpu_self() - c_start) + remote_cpu
                report.update(
                    {
                        "total_episodes": state.episodes,
                        "total_env_steps": state.env_steps,
                        "gen_wall_s": time.monotonic() - g0,
                        "gen_cpu_s": _cpu_self() - c0,
                        "wall_s": wall,
                        "cpu_s": cpu,
                    }
                )
                report.update(EXECUTOR_COLUMNS)
                report.update({k: v for k, v in stats.items() if k in EXECUTOR_COLUMNS})
                report["driver_rss_mb"] = _rss_mb()
                if serial:  # evaluation runs in the driver
                    report["evaluator_rss_mb_max"] = report["driver_rss_mb"]
                    report["evaluator_rss_mb"] = f"{report['driver_rss_mb']:.0f}"
                report["process_tree_rss_mb"] = tree_rss()
                improved = state.best is not None and state.best.meta.get("generation") == report["generation"]
                if accuracy:
                    acc = accuracy(state.best) if improved or math.isnan(acc) else acc
                    report[ACCURACY_COLUMN] = acc
                if improved:
                    for h in hooks:
                        h.new_best(state.best, report["generation"])
                for h in hooks:
                    h.generation(state, report)
                done += 1
        finally:
            for h in hooks:
                h.end(state)
        return RunResult(prepared.run.path if prepared else None, state, done, time.monotonic() - t_start)
    finally:
        if own_executor and executor is not None:
            executor.close()
        if prepared is not None:
            prepared.release()


def champion_accuracy_of(task, shared_weights):
    """For a classification task, a function genome -> the accuracy of `ACCURACY_COLUMN`
    (computed in the driver when the champion changes: one forward pass of the training split per
    shared weight); None for other tasks."""
    if getattr(task, "kind", None) != TaskKind.CLASSIFY or not hasattr(task, "accuracy"):
        return None
    weights = np.asarray(shared_weights, dtype=np.float64)

    def accuracy(genome) -> float:
        return float(np.mean(task.accuracy(genome, weights, split="train"))) if genome is not None else math.nan

    return accuracy


def _cpu_self() -> float:
    return time.process_time()


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Every:
    """``f()`` called at most once per `seconds`; the last value in between."""

    def __init__(self, seconds: float, f):
        self.seconds, self.f = seconds, f
        self.at, self.value = -math.inf, None

    def __call__(self):
        now = time.monotonic()
        if now - self.at >= self.seconds:
            self.value, self.at = self.f(), now
        return self.value


def _tree_rss_mb() -> float:
    """Resident memory of this process and all its descendants (a local Ray's GCS, raylet and
    evaluators are among them), in MiB."""
    try:
        import psutil

        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20
    except Exception:
        return float("nan")
