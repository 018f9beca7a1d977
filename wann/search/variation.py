"""Structural mutations (Gaier & Ha 2019, section 3; no crossover, as in the reference code).

Each child gets exactly one operator, drawn with the configured probabilities:

- add connection (0.20): any new edge that keeps the graph of all connections acyclic, drawn
  uniformly over such edges (``connection_rule = "acyclic"``, the default). This is wider than
  the reference's "strictly later layer" rule, which leaves some valid acyclic edges unreachable
  (reference repository issue #18) and never lets an output feed another node; that rule is
  ``connection_rule = "layered"`` (`layered_connections`).
- insert node (0.25): split an enabled connection: disable it, add a hidden node with a random
  activation, add source -> new and new -> destination.
- re-enable (0.05): turn one disabled connection back on (always safe: the graph of all
  connections is kept acyclic).
- change activation (0.50): give a random hidden node (and, if enabled, an output node) a
  different random activation.

An operator with nothing to act on leaves the child unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wann.activations import ALL as ACTIVATION_IDS
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node

OPERATORS = ("add_connection", "insert_node", "enable", "change_activation")


@dataclass(frozen=True)
class VariationSettings:
    """Operator probabilities (normalised to sum 1) and the activation choices.

    `activations`: ids hidden nodes may take (None: the task's set, resolved by
    `Search.for_task` / `Experiment.resolved`; all ten for most tasks). `mutate_output_activation`: let
    change-activation also act on output nodes (reference issue #22; off by default, as in the
    paper, where outputs stay linear).
    """

    add_connection: float = 0.20
    insert_node: float = 0.25
    enable: float = 0.05
    change_activation: float = 0.50
    mutate_output_activation: bool = False
    activations: tuple[int, ...] | None = None
    #: "acyclic": any new edge that keeps the graph acyclic, uniform over such edges;
    #: "layered": the reference's rule (a random source, then a random node in a later layer)
    connection_rule: str = "acyclic"

    def choices(self) -> tuple[int, ...]:
        """The activation ids hidden nodes may take (all ten when unresolved)."""
        return self.activations if self.activations is not None else ACTIVATION_IDS

    def probabilities_raw(self) -> tuple[float, float, float, float]:
        return (self.add_connection, self.insert_node, self.enable, self.change_activation)

    def probabilities(self) -> np.ndarray:
        p = np.array(self.probabilities_raw())
        return p / p.sum()


def mutate(genome: Genome, rng: np.random.Generator, settings: VariationSettings) -> Genome:
    """Return a child of `genome` with one structural mutation (or an unchanged copy)."""
    op = OPERATORS[int(rng.choice(4, p=settings.probabilities()))]
    child = _OPS[op](genome, rng, settings)
    return child if child is not None else genome


CONNECTION_RULES = ("acyclic", "layered")


def add_connection(g: Genome, rng: np.random.Generator, s: VariationSettings) -> Genome | None:
    if s.connection_rule == "layered":
        by_source = layered_connections(g)
        if not by_source:
            return None
        sources = sorted(by_source)
        src = sources[int(rng.integers(len(sources)))]
        dsts = by_source[src]
        dst = dsts[int(rng.integers(len(dsts)))]
    else:
        pairs = candidate_connections(g)
        if not pairs:
            return None
        src, dst = pairs[int(rng.integers(len(pairs)))]
    return _replace(g, connections=g.connections + (Connection(src, dst, True),))


def layered_connections(g: Genome) -> dict[int, list[int]]:
    """The reference's add-connection candidates: {source id: [destination ids]}, sources with at
    least one destination only.

    Layers over all connections (enabled or not): bias and inputs 0; a hidden node 1 + the
    largest layer among its sources (1 without any); every output in the layer after the last
    hidden one. A source may connect to any node in a strictly later layer it has no connection
    to yet. The reference draws a source uniformly from those that have a candidate, then a
    destination uniformly (`add_connection`), not an edge uniformly as the acyclic rule does.
    Outputs are in the last layer, so they never feed another node; in a genome that already has
    an output feeding a node (evolved under the acyclic rule), edges that would close a cycle are
    left out."""
    preds: dict[int, list[int]] = {n.id: [] for n in g.nodes}
    for c in g.connections:
        preds[c.destination].append(c.source)
    kind = {n.id: n.kind for n in g.nodes}
    layer: dict[int, int] = {}
    ancestors: dict[int, set[int]] = {}
    for i in g.topological_order():
        layer[i] = 0 if kind[i] in (BIAS, INPUT) else 1 + max((layer[p] for p in preds[i]), default=0)
        ancestors[i] = set(preds[i]).union(*(ancestors[p] for p in preds[i]))
    hidden = [layer[i] for i in layer if kind[i] == HIDDEN]
    last = max(hidden, default=0) + 1
    for i in layer:
        if kind[i] == OUTPUT:
            layer[i] = last
    existing = {(c.source, c.destination) for c in g.connections}
    out: dict[int, list[int]] = {}
    for s_node in g.nodes:
        s = s_node.id
        dsts = [
            d.id
            for d in g.nodes
            if layer[d.id] > layer[s] and (s, d.id) not in existing and d.id not in ancestors[s]
        ]
        if dsts:
            out[s] = dsts
    return out


def candidate_connections(g: Genome) -> list[tuple[int, int]]:
    """Every (source, destination) not yet connected whose addition keeps all connections acyclic.

    Adding s -> d makes a cycle iff d already reaches s, so a destination is valid when it is not
    s itself and not an ancestor of s. Destinations are hidden and output nodes."""
    ids = [n.id for n in g.nodes]
    preds: dict[int, list[int]] = {i: [] for i in ids}
    for c in g.connections:
        preds[c.destination].append(c.source)
    order = g.topological_order()
    ancestors: dict[int, set[int]] = {}
    for i in order:
        a: set[int] = set()
        for p in preds[i]:
            a.add(p)
            a |= ancestors[p]
        ancestors[i] = a
    existing = {(c.source, c.destination) for c in g.connections}
    dests = [n.id for n in g.nodes if n.kind in (HIDDEN, OUTPUT)]
    pairs = []
    for s_node in g.nodes:
        s = s_node.id
        anc = ancestors[s]
        for d in dests:
            if d != s and d not in anc and (s, d) not in existing:
                pairs.append((s, d))
    return pairs


def insert_node(g: Genome, rng: np.random.Generator, s: VariationSettings) -> Genome | None:
    enabled = [k for k, c in enumerate(g.connections) if c.enabled]
    if not enabled:
        return None
    k = enabled[int(rng.integers(len(enabled)))]
    old = g.connections[k]
    new_id = g.next_id
    acts = s.choices()
    act = int(acts[int(rng.integers(len(acts)))])
    conns = list(g.connections)
    conns[k] = Connection(old.source, old.destination, False)
    conns += [Connection(old.source, new_id, True), Connection(new_id, old.destination, True)]
    return _replace(g, nodes=g.nodes + (Node(new_id, HIDDEN, act),), connections=tuple(conns))


def enable(g: Genome, rng: np.random.Generator, s: VariationSettings) -> Genome | None:
    disabled = [k for k, c in enumerate(g.connections) if not c.enabled]
    if not disabled:
        return None
    k = disabled[int(rng.integers(len(disabled)))]
    conns = list(g.connections)
    conns[k] = Connection(conns[k].source, conns[k].destination, True)
    return _replace(g, connections=tuple(conns))


def change_activation(g: Genome, rng: np.random.Generator, s: VariationSettings) -> Genome | None:
    kinds = (HIDDEN, OUTPUT) if s.mutate_output_activation else (HIDDEN,)
    targets = [k for k, n in enumerate(g.nodes) if n.kind in kinds]
    if not targets:
        return None
    k = targets[int(rng.integers(len(targets)))]
    node = g.nodes[k]
    choices = [a for a in s.choices() if a != node.activation]
    if not choices:
        return None
    nodes = list(g.nodes)
    nodes[k] = Node(node.id, node.kind, int(choices[int(rng.integers(len(choices)))]))
    return _replace(g, nodes=tuple(nodes))


def _replace(g: Genome, nodes=None, connections=None) -> Genome:
    return Genome(
        g.n_inputs,
        g.n_outputs,
        g.nodes if nodes is None else nodes,
        g.connections if connections is None else connections,
    )


_OPS = {
    "add_connection": add_connection,
    "insert_node": insert_node,
    "enable": enable,
    "change_activation": change_activation,
}

__all__ = [
    "CONNECTION_RULES",
    "VariationSettings",
    "mutate",
    "candidate_connections",
    "layered_connections",
    "OPERATORS",
    "BIAS",
    "INPUT",
]
