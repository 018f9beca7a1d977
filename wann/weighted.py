"""Networks with individual weights: a `Genome` topology plus one weight per connection.

Every counterpart (dense, pruned, tuned, NEAT) is expressed this way, so the project's own
compiled evaluators score them exactly like WANN champions. A dense MLP is a genome whose hidden
layers are fully connected, with one bias edge (from the bias node) into every hidden and output
node; its connection order is layer by layer, destination-major, bias first:
``[b_1, W_1 row 0], [b_1, W_1 row 1], ..., [b_2, W_2 row 0], ...`` so that
``weights = concat_l [b_l[:, None], W_l].ravel()`` with W_l of shape (out, in).

JSON form (``wann.network/1``): {"format", "genome": <genome JSON>, "weights": [...], "meta": {}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wann import activations
from wann.errors import GenomeError
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node

FORMAT = "wann.network/1"


@dataclass(frozen=True)
class WeightedNetwork:
    """genome: topology (disabled connections are pruned ones); weights: (len(connections),)."""

    genome: Genome
    weights: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def connections(self) -> int:
        """Its size: the live connections (`live_connections`), not every enabled one."""
        return live_connections(self.genome)

    @property
    def mask(self) -> np.ndarray:
        return np.array([c.enabled for c in self.genome.connections])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "genome": self.genome.to_dict(),
            "weights": [float(w) for w in self.weights],
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> None:
        from wann.files import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=1))

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "network") -> WeightedNetwork:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise GenomeError(f"{where}: not a {FORMAT} file")
        g = Genome.from_dict(d["genome"], f"{where}.genome")
        w = np.asarray(d["weights"], dtype=np.float64)
        if w.shape != (len(g.connections),):
            raise GenomeError(f"{where}.weights: expected {len(g.connections)} values, got {w.shape}")
        return cls(g, w, d.get("meta", {}))

    @classmethod
    def load(cls, path: str | Path) -> WeightedNetwork:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()), str(path))
        except (OSError, json.JSONDecodeError) as e:
            raise GenomeError(f"{path}: cannot read network file ({e})") from None


def mlp_genome(
    n_in: int, hidden: list[int], n_out: int, hidden_act: int = activations.TANH, out_act: int = activations.LINEAR
) -> Genome:
    """A fully connected feed-forward genome (see the module docstring for the connection order)."""
    nodes = [Node(0, BIAS)] + [Node(i, INPUT) for i in range(1, n_in + 1)]
    outs = list(range(n_in + 1, n_in + 1 + n_out))
    nodes += [Node(o, OUTPUT, out_act) for o in outs]
    next_id = n_in + n_out + 1
    prev = list(range(1, n_in + 1))
    conns = []
    for width in hidden:
        layer = list(range(next_id, next_id + width))
        next_id += width
        nodes += [Node(h, HIDDEN, hidden_act) for h in layer]
        for h in layer:
            conns += [Connection(0, h)] + [Connection(p, h) for p in prev]
        prev = layer
    for o in outs:
        conns += [Connection(0, o)] + [Connection(p, o) for p in prev]
    return Genome(n_in, n_out, tuple(nodes), tuple(conns)).validate()


def mlp_layer_slices(n_in: int, hidden: list[int], n_out: int) -> list[tuple[slice, tuple[int, int]]]:
    """For each layer, the slice of the flat weight vector and its (out, in + 1) shape."""
    sizes = [n_in, *hidden, n_out]
    out, k = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        n = b * (a + 1)
        out.append((slice(k, k + n), (b, a + 1)))
        k += n
    return out


def with_mask(genome: Genome, mask: np.ndarray) -> Genome:
    """The same genome with connection k enabled iff mask[k]."""
    conns = tuple(Connection(c.source, c.destination, bool(m)) for c, m in zip(genome.connections, mask))
    return Genome(genome.n_inputs, genome.n_outputs, genome.nodes, conns, dict(genome.meta))


def outputs_reachable(genome: Genome, mask: np.ndarray | None = None) -> bool:
    """True when every output has a path from an input over enabled (or masked-in) connections."""
    mask = np.array([c.enabled for c in genome.connections]) if mask is None else mask
    reach = set(range(1, genome.n_inputs + 1))
    order = genome.topological_order()
    incoming: dict[int, list[int]] = {}
    for c, m in zip(genome.connections, mask):
        if m:
            incoming.setdefault(c.destination, []).append(c.source)
    for n in order:
        if any(s in reach for s in incoming.get(n, [])):
            reach.add(n)
    return all(o in reach for o in genome.output_ids)


def live_mask(genome: Genome, mask: np.ndarray | None = None) -> np.ndarray:
    """The live connections, a bool (C,) vector: enabled (or masked-in) connections on some path
    from an input to an output. An ordinary edge s -> d is live when s is reachable from an input
    and d reaches an output; a bias edge (from the bias node) is live when its destination is on an
    input -> output path (a bias of a node that no input reaches only adds a constant, and is dead
    with its node). A network's size is its live count; the other edges change no input -> output
    function and are removed from every pruned, sparse and ticket counterpart."""
    conns = genome.connections
    mask = np.array([c.enabled for c in conns], dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    fwd: dict[int, list[int]] = {}
    bwd: dict[int, list[int]] = {}
    for c, m in zip(conns, mask):
        if m and c.source != 0:
            fwd.setdefault(c.source, []).append(c.destination)
            bwd.setdefault(c.destination, []).append(c.source)
    from_in = _closure(range(1, genome.n_inputs + 1), fwd)
    to_out = _closure(genome.output_ids, bwd)
    out = np.zeros(len(conns), dtype=bool)
    for k, (c, m) in enumerate(zip(conns, mask)):
        if m:
            if c.source == 0:
                out[k] = c.destination in from_in and c.destination in to_out
            else:
                out[k] = c.source in from_in and c.destination in to_out
    return out


def live_connections(genome: Genome, mask: np.ndarray | None = None) -> int:
    """The number of live connections (`live_mask`): a network's size in every table."""
    return int(live_mask(genome, mask).sum())


def _closure(start, edges: dict[int, list[int]]) -> set[int]:
    seen, stack = set(start), list(start)
    while stack:
        for m in edges.get(stack.pop(), ()):
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


def structure_counts(genome: Genome) -> dict[str, int]:
    """Live connections (`live_mask`: on some input -> output path; enabled dead edges are not
    counted), hidden nodes on some input -> output path, inputs used."""
    fwd: dict[int, list[int]] = {}
    bwd: dict[int, list[int]] = {}
    for c in genome.connections:
        if c.enabled and c.source != 0:
            fwd.setdefault(c.source, []).append(c.destination)
            bwd.setdefault(c.destination, []).append(c.source)
    from_in = _closure(range(1, genome.n_inputs + 1), fwd)
    to_out = _closure(genome.output_ids, bwd)
    live_hidden = [n for n in genome.nodes if n.kind == HIDDEN and n.id in from_in and n.id in to_out]
    return {
        "connections": live_connections(genome),
        "hidden_nodes": len(live_hidden),
        "inputs_used": sum(1 for i in range(1, genome.n_inputs + 1) if i in to_out),
    }


def flops_per_step(genome: Genome) -> int:
    """Analytic FLOPs of one forward pass: a multiply and an add per enabled connection, plus one
    activation per computed node."""
    return 2 * genome.n_connections + sum(1 for n in genome.nodes if n.kind in (HIDDEN, OUTPUT))
