"""Run an island search (`run_islands`; `wann.search.run.run_search` calls it when the
experiment has ``[islands]``): the driver's loop over epochs.

Each epoch every island advances `migration_interval` generations where it runs (in this process
with `SerialIslands`, on its own Ray actor with `wann.distributed.RayIslands`); at the epoch's
end the driver routes the migrants (`wann.search.islands`), then writes the run folder
(`wann.search.island_files`): island checkpoints, champion, metrics rows, the migration row,
checkpoint.json. The driver's work per epoch is the routing and the files, not the population's
ranking and breeding, which each island does itself.

The run's champion: each island's best genome (by its search fitness) is re-scored on
`SELECTION_EPISODES` selection episodes (seeds from ``TEST_SEED + SELECTION_OFFSET``, never seen
by any island's search, see `wann.seeds`), at every shared weight; the highest mean wins (ties:
higher search fitness, then lower island). Its meta adds ``island``, ``selection_mean`` and
``selection_episodes``. It is chosen at every epoch's end (and the run's last generation), also
in a run stopped and resumed mid-epoch; champion.json is updated whenever the choice changes,
and champions/gen-NNNNN.json names the epoch's last generation.

metrics.csv has one row per island per generation, the columns of a single-population run with
``island`` after ``generation``: fitness and size columns describe that island's generation;
``episodes`` / ``env_steps`` that island's generation; ``total_episodes`` / ``total_env_steps``
the whole run (all islands) through that generation; ``wall_s`` / ``cpu_s`` the run's totals at
the end of the row's epoch; ``gen_wall_s``, ``gen_cpu_s``, ``compute_s`` the island's own time;
``dispatch_s`` the epoch's wait beyond its slowest island, per generation; ``island_episodes``
/ ``island_env_steps`` the island's totals.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wann.errors import ConfigError
from wann.evaluate import evaluate
from wann.files import atomic_write_text
from wann.genome import Genome
from wann.search.experiment import experiment_identity
from wann.search.island_files import (
    MODE,
    append_migration,
    truncate_migrations,
    write_island,
)
from wann.search.island_settings import check_islands
from wann.search.islands import IslandFactory, SerialIslands, island_search, island_seed, route
from wann.search.reporters import hms
from wann.search.rundir import RunDir, _fmt, prepare
from wann.search.search import SearchState
from wann.seeds import SELECTION_OFFSET, TEST_SEED
from wann.tasks import task_from_spec

SELECTION_EPISODES = 10
#: columns that measure time, memory or the executor (they differ between runs of one experiment)
TIMING_COLUMNS = (
    "gen_wall_s",
    "gen_cpu_s",
    "wall_s",
    "cpu_s",
    "workers",
    "restarts",
    "compute_s",
    "dispatch_s",
    "batches",
    "nodes_used",
    "evaluator_rss_mb_max",
    "evaluator_rss_mb",
    "driver_rss_mb",
    "process_tree_rss_mb",
)
_ISLAND_KEYS = ("island_episodes", "island_env_steps", "gen_wall_s", "gen_cpu_s", "compute_s", "evaluator_rss_mb")


def make_island_executor(exp: Any, executor: str | None = None, address: str | None = None):
    """The islands' backend: `SerialIslands` or `wann.distributed.RayIslands` (a private local
    Ray gets at least one CPU per island)."""
    kind = executor or exp.execution.executor
    if kind == "serial":
        return SerialIslands()
    if kind == "ray":
        from wann.distributed import RayIslands

        address = address if address is not None else (exp.execution.address or None)
        cpus = None if address or os.environ.get("RAY_ADDRESS") else max(os.cpu_count() or 1, exp.islands.count)
        return RayIslands(address=address, num_cpus=cpus, workers=exp.execution.workers)
    raise ConfigError("executor", f"unknown executor {kind!r}; use 'ray' or 'serial'")


def _backend(exp: Any, executor: Any) -> tuple[Any, bool]:
    if executor is None:
        return make_island_executor(exp), True
    if hasattr(executor, "map") and hasattr(executor, "commit"):
        return executor, False
    if executor.stats().get("executor") == "serial":
        return SerialIslands(), True
    raise ConfigError(
        "executor",
        "an island run ([islands]) evaluates on its island actors, not on an evaluator pool: pass executor=None, "
        "make_executor(exp) or wann.distributed.RayIslands()",
    )


class ChampionChooser:
    """The run's champion among the island champions, re-scored on selection episodes."""

    def __init__(self, exp: Any, task: Any):
        self.task = task
        self.weights = list(exp.search.shared_weights)
        self.seeds = [TEST_SEED + SELECTION_OFFSET + i for i in range(SELECTION_EPISODES)]
        self.cache: dict[str, float] = {}

    def score(self, g: Genome) -> float:
        key = g.fingerprint()
        if key not in self.cache:
            self.cache[key] = float(evaluate(self.task, [g], self.weights, self.seeds).rewards.mean())
        return self.cache[key]

    def choose(self, states: Sequence[SearchState]) -> Genome | None:
        cands = [(self.score(s.best), s.best_fitness, -k, s.best) for k, s in enumerate(states) if s.best is not None]
        if not cands:
            return None
        score, _, _, best = max(cands, key=lambda c: c[:3])
        return best.with_meta(selection_mean=score, selection_episodes=SELECTION_EPISODES)


def _rss_mb(pid: int | None = None, tree: bool = False) -> float:
    try:
        import psutil

        me = psutil.Process(pid)
        total = me.memory_info().rss
        for child in me.children(recursive=True) if tree else ():
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20
    except Exception:
        return float("nan")


def _append_rows(run: RunDir, rows: list[dict[str, Any]]) -> None:
    """metrics.csv rows of one epoch in one fsynced append (one row at a time when the file's
    header differs, which rewrites it with the union of columns)."""
    f = run.metrics_file
    new = not f.exists() or f.stat().st_size == 0
    if not new:
        with f.open(newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != list(rows[0]):
            for r in rows:
                run.append_metrics(r)
            return
    with f.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        if new:
            w.writeheader()
        w.writerows({k: _fmt(v) for k, v in r.items()} for r in rows)
        fh.flush()
        os.fsync(fh.fileno())


def _rows(reports: list[list[dict]], timing: dict[str, Any], stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics rows of one epoch, generation by generation, island by island."""
    rows = []
    for i in range(len(reports[0])):
        total_ep = sum(r[i]["island_episodes"] for r in reports)
        total_steps = sum(r[i]["island_env_steps"] for r in reports)
        for k, r in enumerate(reports):
            rep = r[i]
            row = {"generation": rep["generation"], "island": k}
            row.update({key: v for key, v in rep.items() if key not in _ISLAND_KEYS and key != "generation"})
            rss = rep["evaluator_rss_mb"]
            row.update(
                {
                    "total_episodes": total_ep,
                    "total_env_steps": total_steps,
                    "gen_wall_s": rep["gen_wall_s"],
                    "gen_cpu_s": rep["gen_cpu_s"],
                    "wall_s": timing["wall_s"],
                    "cpu_s": timing["cpu_s"],
                    "workers": stats["workers"],
                    "restarts": stats["restarts"],
                    "compute_s": rep["compute_s"],
                    "dispatch_s": timing["dispatch_s"],
                    "batches": 1,
                    "nodes_used": stats.get("nodes_used", 1),
                    "evaluator_rss_mb_max": rss,
                    "evaluator_rss_mb": f"{rss:.0f}",
                    "driver_rss_mb": timing["driver_rss_mb"],
                    "process_tree_rss_mb": timing["process_tree_rss_mb"],
                    "island_episodes": rep["island_episodes"],
                    "island_env_steps": rep["island_env_steps"],
                }
            )
            rows.append(row)
    return rows


def _migration_row(end: int, interval: int, topology: str, imm: list[list], recv: list[dict]) -> dict[str, Any]:
    moved = [m for ms in imm for m in ms]
    replaced = [x for r in recv for x in r["replaced"]]
    best = max(moved, key=lambda m: (m.fitness, -m.source, -m.rank))
    n = len(imm)
    routes = " ".join(f"{(k - 1) % n}>{k}" for k in range(n)) if topology == "ring" else "all>all"
    return {
        "generation": end - 1,
        "epoch": end // interval,
        "topology": topology,
        "moved": len(moved),
        "routes": routes,
        "best_migrant_fitness": _fmt(best.fitness),
        "best_migrant_from": best.source,
        "mean_migrant_fitness": _fmt(sum(m.fitness for m in moved) / len(moved)),
        "mean_replaced_fitness": _fmt(sum(replaced) / len(replaced)),
        "kept": sum(r["kept"] for r in recv),
    }


def _run_state(states: Sequence[SearchState], champion: Genome | None) -> SearchState:
    """The whole run as one SearchState: all populations, the run's champion, the budget."""
    pop = tuple(g for s in states for g in s.population)
    fit = float(champion.meta["fitness"]) if champion is not None else float("-inf")
    eps, steps = sum(s.episodes for s in states), sum(s.env_steps for s in states)
    return SearchState(states[0].generation, pop, champion, fit, eps, steps)


def run_islands(
    exp: Any,
    out: str | Path | None = None,
    executor: Any = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    prepared: Any = None,
    reporters: Sequence[Any] = (),
) -> tuple[Path | None, SearchState, int, float]:
    """Run (or resume) the island search `exp`; the arguments are those of `run_search`.
    Returns (run folder, the run's state, generations run in this call, wall seconds)."""
    isl = exp.islands
    check_islands(isl, exp.search)
    task = task_from_spec(exp.task)
    if out is None and resume:
        raise ConfigError("resume", "needs the run folder (out) to resume from")
    if out is not None and prepared is None:
        prepared = prepare(exp, out, resume)
    n, total, interval = isl.count, exp.search.generations, isl.migration_interval
    resumed = prepared.state if prepared is not None else None
    if resumed is not None:
        states = list(resumed.states)
    else:
        states = [island_search(exp, k, task).init() for k in range(n)]
    wall0, cpu0 = (prepared.wall_s, prepared.cpu_s) if prepared is not None else (0.0, 0.0)
    run = prepared.run if prepared is not None else None
    exp_id = experiment_identity(exp)
    seeds = [island_seed(exp.seed, k) for k in range(n)]
    chooser = ChampionChooser(exp, task)
    backend, own = None, executor is None
    try:
        backend, own = _backend(exp, executor)
        if run is not None:
            if resumed is not None:
                run.truncate_metrics(resumed.generation)
                truncate_migrations(run.path, resumed.generation)
            atomic_write_text(run.experiment_file, exp.to_toml())
        dicts = [s.to_dict() for s in states]
        backend.start([IslandFactory(exp, k) for k in range(n)], dicts)
        committed = [(states[0].generation, d) for d in dicts]
        champion = resumed.champion if resumed is not None else None
        info = {"experiment": exp, "out": Path(out) if out is not None else None}
        for h in reporters:
            h.start({**info, "start": states[0].generation, "total": total})
        line = EpochProgress(total, states[0].generation, interval) if progress else None
        t_start, c_start = time.monotonic(), time.process_time()
        remote_cpu, done = 0.0, 0
        try:
            while states[0].generation < total and (stop_after is None or done < stop_after):
                g0, e0 = states[0].generation, time.monotonic()
                end = min((g0 // interval + 1) * interval, total)
                if stop_after is not None:
                    end = min(end, g0 + stop_after - done)
                # at every epoch's end, the run's last too: a run extended later (--generations)
                # then continues exactly as one that was longer from the start
                migrate = end % interval == 0 and isl.incoming() > 0
                outs = backend.map("run", [(end, migrate, isl.migrants)] * n)
                reports = [o["reports"] for o in outs]
                mig = None
                if migrate:
                    imm = route([o["emigrants"] for o in outs], isl.topology)
                    recv = backend.map("receive", [(imm[k],) for k in range(n)])
                    for k in range(n):
                        reports[k] += recv[k]["reports"]
                    dicts = [r["state"] for r in recv]
                    mig = _migration_row(end, interval, isl.topology, imm, recv)
                else:
                    dicts = [o["state"] for o in outs]
                backend.commit(dicts)
                states = [SearchState.from_dict(d) for d in dicts]
                stats = backend.stats()
                if stats.get("executor") != "serial":
                    remote_cpu += sum(r["gen_cpu_s"] for rs in reports for r in rs)
                ep_wall = time.monotonic() - e0
                slowest = max(sum(r["gen_wall_s"] for r in rs) for rs in reports)
                timing = {
                    "wall_s": wall0 + time.monotonic() - t_start,
                    "cpu_s": cpu0 + time.process_time() - c_start + remote_cpu,
                    "dispatch_s": max(0.0, ep_wall - slowest) / (end - g0),
                    "driver_rss_mb": _rss_mb(),
                    "process_tree_rss_mb": _rss_mb(tree=True),
                }
                rows = _rows(reports, timing, stats)
                changed = False
                if end % interval == 0 or end == total:  # chosen at epoch ends only, however the run stops
                    chosen = chooser.choose(states)
                    changed = chosen is not None and (champion is None or chosen.to_json() != champion.to_json())
                    champion = chosen if chosen is not None else champion
                if run is not None:  # the order keeps the folder resumable after a kill anywhere
                    for k in range(n):
                        write_island(run.path, k, seeds[k], exp_id, (end, dicts[k]), committed[k])
                    if changed:
                        run.write_champion(champion.to_json(), end - 1)
                    _append_rows(run, rows)
                    if mig is not None:
                        append_migration(run.path, mig)
                    extra = {"experiment_id": exp_id, "wall_s": timing["wall_s"], "cpu_s": timing["cpu_s"]}
                    ck = {"mode": MODE, "generation": end, "islands": n}
                    run.write_checkpoint({**ck, "champion": champion.to_dict() if champion else None}, extra)
                committed = [(end, d) for d in dicts]
                done += end - g0
                for h in reporters:
                    if changed:
                        h.new_best(champion, end - 1)
                    for row in rows:
                        h.generation(states[row["island"]], row)
                if line is not None:
                    line.epoch(end, rows, champion, mig, ep_wall)
        finally:
            for h in reporters:
                h.end(_run_state(states, champion))
        return (run.path if run else None, _run_state(states, champion), done, time.monotonic() - t_start)
    finally:
        if own and backend is not None:
            backend.close()
        if prepared is not None:
            prepared.release()


class EpochProgress:
    """One line per epoch (about 40 per run when not on a terminal) on stderr."""

    def __init__(self, total: int, first: int, interval: int, stream=None):
        self.total, self.first = total, first
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self.every = max(1, (total - first) // interval // 40)
        self.n = 0

    def epoch(self, end: int, rows: list[dict], champion: Genome | None, mig: dict | None, wall: float) -> None:
        self.n += 1
        if not (self.n % self.every == 0 or end == self.total or self.n == 1):
            return
        last = [r for r in rows if r["generation"] == end - 1]
        el = time.monotonic() - self.t0
        eta = el / (end - self.first) * (self.total - end)
        best = " ".join(f"{r['best_fitness']:.1f}" for r in last[:8]) + (" ..." if len(last) > 8 else "")
        champ = f"champion {champion.meta['fitness']:.2f} (island {champion.meta['island']})" if champion else ""
        moved = f" | migrated {mig['moved']} best {mig['best_migrant_fitness']} kept {mig['kept']}" if mig else ""
        self.stream.write(
            f"gen {end:>5}/{self.total}  islands best {best}  {champ}{moved}  {wall:5.2f}s/epoch  eta {hms(eta)}\n"
        )
        self.stream.flush()
