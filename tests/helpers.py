"""Genome builders shared by the task tests (importable: tests/ is on sys.path via conftest)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wann.genome import BIAS, INPUT, OUTPUT, Connection, Genome, Node
from wann.search.variation import VariationSettings, mutate


def genome_from_edges(n_in: int, n_out: int, edges, acts: dict[int, int] | None = None) -> Genome:
    """A genome from explicit (source, destination) edges; outputs linear unless `acts` says."""
    acts = acts or {}
    nodes = [Node(0, BIAS)] + [Node(i, INPUT) for i in range(1, n_in + 1)]
    nodes += [Node(n_in + 1 + k, OUTPUT, acts.get(n_in + 1 + k, 1)) for k in range(n_out)]
    return Genome(n_in, n_out, tuple(nodes), tuple(Connection(s, d) for s, d in edges))


def mutated_population(task, n: int, seed: int, p_init: float, mutations: Callable[[int], int]) -> list[Genome]:
    """n initial genomes for `task`, genome k mutated `mutations(k)` times with the task's activations."""
    rng = np.random.default_rng(seed)
    s = VariationSettings(activations=task.hidden_activations)
    out = []
    for k in range(n):
        g = Genome.initial(task.n_inputs, task.n_outputs, rng, p_init)
        for _ in range(mutations(k)):
            g = mutate(g, rng, s)
        out.append(g)
    return out
