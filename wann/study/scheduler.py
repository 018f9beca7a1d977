"""`wann compare STUDY.toml`: run a study's grid of cells and collect one tidy results table.

A *cell* is one unit of work: a WANN search for one (task, seed), the assessment of its champion,
or the training of one counterpart for one (task, method, seed, size). Cells depend on each other
(the pruned nets start from the seed's dense net, the sized methods need the champion's connection
count), run as Ray tasks (one CPU each) as soon as their inputs exist, and return their result to
the driver, which writes it atomically to `OUT/cells/<cell>.json`. A rerun skips finished cells,
so a killed study resumes where it stopped; a failed cell is reported, its dependents skipped,
and it is tried again on the next run.

The table `OUT/results.parquet` (and `results.csv`) has one row per (cell, method, checkpoint):
checkpoints at 10, 25, 50 and 100 % of the cell's training budget; the 100 % row carries the
final score on fresh test episodes (RL: mean return over `test_episodes`; classification: test
accuracy).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wann.errors import ConfigError
from wann.executor import SerialCellRunner
from wann.files import FolderLock, check_writable_folder
from wann.study.cell import run_cell
from wann.study.cell_progress import clear as clear_progress
from wann.study.plan import SEARCH, Cell, plan
from wann.study.progress import ProgressLines, StudyReporter, TensorBoardStudy, study_reporters_from_settings
from wann.study.results import StudyDir, write_table
from wann.study.spec import Study

# the reporters live in `wann.study.progress`; these names stay importable from here
__all__ = [
    "ProgressLines",
    "StudyReporter",
    "StudyResult",
    "TensorBoardStudy",
    "run_study",
    "study_reporters_from_settings",
]


@dataclass
class StudyResult:
    out: Path
    done: int
    failed: dict[str, str]
    skipped: list[str]
    table: Path | None


def run_study(
    study: Study,
    executor: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    max_cells: int | None = None,
    reporters: Sequence[StudyReporter] = (),
) -> StudyResult:
    """Run (or resume) every cell of `study` not yet finished in `study.out`.

    executor: "serial" or "ray" (default: the study's); workers: cells at once (0 = one per CPU);
    address: a Ray cluster. progress: the progress display on stderr (a `ProgressLines`
    reporter: one line per event, or a live view on a terminal); reporters: further
    `StudyReporter`s (e.g. `TensorBoardStudy`). max_cells: stop after this many cells finish in
    this call."""
    sd = StudyDir(study.out)
    check_writable_folder(sd.path, "out")
    lock = FolderLock(sd.path, "out", command=f"wann compare {study.name}")
    lock.check_free(take_stale=True)
    sd.check(study)  # read-only: a refusal changes nothing
    lock.acquire(take_stale=True)
    try:
        if lock.took_over and progress:
            print(
                f"wann: {sd.path} had a stale lock from pid {lock.took_over.get('pid')} (no longer running); "
                "taking it over",
                file=sys.stderr,
            )
        sd.check(study)  # again, now that nobody else can write here
        return _run_locked(study, sd, executor, workers, address, progress, max_cells, reporters)
    finally:
        lock.release()


def _run_locked(study: Study, sd: StudyDir, executor, workers, address, progress, max_cells, reporters) -> StudyResult:
    cells = plan(study)
    sd.start(study)
    ident = study.identity()
    docs = sd.done(ident)
    by_task = {t.label: t for t in study.tasks}
    sdict = {
        "name": study.name,
        "identity": ident,
        "out": str(study.out),
        "test_episodes": study.test_episodes,
        "landscape_episodes": study.landscape_episodes,
        "landscapes": study.landscapes,
        "base_init": study.inits[0],
    }
    hooks: list[StudyReporter] = ([ProgressLines()] if progress else []) + list(reporters)
    for h in hooks:  # what the reporters ask every cell to do (a progress file, TensorBoard curves)
        sdict.update(getattr(h, "cell_args", dict)())
    clear_progress(study.out)  # files a killed run left; nothing runs now
    todo = [c for c in cells if c.id not in docs]
    kind = executor or study.executor
    if kind == "ray":
        from wann.distributed import RayCellRunner

        runner = RayCellRunner(address if address is not None else (study.address or None), workers or study.workers)
    elif kind == "serial":
        runner = SerialCellRunner()
    else:
        raise ConfigError("executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")
    for h in hooks:
        h.start(
            {
                "study": study,
                "cells": len(cells),
                "done": len(docs),
                "todo": len(todo),
                "concurrency": runner.concurrency,
            }
        )
    failed: dict[str, str] = {}
    skipped: list[str] = []
    finished_now = 0
    pending = list(todo)

    def ready(c: Cell) -> bool:
        return all(d in docs for d in c.deps)

    def next_cell() -> Cell | None:
        # searches first: they are the longest cells and everything of their seed waits on them
        ok = [p for p in pending if ready(p)]
        return next((p for p in ok if p.kind == SEARCH), ok[0] if ok else None)

    def blocked(c: Cell) -> bool:
        return any(d in failed or d in skipped for d in c.deps)

    def status() -> dict:
        return {
            "done": len(docs),
            "running": runner.running(),
            "failed": len(failed) + len(skipped),
            "pending": pending,
        }

    def finish(c: Cell, doc: dict | None, err: str | None) -> None:
        nonlocal finished_now
        if doc is not None:
            sd.write_cell(c, doc)
            docs[c.id] = doc
            finished_now += 1
            write_table(sd.path, docs)
        else:
            failed[c.id] = err or "failed"
            sd.write_failure(c, err or "failed")
        for p in list(pending):
            if blocked(p):
                pending.remove(p)
                skipped.append(p.id)
        now = status()
        for h in hooks:
            h.cell_done(c, doc, err, now)

    def inputs_for(c: Cell) -> dict[str, dict]:
        # only what a cell needs (champion, parent nets), not whole documents with landscapes
        out = {}
        for d in c.deps:
            doc = docs[d]
            keys = ("champion", "search_budget", "half", "networks", "primary", "budget")
            out[d] = {k: doc[k] for k in keys if k in doc}
        return out

    try:
        try:
            while (pending or runner.running()) and (max_cells is None or finished_now < max_cells):
                while runner.running() < runner.concurrency:
                    c = next_cell()
                    if c is None:
                        break
                    pending.remove(c)
                    runner.submit(c, run_cell, c, by_task[c.task], sdict, inputs_for(c))
                    now = status()
                    for h in hooks:
                        h.cell_started(c, now)
                if not runner.running():
                    break
                for c, doc, err in runner.wait():
                    finish(c, doc, err)
        finally:
            runner.close()
            clear_progress(study.out)
        for p in pending:
            if p.id not in skipped and max_cells is None:
                skipped.append(p.id)
        table = write_table(sd.path, docs) if docs else None
        result = StudyResult(sd.path, len(docs), failed, skipped, table)
        for h in hooks:
            h.end(result)
        return result
    finally:
        for h in hooks:  # the live display stops even when the study stops on an error
            h.close()
