"""The batched forward pass over compiled genomes.

A batch of G genomes is compiled once into CSR arrays (`CompiledBatch`, `compile_genomes`: see
`wann.compiled`, re-exported here). Inside each genome the nodes get *local* indices: 0 is the
bias, 1..n_inputs the inputs, then every other node in a topological order, so computing local
nodes n_inputs+1 .. n-1 in index order is a valid forward pass. Incoming edges of each node are
stored by destination (CSR); only enabled connections are kept.

Evaluation runs *lanes* in lockstep: all the episodes (shared weight x rollout) of one genome.
Node values live in a (n_nodes, n_lanes) buffer so every per-node operation is a contiguous loop
over lanes, which the compiler vectorises. With a shared weight w, a node computes
``act(w * sum(inputs))``; with individual weights ``act(sum(w_e * input_e))``.

Two implementations of the forward pass exist and are tested against each other:
`forward_numpy` (plain numpy, level by level) and the numba kernels used by the tasks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wann import activations, vmath
from wann.compiled import CompiledBatch, compile_genomes  # noqa: F401 (re-exported: the forward pass and its input)
from wann.genome import BIAS, INPUT, Genome

# ---------------------------------------------------------------------------------------------
# numba kernels: one genome, n lanes in lockstep
# ---------------------------------------------------------------------------------------------


@njit(inline="always", cache=True, error_model="numpy")
def _activate(a, z, out, n):
    """out[:n] = act_a(z[:n]); the branch is hoisted so each loop is branch-free. The
    transcendental ones use `wann.vmath` (vectorised, within 1 ulp of the C library)."""
    if a == 1:
        for l in range(n):
            out[l] = z[l]
    elif a == 2:
        for l in range(n):
            out[l] = 1.0 if z[l] > 0.0 else 0.0
    elif a == 3:
        for l in range(n):
            out[l] = vmath.sin1(np.pi * z[l])
    elif a == 4:
        for l in range(n):
            out[l] = vmath.exp1(-(z[l] * z[l]) / 2.0)
    elif a == 5:
        vmath.tanh_lanes(z, out, n)
    elif a == 6:
        for l in range(n):
            out[l] = (vmath.tanh1(z[l] / 2.0) + 1.0) / 2.0
    elif a == 7:
        for l in range(n):
            out[l] = -z[l]
    elif a == 8:
        for l in range(n):
            out[l] = abs(z[l])
    elif a == 9:
        for l in range(n):
            out[l] = max(0.0, z[l])
    else:
        for l in range(n):
            out[l] = vmath.cos1(np.pi * z[l])


@njit(inline="always", cache=True, error_model="numpy")
def forward_shared_lanes(vals, n_lanes, n_in, n_nodes, nbase, act, in_ptr, in_src, w, acc):
    """Compute local nodes n_in+1..n_nodes-1 of one genome for lanes 0..n_lanes-1.

    vals: (>= n_nodes, >= n_lanes) float64, rows 0..n_in already hold bias and inputs.
    nbase: offset of this genome's nodes in act/in_ptr. w: (lanes,) shared weight per lane.
    acc: (>= n_lanes,) scratch."""
    for j in range(n_in + 1, n_nodes):
        for l in range(n_lanes):
            acc[l] = 0.0
        for e in range(in_ptr[nbase + j], in_ptr[nbase + j + 1]):
            src = vals[in_src[e]]
            for l in range(n_lanes):
                acc[l] += src[l]
        for l in range(n_lanes):
            acc[l] *= w[l]
        _activate(act[nbase + j], acc, vals[j], n_lanes)


@njit(cache=True, error_model="numpy")
def forward_individual_lanes(vals, n_lanes, n_in, n_nodes, nbase, ebase, act, in_ptr, in_src, ew, acc):
    """Like `forward_shared_lanes` with one weight per edge and lane: ew (n_edges of this genome
    in CSR order, lanes), edge-major so each edge's lane loop reads contiguous weights and
    vectorises (the same sums in the same order as a lane-major table, so the same numbers)."""
    for j in range(n_in + 1, n_nodes):
        for l in range(n_lanes):
            acc[l] = 0.0
        for e in range(in_ptr[nbase + j], in_ptr[nbase + j + 1]):
            src = vals[in_src[e]]
            we = ew[e - ebase]
            for l in range(n_lanes):
                acc[l] += we[l] * src[l]
        _activate(act[nbase + j], acc, vals[j], n_lanes)


@njit(inline="always", cache=True)
def forward_edges_lanes(vals, n_lanes, n_in, n_nodes, nbase, ebase, act, in_ptr, in_src, wv, acc):
    """Like `forward_individual_lanes` when every lane has the same edge weights: wv (n_edges of
    this genome, in CSR order), one weight per edge for all lanes (the same arithmetic, so the
    same numbers, without a (lanes, edges) copy)."""
    for j in range(n_in + 1, n_nodes):
        for l in range(n_lanes):
            acc[l] = 0.0
        for e in range(in_ptr[nbase + j], in_ptr[nbase + j + 1]):
            src = vals[in_src[e]]
            we = wv[e - ebase]
            for l in range(n_lanes):
                acc[l] += we * src[l]
        _activate(act[nbase + j], acc, vals[j], n_lanes)


@njit(inline="always", cache=True, error_model="numpy")
def _activate_into(a, acc, w, vals, j, n):
    """vals[j, :n] = act_a(w[:n] * acc[:n]), one lane loop per case (row j written in place, not
    through a view). The same arithmetic as `_activate` after ``acc *= w``, with the multiply
    fused in."""
    if a == 1:
        for l in range(n):
            vals[j, l] = w[l] * acc[l]
    elif a == 2:
        for l in range(n):
            vals[j, l] = 1.0 if w[l] * acc[l] > 0.0 else 0.0
    elif a == 3:
        for l in range(n):
            vals[j, l] = vmath.sin1(np.pi * (w[l] * acc[l]))
    elif a == 4:
        for l in range(n):
            z = w[l] * acc[l]
            vals[j, l] = vmath.exp1(-(z * z) / 2.0)
    elif a == 5:
        for l in range(n):
            vals[j, l] = vmath.tanh1(w[l] * acc[l])
    elif a == 6:
        for l in range(n):
            vals[j, l] = (vmath.tanh1((w[l] * acc[l]) / 2.0) + 1.0) / 2.0
    elif a == 7:
        for l in range(n):
            vals[j, l] = -(w[l] * acc[l])
    elif a == 8:
        for l in range(n):
            vals[j, l] = abs(w[l] * acc[l])
    elif a == 9:
        for l in range(n):
            vals[j, l] = max(0.0, w[l] * acc[l])
    else:
        for l in range(n):
            vals[j, l] = vmath.cos1(np.pi * (w[l] * acc[l]))


@njit(cache=True, error_model="numpy")
def forward_shared_fused(vals, n_lanes, n_in, n_nodes, nbase, act, in_ptr, in_src, w, acc):
    """`forward_shared_lanes` with the first edge starting the sum (no zeroing pass) and the
    weight multiply fused into the activation loop: two lane loops fewer per node, the same
    arithmetic in the same order, so the same numbers.

    Compiled as a function of its own, not inlined (nor is `forward_individual_lanes`): numba's
    ``inline="always"`` binds the array arguments to new variables, an atomic reference-count
    increment and decrement (NRT incref / decref calls) per array per call, once per kernel
    step: 6% of the champion-sized swing-up's samples under perf. Rows are indexed in place
    (``vals[s, l]``) rather than taken as views, for the same reason."""
    for j in range(n_in + 1, n_nodes):
        e0 = in_ptr[nbase + j]
        e1 = in_ptr[nbase + j + 1]
        if e1 == e0:
            for l in range(n_lanes):
                acc[l] = 0.0
        else:
            s = in_src[e0]
            for l in range(n_lanes):
                acc[l] = 0.0 + vals[s, l]
            for e in range(e0 + 1, e1):
                s = in_src[e]
                for l in range(n_lanes):
                    acc[l] += vals[s, l]
        _activate_into(act[nbase + j], acc, w, vals, j, n_lanes)


@njit(inline="always", cache=True)
def max_nodes_of(node_ptr):
    """The largest genome's node count in a batch (node_ptr: (G+1,) offsets)."""
    m = 0
    for g in range(len(node_ptr) - 1):
        m = max(m, node_ptr[g + 1] - node_ptr[g])
    return m


@njit(inline="always", cache=True)
def lanes_needed(row_genome, pad):
    """The longest run of rows with the same genome, rounded up to a whole group of `pad` lanes:
    the lane width a kernel's per-genome buffers need (allocated once per call, not per genome)."""
    m = 0
    r = 0
    while r < row_genome.shape[0]:
        e = rows_end(row_genome, r)
        m = max(m, e - r)
        r = e
    return (m + pad - 1) // pad * pad


@njit(inline="always", cache=True)
def rows_end(row_genome, r):
    """One past the last row of the run of rows that starts at r and uses the same genome."""
    end = r
    while end < row_genome.shape[0] and row_genome[end] == row_genome[r]:
        end += 1
    return end


@njit(cache=True, error_model="numpy")
def _forward_rows(node_ptr, act, in_ptr, in_src, edge_ptr, out_local, row_genome, obs, w, ew, individual, edge_row):
    """Forward pass for R rows, each (genome, input vector, weight). Rows of the same genome
    should be contiguous for speed; any order gives the same numbers. Returns (R, n_out).
    edge_row: (R,) row of `ew` each row uses (then `ew` is a table of weight vectors), or (0,):
    row r uses ``ew[r]``."""
    R = obs.shape[0]
    n_in = obs.shape[1]
    n_out = out_local.shape[1]
    out = np.empty((R, n_out))
    r = 0
    max_nodes = max_nodes_of(node_ptr)
    tabled = individual and edge_row.shape[0] == R
    while r < R:
        g = row_genome[r]
        r_end = rows_end(row_genome, r)
        if tabled:  # a run shares its genome and its weight vector
            k = r + 1
            while k < r_end and edge_row[k] == edge_row[r]:
                k += 1
            r_end = k
        L = r_end - r
        vals = np.empty((max_nodes, L))
        acc = np.empty(L)
        wl = np.empty(L)
        for l in range(L):
            vals[0, l] = 1.0
            for i in range(n_in):
                vals[1 + i, l] = obs[r + l, i]
            wl[l] = w[r + l]
        n_nodes = node_ptr[g + 1] - node_ptr[g]
        if tabled:
            forward_edges_lanes(
                vals, L, n_in, n_nodes, node_ptr[g], edge_ptr[g], act, in_ptr, in_src, ew[edge_row[r]], acc
            )
        elif individual:
            forward_individual_lanes(
                vals, L, n_in, n_nodes, node_ptr[g], edge_ptr[g], act, in_ptr, in_src, ew[r:r_end].T.copy(), acc
            )
        else:
            forward_shared_lanes(vals, L, n_in, n_nodes, node_ptr[g], act, in_ptr, in_src, wl, acc)
        for l in range(L):
            for k in range(n_out):
                out[r + l, k] = vals[out_local[g, k], l]
        r = r_end
    return out


def forward(
    batch: CompiledBatch,
    row_genome: np.ndarray,
    obs: np.ndarray,
    weights: np.ndarray,
    edge_weights: np.ndarray | None = None,
    edge_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Compiled forward pass.

    row_genome: (R,) int, which genome of `batch` each row uses.
    obs: (R, n_inputs) float64 network inputs. weights: (R,) shared weight per row (ignored when
    `edge_weights` is given). edge_weights: optional (R, max_edges) per-row individual weights in
    each genome's CSR edge order (see `edge_weights_from_connections`); with `edge_rows` (R,)
    int, a table (K, max_edges) of weight vectors instead, row r using ``edge_weights[edge_rows[r]]``
    (the same numbers as the repeated (R, max_edges) matrix, without making it).
    Returns (R, n_outputs) float64 output-node values."""
    obs = np.ascontiguousarray(obs, dtype=np.float64)
    rg, w, ew, individual = row_arrays(row_genome, weights, edge_weights)
    table = np.zeros(0, dtype=np.int64)
    if edge_rows is not None and individual:
        table = np.ascontiguousarray(edge_rows, dtype=np.int64)
        if table.shape != (obs.shape[0],):
            raise ValueError(f"edge_rows must have shape ({obs.shape[0]},), got {table.shape}")
        k = np.shape(edge_weights)[0]
        if ew.shape[0] < k:  # a table of vectors without edges
            ew = np.zeros((k, 1))
        if table.size and (table.min() < 0 or table.max() >= k):
            raise ValueError(f"edge_rows must index the {k} rows of edge_weights")
    return _forward_rows(*batch.arrays(), rg, obs, w, ew, individual, table)


def row_arrays(row_genome, weights, edge_weights=None):
    """Per-row kernel arguments: (row_genome int64 (R,), shared weights float64 (R,), edge
    weights float64 (R, >=1), individual flag). `weights` may be a scalar."""
    row_genome = np.ascontiguousarray(row_genome, dtype=np.int64)
    R = row_genome.shape[0]
    w = np.ascontiguousarray(np.broadcast_to(weights, (R,)), dtype=np.float64)
    individual = edge_weights is not None
    ew = np.ascontiguousarray(edge_weights, dtype=np.float64) if individual else np.zeros((R, 1))
    if ew.ndim != 2 or ew.shape[1] == 0:
        ew = np.zeros((R, 1))
    return row_genome, w, ew, individual


def edge_weights_from_connections(batch: CompiledBatch, g: int, conn_weights: np.ndarray) -> np.ndarray:
    """Reorder per-connection weights (..., len(genome.connections)) of genome `g` into the CSR
    edge order the kernels use: (..., n_enabled_edges)."""
    lo, hi = batch.edge_ptr[g], batch.edge_ptr[g + 1]
    return np.asarray(conn_weights, dtype=np.float64)[..., batch.edge_conn[lo:hi]]


# ---------------------------------------------------------------------------------------------
# plain numpy reference path
# ---------------------------------------------------------------------------------------------


def forward_numpy(
    genome: Genome, obs: np.ndarray, weights: np.ndarray, conn_weights: np.ndarray | None = None
) -> np.ndarray:
    """Plain-numpy forward pass of one genome for a batch of rows, level by level.

    obs: (R, n_inputs); weights: (R,) shared weights; conn_weights: optional (R, n_connections)
    individual weights in `genome.connections` order. Returns (R, n_outputs). Loops run over
    depth levels and activation ids, never over single nodes per row."""
    obs = np.asarray(obs, dtype=np.float64)
    R = obs.shape[0]
    ids = [n.id for n in genome.nodes]
    index = {nid: k for k, nid in enumerate(ids)}
    vals = np.zeros((R, len(ids)))
    vals[:, index[0]] = 1.0
    for i in range(1, genome.n_inputs + 1):
        vals[:, index[i]] = obs[:, i - 1]
    level = genome.layers()
    act = np.array([n.activation for n in genome.nodes])
    enabled = [(k, c) for k, c in enumerate(genome.connections) if c.enabled]
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (R,))
    for depth in range(1, max(level.values()) + 1):
        layer = np.array([index[n.id] for n in genome.nodes if level[n.id] == depth and n.kind not in (BIAS, INPUT)])
        if layer.size == 0:
            continue
        edges = [(k, c) for k, c in enabled if level[c.destination] == depth]
        src = np.array([index[c.source] for _, c in edges], dtype=np.int64)
        dst = np.array([index[c.destination] for _, c in edges], dtype=np.int64)
        # sum incoming values in connection order per destination (the kernels' order is the same)
        pre = np.zeros((R, len(ids)))
        if conn_weights is None:
            contrib = vals[:, src]
        else:
            contrib = vals[:, src] * np.asarray(conn_weights)[:, [k for k, _ in edges]]
        np.add.at(pre, (slice(None), dst), contrib)  # unbuffered: edges summed in order
        if conn_weights is None:
            pre[:, layer] *= w[:, None]
        for a in np.unique(act[layer]):
            cols = layer[act[layer] == a]
            vals[:, cols] = activations.apply_numpy(int(a), pre[:, cols])
    return vals[:, [index[o] for o in genome.output_ids]]
