"""Fused numba kernels for Gymnasium's five classic-control tasks: network + physics in lockstep.

`run_episodes(env_id, batch, ...)` runs every row (genome x shared weight x rollout seed) of a
`wann.network.CompiledBatch` through one compiled function, `_episodes`, like the swing-up kernel
of `wann.tasks.swingup`: the episodes of one genome are *lanes* stepped together, each step one
`forward_shared_fused` / `forward_individual_lanes` pass over the running lanes (rounded up to
whole groups of 4, as in the swing-up kernel), then the environment's equations for every running
lane; finished lanes are compacted away. One kernel
serves all five environments (a small integer `code` picks the physics), so it compiles once.

Tasks (`FUSED`, env id -> code; Gymnasium's units: metres, seconds, radians, newtons):

- CartPole-v1: state (x, x_dot, theta, theta_dot); Euler, tau = 0.02 s; reward 1 per step.
- Acrobot-v1: state (theta1, theta2, dtheta1, dtheta2); "book" dynamics, one RK4 step of 0.2 s in
  float64 from the float32 reset state, angles wrapped into [-pi, pi], velocities bounded;
  reward -1 per step, 0 on the terminating one. Its physics (21 cos/sin per step) is one lane
  loop the compiler vectorises (`wann.tasks.classic.acrobot_lanes`), with `wann.vmath` trig.
- Pendulum-v1: state (theta, theta_dot); g = 10; reward -cost; never terminates.
- MountainCar-v0: state (position, velocity); Python-float arithmetic with ``math.cos``; -1 per step.
- MountainCarContinuous-v0: as Gymnasium, float64 on the first step and float32 afterwards
  (its state is stored as float32); reward 100 on reaching the goal minus 0.1 u^2.

Exactness. Every kernel but Acrobot-v1's reproduces the real environment bit for bit (the tests
step both and compare returns and step counts): the same operation order, the float32 rounding
of observations (and of Gymnasium's float32 intermediates), libm ``pow`` where Gymnasium squares
numpy scalars with ``**`` (the exponent ``two`` is a run-time argument, so the compiler cannot
turn it into a multiplication), truncation after ``max_steps`` steps. Actions as `wann.tasks.gym.GymTask.actions`:
NaN outputs count as 0 and +-inf as +-the largest float; Discrete: argmax, ties to the lowest
index; Box: clipped to [low, high] in float64, then rounded to float32. Reset states and
observations come from the numpy twins of `wann.tasks.twins` (Gymnasium's ``np_random(seed)``
draws), computed in Python before the kernel, so a row's return depends only on (genome, weight,
seed). Exactness assumes numpy's float64 sin/cos are the C library's (true on x86-64 builds
without AVX-512 SVML paths; the tests would notice otherwise).

Acrobot-v1 is the exception: scalar C-library cos and sin cost ~20 ns each, 21 per step, so its
kernel ran at 3e6 network-steps per CPU-second; with vmath's (within 1 ulp; 3% of calls 1 ulp
off) and ``w * w`` for ``w**2`` it runs at ~9e6. A step agrees with Gymnasium's to ~1e-13
relative (tested from 3,000 states), but the double pendulum is chaotic, so a long episode may
drift from Gymnasium's by more than rounding: episodes agree in distribution, usually exactly
(the tested rows all do). ``kernel = "numpy"`` (the twin) is Gymnasium's arithmetic exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wann import vmath
from wann.network import (
    CompiledBatch,
    forward_individual_lanes,
    forward_shared_fused,
    lanes_needed,
    max_nodes_of,
    row_arrays,
    rows_end,
)
from wann.tasks.classic import ACROBOT, CARTPOLE, MOUNTAINCAR, MOUNTAINCAR_CONT, PENDULUM, step_lanes
from wann.tasks.twins import TWINS

#: env id -> (kernel code, observation size, network outputs, discrete action)
FUSED: dict[str, tuple[int, int, int, bool]] = {
    "CartPole-v1": (CARTPOLE, 4, 2, True),
    "Acrobot-v1": (ACROBOT, 6, 3, True),
    "Pendulum-v1": (PENDULUM, 3, 1, False),
    "MountainCar-v0": (MOUNTAINCAR, 2, 3, True),
    "MountainCarContinuous-v0": (MOUNTAINCAR_CONT, 2, 1, False),
}

BIG = np.finfo(np.float64).max


@njit(inline="always", cache=True)
def _finite(v):
    """numpy.nan_to_num: NaN -> 0, +-inf -> +-the largest float64."""
    if v != v:
        return 0.0
    if v > BIG:
        return BIG
    if v < -BIG:
        return -BIG
    return v


@njit(cache=True, error_model="numpy")
def _episodes(
    code,
    node_ptr,
    act,
    in_ptr,
    in_src,
    edge_ptr,
    out_local,
    row_genome,
    w,
    ew,
    individual,
    s0,
    o0,
    max_steps,
    lo,
    hi,
    two,
    pad,
):
    """Run R episodes of environment `code`; rows of one genome should be contiguous.

    s0: (R, 4) float64 reset states (unused columns 0); o0: (R, n_obs) float64 reset
    observations; lo, hi: Box action bounds; two: 2.0 (run-time exponent of the squares); pad:
    the network's lane loops run over whole groups of `pad` lanes (`wann.vmath.LANES`).
    Returns (returns (R,) float64, steps (R,) int64)."""
    R = row_genome.shape[0]
    n_in = o0.shape[1]
    n_out = out_local.shape[1]
    discrete = code == CARTPOLE or code == ACROBOT or code == MOUNTAINCAR
    ret = np.zeros(R)
    steps = np.zeros(R, dtype=np.int64)
    max_nodes = max_nodes_of(node_ptr)
    # per-genome buffers, allocated once at the widest genome's lanes (every value a genome reads
    # is written for it first; stale values in spare lanes are never read)
    PM = lanes_needed(row_genome, pad)
    vals = np.empty((max_nodes, PM))
    acc = np.empty(PM)
    # per-lane state; lanes are compacted so lanes 0..n_alive-1 are the running episodes
    st = np.zeros((4, PM))
    ob = np.zeros((n_in, PM))
    wl = np.empty(PM)
    tot = np.zeros(PM)
    row = np.empty(PM, dtype=np.int64)
    ai = np.zeros(PM, dtype=np.int64)
    af = np.zeros(PM, dtype=np.float32)
    rw = np.zeros(PM)
    tm = np.zeros(PM, dtype=np.bool_)
    lane_ew = np.empty((ew.shape[1], PM))  # edge-major: (edges, lanes)
    r = 0
    while r < R:
        g = row_genome[r]
        r_end = rows_end(row_genome, r)
        L = r_end - r
        n_nodes = node_ptr[g + 1] - node_ptr[g]
        nbase = node_ptr[g]
        P = (L + pad - 1) // pad * pad  # the network's lane loops run over whole groups of pad lanes
        for l in range(P):
            src = r + (l if l < L else 0)  # spare lanes copy lane 0 (values nobody reads)
            vals[0, l] = 1.0
            if l < L:
                for k in range(4):
                    st[k, l] = s0[src, k]
                row[l] = src
                tot[l] = 0.0
            for i in range(n_in):
                ob[i, l] = o0[src, i]
            wl[l] = w[src]
            if individual:
                for k in range(ew.shape[1]):
                    lane_ew[k, l] = ew[src, k]
        n_alive = L
        t = 0
        while n_alive > 0 and t < max_steps:
            t += 1
            nv = (n_alive + pad - 1) // pad * pad
            for i in range(n_in):
                for l in range(nv):
                    vals[1 + i, l] = ob[i, l]
            if individual:
                forward_individual_lanes(vals, nv, n_in, n_nodes, nbase, edge_ptr[g], act, in_ptr, in_src, lane_ew, acc)
            else:
                forward_shared_fused(vals, nv, n_in, n_nodes, nbase, act, in_ptr, in_src, wl, acc)
            for l in range(n_alive):
                if discrete:
                    best = _finite(vals[out_local[g, 0], l])
                    k_best = 0
                    for k in range(1, n_out):
                        v = _finite(vals[out_local[g, k], l])
                        if v > best:
                            best = v
                            k_best = k
                    ai[l] = k_best
                else:
                    v = _finite(vals[out_local[g, 0], l])
                    af[l] = np.float32(min(max(v, lo), hi))
            # the vectorised physics (Acrobot's) runs whole groups of lanes too; spare lanes are never read
            step_lanes(code, st, ob, ai, af, nv if code == ACROBOT else n_alive, t, two, rw, tm)
            l = 0
            while l < n_alive:
                tot[l] += rw[l]
                if tm[l] or t >= max_steps:
                    ret[row[l]] = tot[l]
                    steps[row[l]] = t
                    n_alive -= 1
                    if l != n_alive:  # move the last running lane into this slot
                        m = n_alive
                        for k in range(4):
                            st[k, l] = st[k, m]
                        for i in range(n_in):
                            ob[i, l] = ob[i, m]
                        wl[l] = wl[m]
                        tot[l] = tot[m]
                        rw[l] = rw[m]
                        tm[l] = tm[m]
                        row[l] = row[m]
                        ai[l] = ai[m]
                        af[l] = af[m]
                        if individual:
                            for k in range(lane_ew.shape[0]):
                                lane_ew[k, l] = lane_ew[k, m]
                        continue  # re-examine slot l, which now holds lane m
                l += 1
        r = r_end
    return ret, steps


def initial_rows(env_id: str, row_seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reset states (R, 4) float64 (unused columns 0) and observations (R, n_obs) float64 of
    `env_id` for the seeds (R,), drawn by its numpy twin exactly as Gymnasium's reset(seed=...)."""
    twin = TWINS[env_id]()
    o0 = np.ascontiguousarray(twin.reset(np.asarray(row_seed, dtype=np.int64)), dtype=np.float64)
    s = np.asarray(twin.state, dtype=np.float64)
    s0 = np.zeros((s.shape[0], 4))
    s0[:, : s.shape[1]] = s
    return s0, o0


def run_episodes(
    env_id: str,
    batch: CompiledBatch,
    row_genome,
    row_weight,
    row_seed,
    row_edge_weights=None,
    max_steps: int = 500,
    low: float = -1.0,
    high: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Episodes of `env_id` (a key of `FUSED`, default options) through the fused kernel.

    row_genome, row_weight, row_seed: (R,) genome index in `batch`, shared weight, reset seed
    (rows of one genome contiguous for speed); row_edge_weights: optional (R, max_edges)
    individual weights in CSR edge order. max_steps: truncation limit [steps]. low, high: the
    Box action bounds (ignored for Discrete tasks). Returns (returns (R,) float64 in the
    environment's reward units, steps (R,) int64)."""
    code, n_obs, n_out, _ = FUSED[env_id]
    if (batch.n_inputs, batch.n_outputs) != (n_obs, n_out):
        raise ValueError(f"{env_id} needs genomes with {n_obs} inputs and {n_out} outputs")
    rows = row_arrays(row_genome, row_weight, row_edge_weights)
    seeds = np.broadcast_to(np.asarray(row_seed, dtype=np.int64), rows[0].shape)
    if rows[0].shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    s0, o0 = initial_rows(env_id, seeds)
    return _episodes(code, *batch.arrays(), *rows, s0, o0, int(max_steps), float(low), float(high), 2.0, vmath.LANES)


__all__ = ["FUSED", "initial_rows", "run_episodes"]
