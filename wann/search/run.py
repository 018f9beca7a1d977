"""Run a search: experiment -> executor -> ask/evaluate/tell loop -> run directory.

After every generation: one metrics row, the champion when it improved, then an atomic
checkpoint. `resume=True` continues from the checkpoint and ends identical to an uninterrupted
run (the search state is the whole state; all randomness is derived from seed and generation).
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wann.errors import ConfigError
from wann.experiment import Experiment
from wann.files import FolderLock, check_writable_folder, visible_entries
from wann.limits import Limits
from wann.search import Search, SearchState
from wann.store import RunDir, atomic_write_text
from wann.tasks import task_from_spec


@dataclass
class RunResult:
    run_dir: Path
    state: SearchState
    generations_run: int
    wall_s: float


def experiment_identity(exp: Experiment) -> str:
    """Hash of everything that determines results (not generations, not where it executes)."""
    body = replace(exp, search=replace(exp.search, generations=0), execution=type(exp.execution)(), limits=Limits())
    return hashlib.sha256(body.to_toml().encode()).hexdigest()[:16]


class Progress:
    """One status line per generation: on a terminal it rewrites itself, elsewhere it prints
    about 40 lines per run."""

    def __init__(self, total: int, start: int, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.total, self.start = total, start
        self.t0 = time.monotonic()
        self.every = max(1, (total - start) // 40)

    def update(self, report: dict[str, Any], distributed: bool = False) -> None:
        if not self.enabled:
            return
        g = report["generation"] + 1
        done = g - self.start
        el = time.monotonic() - self.t0
        eta = el / done * (self.total - g) if done else 0.0
        extra = ""
        if distributed:
            extra = (
                f" | workers {report['workers']} restarts {report['restarts']}"
                f" compute {report['compute_s']:.2f}s dispatch {report['dispatch_s']:.2f}s"
                f" rss driver {report['driver_rss_mb']:.0f}M evaluator {report['evaluator_rss_mb_max']:.0f}M"
            )
        line = (
            f"gen {g:>5}/{self.total}  best {report['best_fitness']:8.2f}  "
            f"mean {report['mean_fitness']:8.2f}  best-ever {report['best_ever_fitness']:8.2f}  "
            f"conns {report['best_connections']:3d}  {report['gen_wall_s']:5.2f}s/gen  "
            f"eta {_hms(eta)}{extra}"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(120)[:220])
            if g == self.total:
                self.stream.write("\n")
        elif done % self.every == 0 or g == self.total or done == 1:
            self.stream.write(line + "\n")
        self.stream.flush()


def _hms(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def make_executor(exp: Experiment, executor: str | None = None, workers: int | None = None, address: str | None = None):
    kind = executor or exp.execution.executor
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
    raise ConfigError("--executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")


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
    check_writable_folder(out, "--out")
    entries = visible_entries(out)
    if not entries:
        return
    if run.checkpoint_file.exists():
        raise ConfigError(
            "--out",
            f"{out} already holds a run; pass --resume to continue it, or choose another --out (nothing was changed)",
        )
    shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
    raise ConfigError(
        "--out",
        f"{out} is not empty ({shown}) and holds no resumable run; a new run needs a new or empty folder: "
        "choose another --out (nothing was changed)",
    )


def _check_resume(exp: Experiment, run: RunDir, out: Path) -> tuple[SearchState, dict[str, Any]]:
    if not out.is_dir():
        raise ConfigError("--resume", f"{out} does not exist; nothing to resume (drop --resume to start a new run)")
    if not run.checkpoint_file.exists():
        what = "metrics.csv but no checkpoint.json" if run.metrics_file.exists() else "no checkpoint.json"
        raise ConfigError(
            "--resume",
            f"{out} holds {what}: it is not a resumable run (stopped before its first checkpoint, or not made by "
            "wann search). Start a new run in another --out (nothing was changed)",
        )
    doc = run.read_checkpoint()
    if doc.get("experiment_id") != experiment_identity(exp):
        raise ConfigError(
            "--resume",
            f"{out} was made by a different experiment (its settings differ); "
            "resume with the same experiment file, or choose another --out",
        )
    try:
        state = SearchState.from_dict(doc["state"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise ConfigError(
            "--resume",
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
            "--resume",
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
        FolderLock(out, "--out").check_free(take_stale=True)  # "in use" comes before "not empty"
    got = check()  # read-only: a refusal changes nothing, not even the folder's mtime
    if not lock:
        out.mkdir(parents=True, exist_ok=True)
        return Prepared(run, None, 0.0, 0.0, None) if not resume else _prepared(run, got, None)
    return _locked(out, run, check, resume, notify)


def _prepared(run: RunDir, got, lock) -> Prepared:
    state, doc = got
    return Prepared(run, state, float(doc.get("wall_s", 0.0)), float(doc.get("cpu_s", 0.0)), lock)


def _locked(out: Path, run: RunDir, check, resume: bool, notify) -> Prepared:
    lock = FolderLock(out, "--out", command="wann search")
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


def run_search(
    exp: Experiment,
    out: str | Path,
    executor=None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    prepared: Prepared | None = None,
) -> RunResult:
    """Run (or resume) `exp` into run directory `out` with `executor` (default: the experiment's).

    stop_after: finish at most this many generations in this call (tests use it). prepared: a
    folder already checked and locked by `prepare` (the CLI does this before starting Ray); it
    is released at the end either way."""
    out = Path(out)
    task = task_from_spec(exp.task)
    if prepared is None:
        prepared = prepare(exp, out, resume)
    run, state, wall0, cpu0 = prepared.run, prepared.state, prepared.wall_s, prepared.cpu_s
    search = Search(
        exp.search,
        exp.variation,
        task.n_inputs,
        task.n_outputs,
        exp.seed,
        meta={"task": task.spec(), "experiment": exp.name},
    )
    own_executor = executor is None
    try:
        if own_executor:
            executor = make_executor(exp)
        if state is None:
            atomic_write_text(run.experiment_file, exp.to_toml())
            state = search.init()
        else:
            run.truncate_metrics(state.generation)
            atomic_write_text(run.experiment_file, exp.to_toml())
        bar = Progress(exp.search.generations, state.generation, enabled=progress)
        t_start, c_start = time.monotonic(), _cpu_self()
        ev_cpu_start = executor.stats().get("eval_cpu_s", 0.0)
        done = 0
        while state.generation < exp.search.generations and (stop_after is None or done < stop_after):
            g0, c0 = time.monotonic(), _cpu_self()
            genomes, seeds = search.ask(state)
            ev = executor.evaluate(genomes, exp.search.shared_weights, seeds)
            state, report = search.tell(state, ev)
            stats = executor.stats()
            wall = wall0 + time.monotonic() - t_start
            # CPU: the driver's own time plus evaluation CPU spent in other processes
            serial = stats.get("executor") == "serial"
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
            report["process_tree_rss_mb"] = _tree_rss_mb()
            run.append_metrics(report)
            if state.best is not None and state.best.meta.get("generation") == report["generation"]:
                run.write_champion(state.best.to_json(), report["generation"])
            run.write_checkpoint(
                state.to_dict(), {"experiment_id": experiment_identity(exp), "wall_s": wall, "cpu_s": cpu}
            )
            bar.update(report, distributed=not serial)
            done += 1
        return RunResult(run.path, state, done, time.monotonic() - t_start)
    finally:
        if own_executor and executor is not None:
            executor.close()
        prepared.release()


def _cpu_self() -> float:
    return time.process_time()


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
