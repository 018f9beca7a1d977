"""Speed of the classic-control tasks: the fused kernel against the numpy twin path.

`measure(env_id)` scores champion-sized genomes (`champion_sized_for`: 29 nodes, 52 enabled
connections, grown by seeded mutation for the task's inputs and outputs) at 6 shared weights x
3 rollouts, once through the fused kernel of `wann.tasks.control` (``kernel = "fused"``) and
once through the numpy twin stepped from Python (``kernel = "numpy"``: the batched compiled
forward pass, then the twin's array step), on the same genomes. The unit is network-timesteps
(one forward pass of one network for one environment step) per CPU-second of this process
(``time.process_time``), environment included, single process. `wann bench --task NAME` reports
these figures.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node
from wann.network import compile_genomes
from wann.seeds import DEFAULT_SHARED_WEIGHTS
from wann.tasks.registry import make_task

SEEDS = (11, 12, 13)


def _split(g: Genome, rng: np.random.Generator) -> Genome:
    """Insert a hidden node (random activation 1..10) into a random enabled connection."""
    enabled = [k for k, c in enumerate(g.connections) if c.enabled]
    k = enabled[int(rng.integers(len(enabled)))]
    old, new = g.connections[k], g.next_id
    conns = list(g.connections)
    conns[k] = Connection(old.source, old.destination, False)
    conns += [Connection(old.source, new), Connection(new, old.destination)]
    node = Node(new, HIDDEN, int(rng.integers(1, 11)))
    return Genome(g.n_inputs, g.n_outputs, g.nodes + (node,), tuple(conns))


def _connect(g: Genome, rng: np.random.Generator) -> Genome | None:
    """Add a random new forward connection (source before destination in the topological
    order, never into the bias or an input, never out of an output); None when none is left."""
    pos = {nid: k for k, nid in enumerate(g.topological_order())}
    kind = {n.id: n.kind for n in g.nodes}
    have = {(c.source, c.destination) for c in g.connections}
    cands = [
        (s, d)
        for s in pos
        for d in pos
        if kind[s] != OUTPUT and kind[d] not in (INPUT, BIAS) and pos[s] < pos[d] and (s, d) not in have
    ]
    if not cands:
        return None
    s, d = cands[int(rng.integers(len(cands)))]
    return Genome(g.n_inputs, g.n_outputs, g.nodes, g.connections + (Connection(s, d),))


def champion_sized_for(
    n_inputs: int, n_outputs: int, n: int = 64, nodes: int = 29, connections: int = 52, seed: int = 0
) -> list[Genome]:
    """`n` genomes of exactly `nodes` nodes (bias, inputs, outputs and hidden) and `connections`
    enabled connections for a task with these inputs and outputs, grown by seeded mutation."""
    rng = np.random.default_rng(seed)
    out: list[Genome] = []
    while len(out) < n:
        g = Genome.initial(n_inputs, n_outputs, rng, 0.5)
        while g.n_nodes < nodes:
            g = _split(g, rng)
        while g.n_connections < connections:
            nxt = _connect(g, rng)
            if nxt is None:
                break
            g = nxt
        if g.n_connections == connections and g.n_nodes == nodes:
            out.append(g.validate())
    return out


def _rows(n_genomes: int, weights, seeds):
    W, S = len(weights), len(seeds)
    rg = np.repeat(np.arange(n_genomes), W * S)
    rw = np.tile(np.repeat(np.asarray(weights, dtype=np.float64), S), n_genomes)
    rs = np.tile(np.asarray(seeds, dtype=np.int64), n_genomes * W)
    return rg, rw, rs


def _rate(task, genomes, weights, seeds, min_cpu: float) -> tuple[float, int]:
    """(network-steps per CPU-second, steps per pass), repeating passes until `min_cpu` CPU-s."""
    rows = _rows(len(genomes), weights, seeds)
    steps, cpu, passes = 0, 0.0, 0
    while cpu < min_cpu or passes < 1:
        t0 = time.process_time()
        batch = compile_genomes(genomes)
        _, st = task.run_episodes(batch, *rows)
        cpu += time.process_time() - t0
        steps += int(st.sum())
        passes += 1
    return steps / cpu, steps // passes


def measure(
    env_id: str,
    genomes: Sequence[Genome] | None = None,
    min_cpu: float = 2.0,
    numpy_genomes: int | None = None,
    weights: Sequence[float] = DEFAULT_SHARED_WEIGHTS,
    seeds: Sequence[int] = SEEDS,
) -> dict[str, float]:
    """Network-steps per CPU-second of `env_id` (a key of `wann.tasks.control.FUSED`).

    genomes: default `champion_sized_for` the task (64). min_cpu: CPU-seconds each path is
    timed for at least (whole passes). numpy_genomes: how many of the genomes the slower numpy
    path runs (all by default; they step together in one batch, as in a search).
    Returns {"fused": rate, "numpy": rate, "speedup": fused / numpy, "env_steps_per_pass":
    network-steps of one fused pass over all genomes}."""
    fused = make_task(env_id, kernel="fused")
    twin = make_task(env_id, kernel="numpy")
    gs = list(genomes) if genomes is not None else champion_sized_for(fused.n_inputs, fused.n_outputs)
    fused.run_episodes(compile_genomes(gs[:1]), *_rows(1, weights, seeds))  # compile outside the timing
    rate, per_pass = _rate(fused, gs, weights, seeds, min_cpu)
    np_rate, _ = _rate(twin, gs[: numpy_genomes or len(gs)], weights, seeds, min_cpu)
    return {"fused": rate, "numpy": np_rate, "speedup": rate / np_rate, "env_steps_per_pass": float(per_pass)}


__all__ = ["champion_sized_for", "measure"]
