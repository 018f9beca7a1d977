"""The weight-agnostic search as an explicit state and pure ask/tell steps (no I/O, no Ray).

    search = Search.for_task(task, settings, variation, seed)
    state = search.init()
    while state.generation < settings.generations:
        genomes, seeds = search.ask(state)
        evaluation = executor.evaluate(genomes, settings.shared_weights, seeds)
        state, report = search.tell(state, evaluation)

Every random choice of generation k comes from a generator seeded by (seed, k, purpose), so the
state needs no RNG inside it: a run resumed from any checkpoint ends where an uninterrupted one
would. Ranking is NSGA-II on (mean, 1/connections) with probability 0.8, else (mean, max); then
cull the worst 20 %, keep the best 20 % of the rest as elites, fill with mutated winners of two
rank tournaments (Gaier & Ha 2019 and the reference code's defaults).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from wann.evaluate import Evaluation
from wann.genome import Genome, genomes_from
from wann.search.experiment import SearchSettings
from wann.search.ranking import nsga_rank, wann_objectives
from wann.search.variation import VariationSettings, mutate
from wann.seeds import INIT, SELECT, derived_rng, rollout_seeds


@dataclass(frozen=True)
class SearchState:
    """generation: index of the generation `ask` hands out next. population: its genomes.
    best: best genome so far (by mean reward over shared weights at its evaluation), with
    best_fitness; episodes / env_steps: totals so far."""

    generation: int
    population: tuple[Genome, ...]
    best: Genome | None = None
    best_fitness: float = -math.inf
    episodes: int = 0
    env_steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "population": [g.to_dict() for g in self.population],
            "best": self.best.to_dict() if self.best else None,
            "best_fitness": self.best_fitness if math.isfinite(self.best_fitness) else None,
            "episodes": self.episodes,
            "env_steps": self.env_steps,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchState:
        best = Genome.from_dict(d["best"], "checkpoint.best") if d.get("best") else None
        return cls(
            int(d["generation"]),
            tuple(genomes_from(d["population"], "checkpoint.population")),
            best,
            -math.inf if d.get("best_fitness") is None else float(d["best_fitness"]),
            int(d["episodes"]),
            int(d["env_steps"]),
        )


@dataclass(frozen=True)
class Search:
    """The pure ask/tell search: `init() -> state`, `ask(state) -> (genomes, rollout seeds)`,
    `tell(state, evaluation) -> (next state, report)`. No I/O; every random choice is derived from
    (seed, generation, purpose). `meta` is recorded in every champion's meta (e.g. its task).
    Build it with `Search.for_task`, which resolves the task's defaults."""

    settings: SearchSettings
    variation: VariationSettings
    n_inputs: int
    n_outputs: int
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_task(
        cls,
        task,
        settings: SearchSettings | None = None,
        variation: VariationSettings | None = None,
        seed: int = 0,
        meta: dict[str, Any] | None = None,
    ) -> Search:
        """A search on `task` (a `wann.tasks.Task`): its interface, its hidden activations when
        `variation.activations` is None, and its spec in every champion's meta, so a champion
        from ask/tell can be assessed on its task. Defaults: the paper's settings, seed 0."""
        variation = variation or VariationSettings()
        if variation.activations is None:
            variation = replace(variation, activations=tuple(task.hidden_activations))
        full_meta = {"task": task.spec(), **(meta or {})}
        return cls(settings or SearchSettings(), variation, task.n_inputs, task.n_outputs, seed, full_meta)

    def init(self) -> SearchState:
        rng = derived_rng(self.seed, 0, INIT)
        pop = tuple(
            Genome.initial(self.n_inputs, self.n_outputs, rng, self.settings.p_init)
            for _ in range(self.settings.population)
        )
        return SearchState(0, pop)

    def ask(self, state: SearchState) -> tuple[tuple[Genome, ...], list[int]]:
        """The genomes to evaluate this generation and the rollout seeds they all share."""
        return state.population, rollout_seeds(self.seed, state.generation, self.settings.rollouts)

    def tell(self, state: SearchState, ev: Evaluation) -> tuple[SearchState, dict[str, Any]]:
        """Rank the evaluated population, update the best genome, breed the next generation.

        ev.rewards: (population, n_shared_weights, rollouts). Returns the next state and the
        generation's report (a flat dict of numbers for the metrics file)."""
        s = self.settings
        pop = state.population
        P = len(pop)
        if ev.rewards.shape != (P, len(s.shared_weights), s.rollouts):
            raise ValueError(f"rewards shape {ev.rewards.shape} != {(P, len(s.shared_weights), s.rollouts)}")
        per_weight = ev.rewards.mean(axis=2)  # (P, W)
        mean = per_weight.mean(axis=1)
        top = per_weight.max(axis=1)
        conns = np.array([g.n_connections for g in pop])
        nodes = np.array([g.n_nodes for g in pop])

        rng = derived_rng(self.seed, state.generation, SELECT)
        use_conn = bool(rng.random() < s.connection_objective_prob)
        order = nsga_rank(wann_objectives(mean, top, conns, use_conn))

        # best of this generation: highest mean; ties -> fewer connections -> lower index
        gb = int(np.lexsort((np.arange(P), conns, -mean))[0])
        best, best_fit = state.best, state.best_fitness
        if mean[gb] > best_fit:
            best_fit = float(mean[gb])
            best = pop[gb].with_meta(
                generation=state.generation,
                fitness=best_fit,
                max_fitness=float(top[gb]),
                shared_weights=list(s.shared_weights),
                rewards_per_weight=[float(x) for x in per_weight[gb]],
                seed=self.seed,
                **self.meta,
            )

        children = self._breed([pop[i] for i in order], rng)
        report: dict[str, Any] = {
            "generation": state.generation,
            "objective": "connections" if use_conn else "max",
            "best_fitness": float(mean[gb]),
            "best_max": float(top[gb]),
            "mean_fitness": float(mean.mean()),
            "median_fitness": float(np.median(mean)),
            "best_connections": int(conns[gb]),
            "best_nodes": int(nodes[gb]),
            "mean_connections": float(conns.mean()),
            "mean_nodes": float(nodes.mean()),
            "best_ever_fitness": best_fit,
        }
        for w, v in zip(s.shared_weights, per_weight.max(axis=0)):
            report[f"best_at_w{w:+g}"] = float(v)
        report["episodes"] = ev.episodes
        report["env_steps"] = ev.env_steps
        new = SearchState(
            state.generation + 1,
            tuple(children),
            best,
            best_fit,
            state.episodes + ev.episodes,
            state.env_steps + ev.env_steps,
        )
        return new, report

    def _breed(self, ranked: list[Genome], rng: np.random.Generator) -> list[Genome]:
        s = self.settings
        P = len(ranked)
        n_cull = int(math.floor(s.cull * P))
        pool = ranked[: P - n_cull]
        n_elite = int(math.floor(s.elite * len(pool)))
        children = list(pool[:n_elite])
        n_off = P - n_elite
        a = rng.integers(len(pool), size=(n_off, s.tournament)).min(axis=1)
        b = rng.integers(len(pool), size=(n_off, s.tournament)).min(axis=1)
        parents = np.minimum(a, b)
        children += [mutate(pool[p], rng, self.variation) for p in parents]
        return children
