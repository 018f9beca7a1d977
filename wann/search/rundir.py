"""Run directories: the experiment as run, per-generation metrics, checkpoints, champions.

    RUN_DIR/
      experiment.toml     the experiment exactly as run (overrides applied)
      metrics.csv         one row per finished generation
      checkpoint.json     search state after the last finished generation (written atomically)
      champion.json       best genome so far (JSON genome with meta: task, fitness, generation)
      champions/gen-NNNNN.json   every genome that became the best, when it did

      .wann.lock          while a command writes into the folder (see `wann.files.FolderLock`)

Every file is written atomically (temporary file, fsync, rename), so a killed run leaves each
file either old or new, never half-written; `metrics.csv` is appended one fsynced row at a time
and cut back to the checkpoint's generation on resume. Nothing here loads pickles.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wann.errors import ConfigError
from wann.files import FolderLock, atomic_write_text, check_writable_folder, read_text, visible_entries
from wann.search.experiment import Experiment, experiment_identity
from wann.search.island_files import check_resume_islands
from wann.search.search import SearchState
from wann.tasks import task_from_spec

CHECKPOINT_FORMAT = "wann.checkpoint/1"
#: files a run writes (anything else in a run folder was not made by `wann search`)
RUN_FILES = ("experiment.toml", "metrics.csv", "checkpoint.json", "champion.json", "champions")
#: and an island run's (`wann.search.island_files`)
ISLAND_RUN_FILES = ("islands", "migrations.csv")


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._metrics_header: list[str] | None = None  # metrics.csv's header, as last appended

    experiment_file = property(lambda self: self.path / "experiment.toml")
    metrics_file = property(lambda self: self.path / "metrics.csv")
    checkpoint_file = property(lambda self: self.path / "checkpoint.json")
    champion_file = property(lambda self: self.path / "champion.json")
    champions_dir = property(lambda self: self.path / "champions")

    def exists(self) -> bool:
        return self.checkpoint_file.exists() or self.metrics_file.exists()

    # ---- checkpoint ----------------------------------------------------------------------------
    def write_checkpoint(self, state: dict[str, Any], extra: dict[str, Any]) -> None:
        doc = {"format": CHECKPOINT_FORMAT, **extra, "state": state}
        atomic_write_text(self.checkpoint_file, json.dumps(doc, separators=(",", ":")))

    def read_checkpoint(self) -> dict[str, Any]:
        """The checkpoint document; ConfigError("resume") when it is unreadable or damaged."""
        text = read_text(self.checkpoint_file, "resume", "checkpoint")
        damaged = (
            f"{self.checkpoint_file} is damaged ({{}}); it cannot be resumed. Restore it from a backup, "
            "or start a new run in another --out (nothing was changed)"
        )
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError("resume", damaged.format(f"not JSON: {e.msg} at line {e.lineno}")) from None
        except RecursionError:
            raise ConfigError("resume", damaged.format("nested too deeply")) from None
        if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError("resume", f"{self.checkpoint_file} is not a wann checkpoint ({CHECKPOINT_FORMAT})")
        if not isinstance(doc.get("state"), dict):
            raise ConfigError("resume", damaged.format("no search state"))
        return doc

    # ---- metrics -------------------------------------------------------------------------------
    def read_metrics(self) -> list[dict[str, str]]:
        if not self.metrics_file.exists():
            return []
        text = read_text(self.metrics_file, "resume", "metrics file")
        try:
            return list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as e:
            raise ConfigError(
                "resume", f"{self.metrics_file} is damaged ({e}); restore it or start a new run"
            ) from None

    def finished_generations(self) -> int:
        """How many generations 0, 1, 2, ... have a complete row in metrics.csv, in order."""
        n = 0
        for r in self.read_metrics():
            if None in r.values() or r.get("generation") != str(n):
                break
            n += 1
        return n

    def append_metrics(self, row: dict[str, Any], sync: bool = True) -> None:
        """Append one row (header with the first). A row cut short by a kill is dropped by
        `truncate_metrics` on resume, since the checkpoint is written after the row. When the
        columns differ from the file's (a file from an older version), the file is rewritten once
        with the union of both, atomically. sync: fsync the row now (False: the caller calls
        `sync_metrics` before the next checkpoint, so the rows a checkpoint counts are on disk)."""
        new = not self.metrics_file.exists() or self.metrics_file.stat().st_size == 0
        cols = list(row)
        if not new and cols != self._metrics_header:
            with self.metrics_file.open(newline="") as f:
                header = next(csv.reader(f), [])
            if header != cols:
                rows = self.read_metrics()
                self._write_rows([{k: _fmt(v) for k, v in row.items()}] if not rows else rows + [row])
                return
        with self.metrics_file.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            if new:
                w.writeheader()
            w.writerow({k: _fmt(v) for k, v in row.items()})
            if sync:
                f.flush()
                os.fsync(f.fileno())
        self._metrics_header = cols

    def sync_metrics(self) -> None:
        """fsync metrics.csv (rows appended with ``sync=False``)."""
        if self.metrics_file.exists():
            with self.metrics_file.open("rb+") as f:
                os.fsync(f.fileno())

    def truncate_metrics(self, generations: int) -> None:
        """Keep only rows of generations < `generations` (a resumed run redoes the rest)."""
        rows = [
            r
            for r in self.read_metrics()
            if None not in r.values() and r["generation"].isdigit() and int(r["generation"]) < generations
        ]
        self._write_rows(rows)

    def _write_rows(self, rows: list[dict[str, Any]]) -> None:
        buf = io.StringIO()
        if rows:
            cols = list(rows[0].keys())
            for r in rows[1:]:
                cols += [k for k in r if k not in cols]
            w = csv.DictWriter(buf, fieldnames=cols)
            w.writeheader()
            w.writerows({k: _fmt(v) for k, v in r.items()} for r in rows)
        atomic_write_text(self.metrics_file, buf.getvalue())
        self._metrics_header = None

    # ---- champions -----------------------------------------------------------------------------
    def write_champion(self, genome_json: str, generation: int) -> None:
        atomic_write_text(self.champions_dir / f"gen-{generation:05d}.json", genome_json)
        atomic_write_text(self.champion_file, genome_json)


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:.6f}".rstrip("0").rstrip(".")
    return v


# ---- checking and locking a run folder before a run -----------------------------------------


@dataclass
class Prepared:
    """A checked, locked run folder: what `run_search` needs to start or continue."""

    run: RunDir
    state: SearchState | None  # the state to resume, or None for a new run
    wall_s: float  # wall and CPU seconds already spent (a resumed run)
    cpu_s: float
    lock: FolderLock | None  # None: the caller guards the folder (a study's search cell)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def _notify(msg: str) -> None:
    print(f"wann: {msg}", file=sys.stderr, flush=True)


def _check_new(run: RunDir, out: Path) -> None:
    check_writable_folder(out, "out")
    entries = visible_entries(out)
    if not entries:
        return
    if run.checkpoint_file.exists():
        raise ConfigError(
            "out",
            f"{out} already holds a run; pass --resume to continue it, or choose another --out (nothing was changed)",
        )
    shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
    raise ConfigError(
        "out",
        f"{out} is not empty ({shown}) and holds no resumable run; a new run needs a new or empty folder: "
        "choose another --out (nothing was changed)",
    )


def _check_resume(exp: Experiment, run: RunDir, out: Path) -> tuple[SearchState, dict[str, Any]]:
    if not out.is_dir():
        raise ConfigError("resume", f"{out} does not exist; nothing to resume (drop --resume to start a new run)")
    if not run.checkpoint_file.exists():
        what = "metrics.csv but no checkpoint.json" if run.metrics_file.exists() else "no checkpoint.json"
        raise ConfigError(
            "resume",
            f"{out} holds {what}: it is not a resumable run (stopped before its first checkpoint, or not made by "
            "wann search). Start a new run in another --out (nothing was changed)",
        )
    if exp.islands is not None:  # an island run's files (`wann.search.island_files`)
        return check_resume_islands(exp, run, out)
    doc = run.read_checkpoint()
    if doc.get("experiment_id") != experiment_identity(exp):
        raise ConfigError(
            "resume",
            f"{out} was made by a different experiment (its settings differ); "
            "resume with the same experiment file, or choose another --out",
        )
    try:
        state = SearchState.from_dict(doc["state"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise ConfigError(
            "resume",
            f"{run.checkpoint_file} is damaged ({type(e).__name__}: {e}); restore it, or start a new run in another "
            "--out (nothing was changed)",
        ) from None
    problems = []
    if len(state.population) != exp.search.population:
        problems.append(f"its population has {len(state.population)} genomes, the experiment {exp.search.population}")
    bad_io = [g for g in state.population if (g.n_inputs, g.n_outputs) != _io(exp)]
    if bad_io:
        problems.append(f"genomes with {bad_io[0].n_inputs}/{bad_io[0].n_outputs} inputs/outputs")
    if state.generation < 0:
        problems.append(f"generation {state.generation}")
    have = run.finished_generations()
    if have < state.generation:
        problems.append(
            f"metrics.csv has rows for {have} generations, the checkpoint is at generation {state.generation}"
            + ("" if run.metrics_file.exists() else " (metrics.csv is missing)")
        )
    if problems:
        raise ConfigError(
            "resume",
            f"{out}: the run folder's files disagree ({'; '.join(problems)}); restore the missing or changed file, "
            "or start a new run in another --out (nothing was changed)",
        )
    return state, doc


def _io(exp: Experiment) -> tuple[int, int]:
    t = task_from_spec(exp.task)
    return t.n_inputs, t.n_outputs


def prepare(exp: Experiment, out: str | Path, resume: bool, notify=_notify, lock: bool = True) -> Prepared:
    """Check and lock the run folder before any work starts (ConfigError otherwise; nothing on
    disk is changed by a refusal). The caller releases the lock (`Prepared.release`).

    lock=False: no lock file (a study's search cell, whose study folder is locked by its driver)."""
    out = Path(out)
    run = RunDir(out)
    check = (lambda: _check_resume(exp, run, out)) if resume else (lambda: _check_new(run, out))
    if lock:
        FolderLock(out, "out").check_free(take_stale=True)  # "in use" comes before "not empty"
    got = check()  # read-only: a refusal changes nothing, not even the folder's mtime
    if not lock:
        out.mkdir(parents=True, exist_ok=True)
        return Prepared(run, None, 0.0, 0.0, None) if not resume else _prepared(run, got, None)
    return _locked(out, run, check, resume, notify)


def _prepared(run: RunDir, got, lock) -> Prepared:
    state, doc = got
    return Prepared(run, state, float(doc.get("wall_s", 0.0)), float(doc.get("cpu_s", 0.0)), lock)


def _locked(out: Path, run: RunDir, check, resume: bool, notify) -> Prepared:
    lock = FolderLock(out, "out", command="wann search")
    lock.acquire(take_stale=True)
    try:
        if lock.took_over:
            o = lock.took_over
            notify(f"{out} had a stale lock from pid {o.get('pid')} (no longer running); taking it over")
        got = check()  # again, now that nobody else can write here
    except BaseException:
        lock.release()
        raise
    return _prepared(run, got, lock) if resume else Prepared(run, None, 0.0, 0.0, lock)
