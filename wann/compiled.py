"""Genomes compiled into flat arrays (`CompiledBatch`), the form every kernel reads.

A batch of G genomes is compiled once into CSR arrays. Inside each genome the nodes get *local*
indices: 0 is the bias, 1..n_inputs the inputs, then every other node in the genome's
topological order (`Genome.topological_order`: Kahn's algorithm over all connections, ties to
the smaller id), so computing local nodes n_inputs+1 .. n-1 in index order is a valid forward
pass. Incoming edges of each node are stored by destination (CSR), in connection order; only
enabled connections are kept.

`compile_genomes` reads the genomes' nodes and connections into flat lists in one pass each and
builds every array in one compiled call (`_compile`); the per-genome Python of the earlier
version (a topological sort and four dicts per genome, 46 us for a 52-connection genome) was a
quarter of a champion-sized swing-up evaluation. The arrays are the same, element for element
(tested against the pure-Python construction, `compile_genomes_python`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from wann.errors import GenomeError
from wann.genome import BIAS, INPUT, Genome


@dataclass(frozen=True)
class CompiledBatch:
    """G genomes as flat arrays (all int64 unless noted).

    node_ptr: (G+1,) offsets of each genome's local nodes in `act` and `in_ptr`.
    act:      (total_nodes,) activation id of each local node (bias/inputs: 1, unused).
    in_ptr:   (total_nodes+1,) CSR offsets into `in_src` per local node, over all genomes.
    in_src:   (total_edges,) local index (within its genome) of each incoming edge's source.
    edge_conn:(total_edges,) index of the edge in its genome's `connections` tuple.
    edge_ptr: (G+1,) offsets of each genome's edges in `in_src`.
    out_local:(G, n_outputs) local index of each output node.
    """

    n_inputs: int
    n_outputs: int
    node_ptr: np.ndarray
    act: np.ndarray
    in_ptr: np.ndarray
    in_src: np.ndarray
    edge_conn: np.ndarray
    edge_ptr: np.ndarray
    out_local: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(node_ptr, act, in_ptr, in_src, edge_ptr, out_local): the kernels' leading arguments."""
        return self.node_ptr, self.act, self.in_ptr, self.in_src, self.edge_ptr, self.out_local

    @property
    def n_genomes(self) -> int:
        return len(self.node_ptr) - 1

    @property
    def max_nodes(self) -> int:
        return int(np.diff(self.node_ptr).max()) if self.n_genomes else 0


@njit(cache=True)
def _compile(n_in, n_out, gnode_ptr, node_id, node_act, gconn_ptr, conn_src, conn_dst, conn_en):
    """The batch arrays from flat node and connection lists (per genome: nodes in id order,
    connections in creation order). Returns (act, in_ptr, in_src, edge_conn, edge_ptr,
    out_local, bad): bad is the first genome whose connections form a cycle, else -1."""
    G = gnode_ptr.shape[0] - 1
    N = gnode_ptr[G]
    act = np.empty(N, dtype=np.int64)
    in_ptr = np.zeros(N + 1, dtype=np.int64)
    n_edges = 0
    for c in range(conn_en.shape[0]):
        n_edges += conn_en[c]
    in_src = np.empty(n_edges, dtype=np.int64)
    edge_conn = np.empty(n_edges, dtype=np.int64)
    edge_ptr = np.zeros(G + 1, dtype=np.int64)
    out_local = np.empty((G, n_out), dtype=np.int64)
    max_id = 0
    for k in range(N):
        max_id = max(max_id, node_id[k])
    pos = np.full(max_id + 1, -1, dtype=np.int64)  # node id -> position in the genome's node list
    e = 0
    for g in range(G):
        n0, n1 = gnode_ptr[g], gnode_ptr[g + 1]
        c0, c1 = gconn_ptr[g], gconn_ptr[g + 1]
        n = n1 - n0
        for k in range(n):
            pos[node_id[n0 + k]] = k
        indeg = np.zeros(n, dtype=np.int64)
        succ_ptr = np.zeros(n + 1, dtype=np.int64)  # successors of each position (CSR)
        for c in range(c0, c1):
            indeg[pos[conn_dst[c]]] += 1
            succ_ptr[pos[conn_src[c]] + 1] += 1
        for k in range(n):
            succ_ptr[k + 1] += succ_ptr[k]
        succ = np.empty(c1 - c0, dtype=np.int64)
        fill = succ_ptr[:n].copy()
        for c in range(c0, c1):
            k = pos[conn_src[c]]
            succ[fill[k]] = pos[conn_dst[c]]
            fill[k] += 1
        # Kahn's algorithm, the smallest ready id first; bias and inputs (ids 0..n_in) lead in
        # id order, the rest follow the sort
        local = np.full(n, -1, dtype=np.int64)
        done = np.zeros(n, dtype=np.bool_)
        nxt = n_in + 1
        for k in range(n):
            if node_id[n0 + k] <= n_in:
                local[k] = node_id[n0 + k]
        for _ in range(n):
            k = -1
            for q in range(n):
                if not done[q] and indeg[q] == 0 and (k < 0 or node_id[n0 + q] < node_id[n0 + k]):
                    k = q
            if k < 0:
                return act, in_ptr, in_src, edge_conn, edge_ptr, out_local, g
            done[k] = True
            if node_id[n0 + k] > n_in:
                local[k] = nxt
                nxt += 1
            for q in range(succ_ptr[k], succ_ptr[k + 1]):
                indeg[succ[q]] -= 1
        for k in range(n):
            act[n0 + local[k]] = node_act[n0 + k]
        # CSR by destination, each node's edges in connection order
        count = np.zeros(n, dtype=np.int64)
        for c in range(c0, c1):
            if conn_en[c]:
                count[local[pos[conn_dst[c]]]] += 1
        start = np.empty(n, dtype=np.int64)
        s = e
        for j in range(n):
            start[j] = s
            s += count[j]
            in_ptr[n0 + j + 1] = s
        for c in range(c0, c1):
            if conn_en[c]:
                j = local[pos[conn_dst[c]]]
                in_src[start[j]] = local[pos[conn_src[c]]]
                edge_conn[start[j]] = c - c0
                start[j] += 1
        e = s
        edge_ptr[g + 1] = e
        for o in range(n_out):
            out_local[g, o] = local[pos[n_in + 1 + o]]
    return act, in_ptr, in_src, edge_conn, edge_ptr, out_local, -1


def compile_genomes(genomes: Sequence[Genome]) -> CompiledBatch:
    """Compile genomes (all with the same numbers of inputs and outputs) into one batch."""
    if not genomes:
        raise ValueError("compile_genomes needs at least one genome")
    n_in, n_out = genomes[0].n_inputs, genomes[0].n_outputs
    if any((g.n_inputs, g.n_outputs) != (n_in, n_out) for g in genomes):
        raise ValueError("all genomes in a batch must have the same inputs and outputs")
    i64 = np.int64
    gnode_ptr = np.cumsum([0] + [len(g.nodes) for g in genomes], dtype=i64)
    gconn_ptr = np.cumsum([0] + [len(g.connections) for g in genomes], dtype=i64)
    nodes = [n for g in genomes for n in g.nodes]
    conns = [c for g in genomes for c in g.connections]
    node_id = np.fromiter([n.id for n in nodes], i64, len(nodes))
    node_act = np.fromiter([n.activation for n in nodes], i64, len(nodes))
    conn_src = np.fromiter([c.source for c in conns], i64, len(conns))
    conn_dst = np.fromiter([c.destination for c in conns], i64, len(conns))
    conn_en = np.fromiter([c.enabled for c in conns], i64, len(conns))
    act, in_ptr, in_src, edge_conn, edge_ptr, out_local, bad = _compile(
        n_in, n_out, gnode_ptr, node_id, node_act, gconn_ptr, conn_src, conn_dst, conn_en
    )
    if bad >= 0:
        genomes[bad].topological_order()  # raises GenomeError naming the nodes of the cycle
        raise GenomeError("connections form a cycle")
    return CompiledBatch(n_in, n_out, gnode_ptr, act, in_ptr, in_src, edge_conn, edge_ptr, out_local)


def compile_genomes_python(genomes: Sequence[Genome]) -> CompiledBatch:
    """`compile_genomes` in plain Python, one genome at a time (the reference the tests compare
    the compiled construction with)."""
    n_in, n_out = genomes[0].n_inputs, genomes[0].n_outputs
    node_ptr, acts, in_ptr, in_src, edge_conn, edge_ptr, outs = [0], [], [0], [], [], [0], []
    for g in genomes:
        order = sorted(n.id for n in g.nodes if n.kind in (BIAS, INPUT))
        order += [i for i in g.topological_order() if i > n_in]
        local = {nid: k for k, nid in enumerate(order)}
        act_of = {n.id: n.activation for n in g.nodes}
        incoming: dict[int, list[tuple[int, int]]] = {nid: [] for nid in order}
        for ci, c in enumerate(g.connections):
            if c.enabled:
                incoming[c.destination].append((local[c.source], ci))
        for nid in order:
            acts.append(act_of[nid])
            for src, ci in incoming[nid]:
                in_src.append(src)
                edge_conn.append(ci)
            in_ptr.append(len(in_src))
        node_ptr.append(len(acts))
        edge_ptr.append(len(in_src))
        outs.append([local[o] for o in g.output_ids])
    i64 = np.int64
    arrays = (node_ptr, acts, in_ptr, in_src, edge_conn, edge_ptr)
    return CompiledBatch(
        n_in, n_out, *(np.asarray(a, i64) for a in arrays), np.asarray(outs, i64).reshape(len(genomes), n_out)
    )
