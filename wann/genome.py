"""Genome: a feed-forward network topology whose connections all carry one shared weight.

Node ids follow one convention: 0 is the bias (value 1), 1..n_inputs are the inputs, the next
n_outputs ids are the outputs, hidden nodes take ids from n_inputs + n_outputs + 1 upwards.
Connections are (source, destination, enabled); the graph of *all* connections, enabled or not, is
acyclic, so re-enabling a connection can never create a cycle. Genomes are treated as immutable:
variation returns new genomes.

The JSON form (``format: "wann.genome/1"``) is what champions are stored as::

    {"format": "wann.genome/1", "inputs": 5, "outputs": 1,
     "nodes": [{"id": 0, "kind": "bias", "activation": 1}, ...],
     "connections": [{"source": 0, "destination": 6, "enabled": true}, ...],
     "meta": {...}}
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wann import activations
from wann.errors import GenomeError
from wann.limits import MAX_GENOME_CONNECTIONS, MAX_GENOME_IO, MAX_GENOME_NODES

FORMAT = "wann.genome/1"
BIAS, INPUT, OUTPUT, HIDDEN = "bias", "input", "output", "hidden"
KINDS = (BIAS, INPUT, OUTPUT, HIDDEN)


@dataclass(frozen=True)
class Node:
    id: int
    kind: str
    activation: int = activations.LINEAR


@dataclass(frozen=True)
class Connection:
    source: int
    destination: int
    enabled: bool = True


@dataclass(frozen=True)
class Genome:
    """A network topology. `nodes` are in id order; `connections` in creation order."""

    n_inputs: int
    n_outputs: int
    nodes: tuple[Node, ...]
    connections: tuple[Connection, ...]
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def initial(
        cls,
        n_inputs: int,
        n_outputs: int,
        rng: np.random.Generator,
        p_enable: float,
        output_activation: int = activations.LINEAR,
    ) -> Genome:
        """The paper's starting genome: every bias/input -> output edge exists, each enabled with
        probability `p_enable`; no hidden nodes. At least one edge is always enabled."""
        nodes = [Node(0, BIAS)]
        nodes += [Node(i, INPUT) for i in range(1, n_inputs + 1)]
        first_out = n_inputs + 1
        nodes += [Node(first_out + k, OUTPUT, output_activation) for k in range(n_outputs)]
        pairs = [(s, first_out + k) for k in range(n_outputs) for s in range(n_inputs + 1)]
        enabled = rng.random(len(pairs)) < p_enable
        if not enabled.any():
            enabled[rng.integers(len(pairs))] = True
        conns = tuple(Connection(s, d, bool(e)) for (s, d), e in zip(pairs, enabled))
        return cls(n_inputs, n_outputs, tuple(nodes), conns)

    # ---- views --------------------------------------------------------------------------------
    @property
    def output_ids(self) -> range:
        return range(self.n_inputs + 1, self.n_inputs + 1 + self.n_outputs)

    @property
    def hidden(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.kind == HIDDEN)

    @property
    def n_connections(self) -> int:
        """Complexity: the number of enabled connections (bias edges included)."""
        return sum(1 for c in self.connections if c.enabled)

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def next_id(self) -> int:
        return max(n.id for n in self.nodes) + 1

    def node(self, node_id: int) -> Node:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    def topological_order(self, enabled_only: bool = False) -> list[int]:
        """Node ids in an order where every connection goes forwards (Kahn's algorithm; ties by
        id, so the order is deterministic). Raises GenomeError on a cycle."""
        ids = [n.id for n in self.nodes]
        indeg = {i: 0 for i in ids}
        succ: dict[int, list[int]] = {i: [] for i in ids}
        for c in self.connections:
            if enabled_only and not c.enabled:
                continue
            succ[c.source].append(c.destination)
            indeg[c.destination] += 1
        ready = [i for i in ids if indeg[i] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for j in succ[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    heapq.heappush(ready, j)
        if len(order) != len(ids):
            stuck = sorted(i for i in ids if indeg[i] > 0)
            raise GenomeError(f"connections form a cycle through nodes {stuck[:8]}")
        return order

    def depth(self) -> int:
        """Longest path, in enabled connections, from a bias/input node to any node."""
        level = self.layers()
        return max(level.values()) if level else 0

    def layers(self) -> dict[int, int]:
        """Layer of each node over enabled connections: bias/inputs 0, others 1 + max of their
        sources' layers (a node with no enabled input sits in layer 1)."""
        level: dict[int, int] = {}
        incoming: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for c in self.connections:
            if c.enabled:
                incoming[c.destination].append(c.source)
        fixed = {n.id for n in self.nodes if n.kind in (BIAS, INPUT)}
        for i in self.topological_order():
            level[i] = 0 if i in fixed else 1 + max((level[s] for s in incoming[i]), default=0)
        return level

    # ---- validation and identity ------------------------------------------------------------
    def validate(self) -> Genome:
        """Check the invariants; raise GenomeError naming the first broken one. Returns self."""
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise GenomeError("a genome needs at least one input and one output")
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise GenomeError(f"duplicate node ids {dup}")
        expected = {0: BIAS}
        expected.update({i: INPUT for i in range(1, self.n_inputs + 1)})
        expected.update({i: OUTPUT for i in self.output_ids})
        by_id = {n.id: n for n in self.nodes}
        for i, kind in expected.items():
            if i not in by_id:
                raise GenomeError(f"node {i} ({kind}) is missing")
            if by_id[i].kind != kind:
                raise GenomeError(f"node {i} must be a {kind} node, found {by_id[i].kind!r}")
        for n in self.nodes:
            if n.kind not in KINDS:
                raise GenomeError(f"node {n.id}: unknown kind {n.kind!r}; use one of {KINDS}")
            if n.id not in expected and n.kind != HIDDEN:
                raise GenomeError(f"node {n.id}: extra {n.kind} node; only hidden nodes may be added")
            if n.activation not in activations.NAMES:
                raise GenomeError(f"node {n.id}: unknown activation {n.activation!r}; known: {activations.describe()}")
        seen = set()
        for k, c in enumerate(self.connections):
            for end in (c.source, c.destination):
                if end not in by_id:
                    raise GenomeError(f"connection {k} ({c.source}->{c.destination}) names missing node {end}")
            if by_id[c.destination].kind in (BIAS, INPUT):
                raise GenomeError(
                    f"connection {k} ({c.source}->{c.destination}) ends at a {by_id[c.destination].kind} node"
                )
            if (c.source, c.destination) in seen:
                raise GenomeError(f"connection {k} ({c.source}->{c.destination}) is duplicated")
            seen.add((c.source, c.destination))
        self.topological_order()
        return self

    def fingerprint(self) -> str:
        """A short hash of the structure (not the meta)."""
        body = json.dumps(self.to_dict(include_meta=False), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    # ---- JSON ----------------------------------------------------------------------------------
    def to_dict(self, include_meta: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT,
            "inputs": self.n_inputs,
            "outputs": self.n_outputs,
            "nodes": [{"id": n.id, "kind": n.kind, "activation": n.activation} for n in self.nodes],
            "connections": [
                {"source": c.source, "destination": c.destination, "enabled": c.enabled} for c in self.connections
            ],
        }
        if include_meta and self.meta:
            d["meta"] = self.meta
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "genome") -> Genome:
        """Build and validate a genome from its JSON form; GenomeError names the bad field."""
        if not isinstance(d, dict):
            raise GenomeError(f"{where}: expected a JSON object, got {type(d).__name__}")
        if d.get("format", FORMAT) != FORMAT:
            raise GenomeError(f"{where}: format {d.get('format')!r} is not {FORMAT!r}")
        n_in, n_out = _int(d, "inputs", where), _int(d, "outputs", where)
        for key, v in (("inputs", n_in), ("outputs", n_out)):
            if not 1 <= v <= MAX_GENOME_IO:
                raise GenomeError(f"{where}.{key}: must be in [1, {MAX_GENOME_IO}], got {v}")
        if len(_list(d, "nodes", where)) > MAX_GENOME_NODES:
            raise GenomeError(f"{where}.nodes: more than {MAX_GENOME_NODES} nodes")
        if len(_list(d, "connections", where)) > MAX_GENOME_CONNECTIONS:
            raise GenomeError(f"{where}.connections: more than {MAX_GENOME_CONNECTIONS} connections")
        nodes = tuple(
            Node(
                _int(n, "id", f"{where}.nodes[{k}]"),
                _str(n, "kind", f"{where}.nodes[{k}]"),
                _int(n, "activation", f"{where}.nodes[{k}]", activations.LINEAR),
            )
            for k, n in enumerate(_list(d, "nodes", where))
        )
        conns = tuple(
            Connection(
                _int(c, "source", f"{where}.connections[{k}]"),
                _int(c, "destination", f"{where}.connections[{k}]"),
                _bool(c, "enabled", f"{where}.connections[{k}]", True),
            )
            for k, c in enumerate(_list(d, "connections", where))
        )
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise GenomeError(f"{where}.meta: expected a JSON object")
        g = cls(n_in, n_out, tuple(sorted(nodes, key=lambda n: n.id)), conns, meta)
        try:
            return g.validate()
        except GenomeError as e:
            raise GenomeError(f"{where}: {e}") from None

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def load(cls, path: str | Path) -> Genome:
        """Read a genome JSON file; GenomeError (with the path) if it is missing or corrupt."""
        from wann.errors import ConfigError
        from wann.files import read_text

        p = Path(path)
        try:
            text = read_text(p, "genome", "genome file")
        except ConfigError as e:
            raise GenomeError(e.message) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise GenomeError(
                f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                "a genome file is the JSON that `wann search` writes as champion.json"
            ) from None
        except RecursionError:
            raise GenomeError(f"{p}: nested too deeply to be a genome file") from None
        return cls.from_dict(data, where=str(p))

    def with_meta(self, **meta: Any) -> Genome:
        return Genome(self.n_inputs, self.n_outputs, self.nodes, self.connections, {**self.meta, **meta})


def _get(d: Any, key: str, where: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise GenomeError(f"{where}: expected a JSON object")
    if key not in d:
        if default is ...:
            raise GenomeError(f"{where}.{key}: missing")
        return default
    return d[key]


def _int(d: Any, key: str, where: str, default: Any = ...) -> int:
    v = _get(d, key, where, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise GenomeError(f"{where}.{key}: expected an integer, got {v!r}")
    return v


def _str(d: Any, key: str, where: str) -> str:
    v = _get(d, key, where)
    if not isinstance(v, str):
        raise GenomeError(f"{where}.{key}: expected a string, got {v!r}")
    return v


def _bool(d: Any, key: str, where: str, default: Any = ...) -> bool:
    v = _get(d, key, where, default)
    if not isinstance(v, bool):
        raise GenomeError(f"{where}.{key}: expected true or false, got {v!r}")
    return v


def _list(d: Any, key: str, where: str) -> list:
    v = _get(d, key, where)
    if not isinstance(v, list):
        raise GenomeError(f"{where}.{key}: expected a list")
    return v


def population_hash(genomes: Iterable[Genome]) -> str:
    """Hash of a whole population's structures, in order (used to check reproducibility)."""
    h = hashlib.sha256()
    for g in genomes:
        h.update(g.fingerprint().encode())
    return h.hexdigest()[:16]


def summary(g: Genome) -> dict[str, Any]:
    """Counts that describe a genome's size."""
    hidden = g.hidden
    acts: dict[str, int] = {}
    for n in hidden:
        acts[activations.NAMES[n.activation]] = acts.get(activations.NAMES[n.activation], 0) + 1
    used_inputs = sorted({c.source for c in g.connections if c.enabled and 1 <= c.source <= g.n_inputs})
    return {
        "inputs": g.n_inputs,
        "outputs": g.n_outputs,
        "nodes": g.n_nodes,
        "hidden": len(hidden),
        "connections": g.n_connections,
        "disabled_connections": len(g.connections) - g.n_connections,
        "depth": g.depth(),
        "inputs_used": used_inputs,
        "hidden_activations": dict(sorted(acts.items())),
    }


def genomes_from(seq: Sequence[dict[str, Any]], where: str) -> list[Genome]:
    return [Genome.from_dict(d, f"{where}[{k}]") for k, d in enumerate(seq)]
