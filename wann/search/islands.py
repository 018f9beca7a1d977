"""Islands: several pure ask/tell searches that exchange their best genomes every epoch.

Island k runs the ordinary `Search` on its own sub-population (`island_sizes`) with its own
seed, ``derived_rng(run seed, k, ISLAND)`` (`island_seed`): its initial population, rankings and
mutations are its own. All islands evaluate generation g on the same rollout seeds, those of the
run seed (`rollout_seeds(run seed, g)`, what a single-population run of that seed uses), so
fitness values are comparable across islands: a migrant brings its rewards with it and needs
no re-evaluation, and island champions compete on equal episodes.

Epochs. An epoch is `migration_interval` generations. At its last generation each island
evaluates its population, then, before ranking it, sends its best `migrants` genomes to its
neighbours (ring: island k -> k+1 mod count; full: to all others) and replaces its worst by the
ones it receives; then it ranks and breeds as usual (`Search.tell`), so a good migrant can be
among the elites of the next generation. Best / worst order: higher mean
reward over shared weights and rollouts first, then fewer connections, then lower index. A
receiver takes immigrants in sender order (ascending island index), each sender's best first;
the i-th immigrant replaces the i-th worst native. Nothing depends on which island finishes
first, so a run gives the same result in-process (`SerialIslands`) and on Ray actors
(`wann.distributed.RayIslands`), with any scheduling, restart or resume. The episodes of the
replaced natives were run, so they count in the budget; the migrants' do not count twice.

An island is driven by two calls: ``run(end, migrate)`` (evaluate up to generation `end`;
with `migrate` stop before ranking the last one and return the emigrants) and
``receive(immigrants)`` (finish that generation). Both return plain data (reports, migrants,
the state as JSON-ready dict), so an island may live in another process.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from wann.evaluate import Evaluation, evaluate
from wann.genome import Genome
from wann.search.island_settings import island_sizes
from wann.search.search import Search, SearchState
from wann.seeds import ISLAND, derived_rng, rollout_seeds
from wann.tasks import task_from_spec


def island_seed(seed: int, k: int) -> int:
    """The search seed of island k of a run with `seed` (in [0, 2^32))."""
    return int(derived_rng(seed, k, ISLAND).integers(0, 2**32))


def island_search(exp: Any, k: int, task: Any = None) -> Search:
    """The `Search` of island k of experiment `exp` (its sub-population, its seed)."""
    task = task if task is not None else task_from_spec(exp.task)
    size = island_sizes(exp.search.population, exp.islands.count)[k]
    settings = replace(exp.search, population=size)
    meta = {"experiment": exp.name, "island": k}
    return Search.for_task(task, settings, exp.variation, island_seed(exp.seed, k), meta=meta)


@dataclass(frozen=True)
class Migrant:
    """A genome on its way to another island, with its rewards (W, S) and steps at the
    generation it left (the same episodes its receiver ran), its source island and rank."""

    genome: Genome
    rewards: np.ndarray
    steps: np.ndarray
    source: int
    rank: int

    @property
    def fitness(self) -> float:
        return float(self.rewards.mean())


def best_first(ev: Evaluation, population: tuple[Genome, ...] | list[Genome]) -> list[int]:
    """Indices of `population` from best to worst: mean reward desc, connections asc, index asc."""
    mean = ev.rewards.reshape(len(population), -1).mean(axis=1)
    conns = np.array([g.n_connections for g in population])
    return [int(i) for i in np.lexsort((np.arange(len(population)), conns, -mean))]


def route(emigrants: list[list[Migrant]], topology: str) -> list[list[Migrant]]:
    """The immigrants of each island, given every island's emigrants (best first)."""
    n = len(emigrants)
    if n < 2:
        return [[] for _ in range(n)]
    if topology == "ring":
        return [list(emigrants[(k - 1) % n]) for k in range(n)]
    return [[m for j in range(n) if j != k for m in emigrants[j]] for k in range(n)]


def _rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


class Island:
    """One island: its `Search`, its `SearchState`, and the evaluated generation waiting for
    immigrants (between `run(..., migrate=True)` and `receive`)."""

    def __init__(self, exp: Any, k: int, state: dict[str, Any] | None = None, executor: Any = None):
        self.exp, self.k, self.executor = exp, k, executor
        self.task = task_from_spec(exp.task)
        self.search = island_search(exp, k, self.task)
        self.state = SearchState.from_dict(state) if state is not None else self.search.init()
        self._pending: tuple[Evaluation, float, float, float] | None = None

    def _evaluate(self) -> tuple[Evaluation, float, float, float]:
        s = self.exp.search
        t0, c0 = time.perf_counter(), time.process_time()
        seeds = rollout_seeds(self.exp.seed, self.state.generation, s.rollouts)
        pop, weights = list(self.state.population), list(s.shared_weights)
        if self.executor is not None:  # the island's own evaluator pool (the same numbers)
            ev = self.executor.evaluate(pop, weights, seeds)
        else:
            ev = evaluate(self.task, pop, weights, seeds)
        return ev, t0, c0, time.perf_counter() - t0

    def _tell(self, ev: Evaluation, counted: Evaluation, t0: float, c0: float, compute: float) -> dict[str, Any]:
        before = self.state
        state, report = self.search.tell(before, ev)
        # the budget counts the episodes this island ran (`counted`), not the migrants' again
        self.state = replace(
            state, episodes=before.episodes + counted.episodes, env_steps=before.env_steps + counted.env_steps
        )
        report.update(
            {
                "episodes": counted.episodes,
                "env_steps": counted.env_steps,
                "island_episodes": self.state.episodes,
                "island_env_steps": self.state.env_steps,
                "gen_wall_s": time.perf_counter() - t0,
                "gen_cpu_s": time.process_time() - c0,
                "compute_s": compute,
                "evaluator_rss_mb": _rss_mb(),
            }
        )
        return report

    def run(self, end: int, migrate: bool, migrants: int = 0) -> dict[str, Any]:
        """Advance to generation `end`. migrate: evaluate generation end - 1 but keep it for
        `receive`, and return this island's best `migrants` genomes as ``emigrants``."""
        reports = []
        while self.state.generation < end:
            ev, t0, c0, compute = self._evaluate()
            if migrate and self.state.generation == end - 1:
                self._pending = (ev, t0, c0, compute)
                return {"reports": reports, "emigrants": self._emigrants(ev, migrants), "state": None}
            reports.append(self._tell(ev, ev, t0, c0, compute))
        return {"reports": reports, "emigrants": [], "state": self.state.to_dict()}

    def _emigrants(self, ev: Evaluation, n: int) -> list[Migrant]:
        pop = self.state.population
        return [
            Migrant(pop[i], ev.rewards[i].copy(), ev.steps[i].copy(), self.k, r)
            for r, i in enumerate(best_first(ev, pop)[:n])
        ]

    def receive(self, immigrants: list[Migrant]) -> dict[str, Any]:
        """Replace the worst genomes of the waiting generation by `immigrants`, then rank and
        breed it. Returns its report (with the fitness of the replaced genomes) and the state."""
        if self._pending is None:
            raise RuntimeError(f"island {self.k}: receive() without a run(..., migrate=True) before it")
        ev, t0, c0, compute = self._pending
        self._pending = None
        pop = list(self.state.population)
        rewards, steps = ev.rewards.copy(), ev.steps.copy()
        worst = best_first(ev, pop)[::-1][: len(immigrants)]
        replaced = [float(ev.rewards[i].mean()) for i in worst]
        for slot, m in zip(worst, immigrants):
            pop[slot], rewards[slot], steps[slot] = m.genome, m.rewards, m.steps
        self.state = replace(self.state, population=tuple(pop))
        report = self._tell(Evaluation(rewards, steps), ev, t0, c0, compute)
        # migrants whose structure is in the next generation (by fingerprint: object identity
        # would differ between an in-process run and one resumed or on Ray)
        now = {g.fingerprint() for g in self.state.population}
        kept = sum(m.genome.fingerprint() in now for m in immigrants)
        out = {"reports": [report], "replaced": replaced, "slots": worst, "kept": kept}
        return {**out, "state": self.state.to_dict()}

    def warm(self) -> Island:
        """Compile the task's kernels now (in a fresh process), not inside the first timed
        generation (an island with an evaluator pool: its evaluators did)."""
        if self.executor is not None:
            return self
        g = self.state.population[0]
        evaluate(self.task, [g], [1.0], [0])
        return self

    def population(self) -> list[dict[str, Any]]:
        """The current population as JSON-ready dicts (tests: did the migrants arrive?)."""
        return [g.to_dict() for g in self.state.population]


@dataclass(frozen=True)
class IslandFactory:
    """A picklable recipe for island k of `exp`: ``IslandFactory(exp, k)(state, executor) ->
    Island``; `executor` (optional): an evaluator pool for the island's genomes (the same
    numbers as evaluating in-process; `task_spec` is the task it must be made for)."""

    exp: Any
    k: int

    @property
    def task_spec(self) -> Any:
        """The island's task: a spec dict or a task object (what an evaluator pool is made from)."""
        return self.exp.task

    def __call__(self, state: dict[str, Any] | None, executor: Any = None) -> Island:
        return Island(self.exp, self.k, state, executor).warm()


class SerialIslands:
    """All islands in this process, one after the other: the in-process twin of
    `wann.distributed.RayIslands` (same calls, same results)."""

    kind = "serial"

    def __init__(self):
        self.islands: list[Island] = []

    def start(self, factories: list[IslandFactory], states: list[dict[str, Any] | None]) -> None:
        self.islands = [f(s) for f, s in zip(factories, states)]

    def map(self, method: str, args: list[tuple]) -> list[Any]:
        """Call `method` on every island k with ``*args[k]``; results in island order."""
        return [getattr(isl, method)(*a) for isl, a in zip(self.islands, args)]

    def commit(self, states: list[dict[str, Any]]) -> None:
        """The islands' states at an epoch's end (a Ray backend restarts lost islands from them)."""

    def stats(self) -> dict[str, Any]:
        return {"executor": "serial", "workers": len(self.islands), "restarts": 0, "nodes_used": 1}

    def close(self) -> None:
        self.islands = []
