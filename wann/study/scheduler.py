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

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wann.errors import ConfigError
from wann.executor import SerialCellRunner
from wann.files import FolderLock, check_writable_folder
from wann.study.cell import run_cell
from wann.study.plan import SEARCH, Cell, plan
from wann.study.results import StudyDir, write_table
from wann.study.spec import Study


class Progress:
    """Cells done / running / failed / skipped, elapsed and an estimate of the time left."""

    def __init__(self, total: int, done: int, concurrency: int, stream=None, enabled: bool = True):
        self.total, self.done0, self.concurrency = total, done, max(1, concurrency)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = time.monotonic()
        self.kind_times: dict[str, list[float]] = {}

    def eta(self, pending: list[Cell], running: int) -> float:
        """Seconds of work left / concurrency: each pending cell costs the mean of its (task, kind)
        so far, else of its kind, else the median of all finished cells that are not searches
        (a search is minutes, an untrained assessment a second: neither stands in for the other)."""
        others = [x for k, v in self.kind_times.items() if not k.endswith("/search") for x in v]
        if not others and not pending:
            return 0.0
        fallback = float(np.median(others)) if others else math.nan
        by_kind: dict[str, list[float]] = {}
        for key, v in self.kind_times.items():
            by_kind.setdefault(key.split("/", 1)[1], []).extend(v)
        work = 0.0
        for c in pending:
            seen = self.kind_times.get(f"{c.task}/{c.kind}") or by_kind.get(c.kind)
            work += float(np.mean(seen)) if seen else fallback
        return work / self.concurrency

    def line(self, done: int, running: int, failed: int, pending: list[Cell], last: str) -> None:
        if not self.enabled:
            return
        el = time.monotonic() - self.t0
        eta = self.eta(pending, running)
        left = "?" if math.isnan(eta) else _hms(eta)
        print(
            f"[{done}/{self.total} cells done | {running} running | {failed} failed | "
            f"{_hms(el)} elapsed | ~{left} left] {last}",
            file=self.stream,
            flush=True,
        )


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


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
) -> StudyResult:
    """Run (or resume) every cell of `study` not yet finished in `study.out`.

    max_cells: stop after this many cells finish in this call (tests use it)."""
    sd = StudyDir(study.out)
    check_writable_folder(sd.path, "--out")
    lock = FolderLock(sd.path, "--out", command=f"wann compare {study.name}")
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
        return _run_locked(study, sd, executor, workers, address, progress, max_cells)
    finally:
        lock.release()


def _run_locked(study: Study, sd: StudyDir, executor, workers, address, progress, max_cells) -> StudyResult:
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
    }
    todo = [c for c in cells if c.id not in docs]
    kind = executor or study.executor
    if kind == "ray":
        from wann.distributed import RayCellRunner

        runner = RayCellRunner(address if address is not None else (study.address or None), workers or study.workers)
    elif kind == "serial":
        runner = SerialCellRunner()
    else:
        raise ConfigError("--executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")
    bar = Progress(len(cells), len(docs), runner.concurrency, enabled=progress)
    if progress:
        print(
            f"study {study.name}: {len(cells)} cells ({len(docs)} already done, {len(todo)} to run) "
            f"on {runner.concurrency} worker(s); results in {study.out}",
            file=sys.stderr,
            flush=True,
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

    def finish(c: Cell, doc: dict | None, err: str | None) -> None:
        nonlocal finished_now
        if doc is not None:
            sd.write_cell(c, doc)
            docs[c.id] = doc
            bar.kind_times.setdefault(f"{c.task}/{c.kind}", []).append(float(doc.get("wall_s", 0.0)))
            finished_now += 1
            write_table(sd.path, docs)
            msg = f"{c.id} {doc.get('wall_s', 0.0):.1f} s"
        else:
            failed[c.id] = err or "failed"
            sd.write_failure(c, err or "failed")
            msg = f"{c.id} FAILED: {(err or '').strip().splitlines()[-1] if err else ''}"
        for p in list(pending):
            if blocked(p):
                pending.remove(p)
                skipped.append(p.id)
        bar.line(len(docs), runner.running(), len(failed) + len(skipped), pending, msg)

    def inputs_for(c: Cell) -> dict[str, dict]:
        # only what a cell needs (champion, parent nets), not whole documents with landscapes
        out = {}
        for d in c.deps:
            doc = docs[d]
            out[d] = {k: doc[k] for k in ("champion", "search_budget", "networks", "primary", "budget") if k in doc}
        return out

    try:
        while (pending or runner.running()) and (max_cells is None or finished_now < max_cells):
            while runner.running() < runner.concurrency:
                c = next_cell()
                if c is None:
                    break
                pending.remove(c)
                runner.submit(c, run_cell, c, by_task[c.task], sdict, inputs_for(c))
            if not runner.running():
                break
            for c, doc, err in runner.wait():
                finish(c, doc, err)
    finally:
        runner.close()
    for p in pending:
        if p.id not in skipped and max_cells is None:
            skipped.append(p.id)
    table = write_table(sd.path, docs) if docs else None
    if progress:
        print(
            f"study {study.name}: {len(docs)}/{len(cells)} cells done, {len(failed)} failed, "
            f"{len(skipped)} skipped; table {table}",
            file=sys.stderr,
            flush=True,
        )
    return StudyResult(sd.path, len(docs), failed, skipped, table)
