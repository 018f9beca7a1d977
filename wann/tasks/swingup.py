"""CartPoleSwingUp, the reference WANN variant (not Gymnasium's CartPole).

Physics (all SI units; time step dt = 0.01 s, explicit Euler):

    g = 9.82, m_cart = 0.5, m_pole = 0.5 (total M = 1.0), pole length l = 0.6, friction b = 0.1
    F = 10 * clip(action, -1, 1)                                      [N]
    x_ddot     = (-2 m_p l th_dot^2 sin th + 3 m_p g sin th cos th + 4 F - 4 b x_dot)
                 / (4 M - 3 m_p cos^2 th)
    theta_ddot = (-3 m_p l th_dot^2 sin th cos th + 6 M g sin th + 6 (F - b x_dot) cos th)
                 / (4 l M - 3 m_p l cos^2 th)

Positions advance with the old velocities, velocities with the accelerations of the pre-step
state. theta = 0 is upright, pi hangs down. Reset: each of (x, x_dot, theta, theta_dot) ~
Normal((0, 0, pi, 0), 0.2), drawn from ``numpy.random.default_rng(seed)`` (the same generator
Gymnasium's ``reset(seed=...)`` builds). Observation (x, x_dot, cos th, sin th, th_dot). Reward
per step, on the post-step state: 0.5 (1 + cos th) * cos(pi x / 4.8); at most 1 per step.
An episode terminates when |x| > 2.4 (that step's reward still counts) and is truncated after
1000 steps.

sin and cos are `wann.vmath`'s (within 1 ulp of the C library; vectorised in the kernel), in all
three implementations, which share these equations:
- `step_states` (numpy, any number of episodes): the vectorised twin `CartPoleSwingUpVec` and the
  Gymnasium environment `CartPoleSwingUpEnv` (registered as ``wann/CartPoleSwingUp-v0``) both
  step through it, so they give identical trajectories.
- the numba kernel `_episodes`, which fuses the network forward pass and the physics for all
  episodes of a genome in lockstep (the search's hot loop), tested against the numpy path.

`SwingUpTask` is the task the search runs (through the fused kernel); `make_swingup_task` is its
factory in `wann.tasks.registry`, which also registers the Gymnasium id `SWINGUP_ID`.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numba import njit

from wann import vmath
from wann.errors import ConfigError
from wann.network import (
    CompiledBatch,
    forward_individual_lanes,
    forward_shared_fused,
    lanes_needed,
    max_nodes_of,
    row_arrays,
    rows_end,
)
from wann.tasks.base import Task

SWINGUP_ID = "wann/CartPoleSwingUp-v0"

GRAVITY = 9.82
M_CART = 0.5
M_POLE = 0.5
TOTAL_M = M_CART + M_POLE
POLE_L = 0.6
M_POLE_L = M_POLE * POLE_L
FORCE_MAG = 10.0
FRICTION = 0.1
DT = 0.01
X_LIMIT = 2.4
T_LIMIT = 1000
RESET_MEAN = np.array([0.0, 0.0, np.pi, 0.0])
RESET_SD = 0.2
N_INPUTS, N_OUTPUTS = 5, 1


def initial_state(seed: int) -> np.ndarray:
    """The reset state (x, x_dot, theta, theta_dot) for `seed`, shape (4,)."""
    return np.random.default_rng(int(seed)).normal(loc=RESET_MEAN, scale=RESET_SD)


def initial_states(seeds: np.ndarray) -> np.ndarray:
    """Reset states for many seeds, shape (len(seeds), 4); repeated seeds are drawn once."""
    seeds = np.asarray(seeds, dtype=np.int64)
    uniq, inverse = np.unique(seeds, return_inverse=True)
    table = np.stack([initial_state(s) for s in uniq]) if len(uniq) else np.zeros((0, 4))
    return table[inverse.reshape(-1)]


def observe(state: np.ndarray) -> np.ndarray:
    """Observations (N, 5) from states (N, 4)."""
    x, x_dot, th, th_dot = state.T
    return np.stack([x, x_dot, vmath.vcos(th), vmath.vsin(th), th_dot], axis=1)


def step_states(state: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Euler step for N episodes. state (N, 4), action (N,) in any range (clipped to [-1, 1]).
    Returns (new_state (N, 4), reward (N,), terminated (N,) bool)."""
    x, x_dot, th, th_dot = state.T
    force = np.clip(action, -1.0, 1.0) * FORCE_MAG
    s = vmath.vsin(th)
    c = vmath.vcos(th)
    x_acc = (
        -2 * M_POLE_L * (th_dot * th_dot) * s + 3 * M_POLE * GRAVITY * s * c + 4 * force - 4 * FRICTION * x_dot
    ) / (4 * TOTAL_M - 3 * M_POLE * (c * c))
    th_acc = (
        -3 * M_POLE_L * (th_dot * th_dot) * s * c + 6 * TOTAL_M * GRAVITY * s + 6 * (force - FRICTION * x_dot) * c
    ) / (4 * POLE_L * TOTAL_M - 3 * M_POLE_L * (c * c))
    new = np.stack([x + x_dot * DT, x_dot + x_acc * DT, th + th_dot * DT, th_dot + th_acc * DT], axis=1)
    nx, nth = new[:, 0], new[:, 2]
    reward = (vmath.vcos(nth) + 1.0) / 2.0 * vmath.vcos((nx / X_LIMIT) * (np.pi / 2.0))
    terminated = (nx < -X_LIMIT) | (nx > X_LIMIT)
    return new, reward, terminated


class CartPoleSwingUpVec:
    """N swing-up episodes stepped together (numpy). Episodes that end stay ended until reset.

    reset(seeds (N,)) -> obs (N, 5); step(actions (N,) or (N, 1)) -> (obs, reward, terminated,
    truncated), each (N,) except obs. Rewards of already-finished episodes are 0."""

    def __init__(self, n: int, t_limit: int = T_LIMIT):
        self.n = n
        self.t_limit = t_limit
        self.state = np.zeros((n, 4))
        self.t = 0
        self.done = np.ones(n, dtype=bool)

    def reset(self, seeds) -> np.ndarray:
        self.state = initial_states(np.asarray(seeds).reshape(self.n))
        self.t = 0
        self.done = np.zeros(self.n, dtype=bool)
        return observe(self.state)

    def step(self, actions):
        a = np.asarray(actions, dtype=np.float64).reshape(self.n)
        new, reward, terminated = step_states(self.state, a)
        live = ~self.done
        self.state = np.where(live[:, None], new, self.state)
        reward = np.where(live, reward, 0.0)
        self.t += 1
        terminated = terminated & live
        truncated = live & ~terminated & (self.t >= self.t_limit)
        self.done = self.done | terminated | truncated
        return observe(self.state), reward, terminated, truncated


class CartPoleSwingUpEnv(gym.Env):
    """Gymnasium environment of the reference swing-up task (see the module docstring).

    Observation: Box(5,) float64 (x [m], x_dot [m/s], cos theta, sin theta, theta_dot [rad/s]).
    Action: Box(1,) in [-1, 1], scaled to a force of 10 N. Truncation at 1000 steps comes from the
    registration's TimeLimit (``max_episode_steps=1000``)."""

    metadata = {"render_modes": []}

    def __init__(self):
        big = np.finfo(np.float64).max
        high = np.array([big, big, 1.0, 1.0, big])
        self.observation_space = spaces.Box(-high, high, dtype=np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.state = np.zeros((1, 4))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.np_random.normal(loc=RESET_MEAN, scale=RESET_SD).reshape(1, 4)
        return observe(self.state)[0], {}

    def step(self, action):
        a = float(np.asarray(action, dtype=np.float64).reshape(1)[0])
        x, x_dot, th, th_dot = (float(v) for v in self.state[0])
        x, x_dot, th, th_dot, reward, terminated, c, s = step_one(x, x_dot, th, th_dot, a)
        self.state = np.array([[x, x_dot, th, th_dot]])
        return np.array([x, x_dot, c, s, th_dot]), reward, terminated, False, {}


@njit(cache=True, error_model="numpy")
def step_one(x, x_dot, th, th_dot, action):
    """`step_states` for one episode, compiled: the same operations in the same order, so the same
    numbers to the last bit (tested), without numpy's per-call cost on (1,)-arrays (what the
    Gymnasium environment steps with). Returns (x, x_dot, theta, theta_dot) after the step, the
    reward, terminated, and cos / sin of the new theta (the observation's)."""
    a = -1.0 if action < -1.0 else action  # np.clip: NaN stays NaN
    a = 1.0 if a > 1.0 else a
    force = a * FORCE_MAG
    s = vmath.sin1(th)
    c = vmath.cos1(th)
    x_acc = (
        -2 * M_POLE_L * (th_dot * th_dot) * s + 3 * M_POLE * GRAVITY * s * c + 4 * force - 4 * FRICTION * x_dot
    ) / (4 * TOTAL_M - 3 * M_POLE * (c * c))
    th_acc = (
        -3 * M_POLE_L * (th_dot * th_dot) * s * c + 6 * TOTAL_M * GRAVITY * s + 6 * (force - FRICTION * x_dot) * c
    ) / (4 * POLE_L * TOTAL_M - 3 * M_POLE_L * (c * c))
    nx = x + x_dot * DT
    nxd = x_dot + x_acc * DT
    nth = th + th_dot * DT
    nthd = th_dot + th_acc * DT
    cn = vmath.cos1(nth)
    reward = (cn + 1.0) / 2.0 * vmath.cos1((nx / X_LIMIT) * (np.pi / 2.0))
    return nx, nxd, nth, nthd, reward, nx < -X_LIMIT or nx > X_LIMIT, cn, vmath.sin1(nth)


# ---------------------------------------------------------------------------------------------
# fused kernel: network forward pass + physics, all episodes of a genome in lockstep
# ---------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _episodes(node_ptr, act, in_ptr, in_src, edge_ptr, out_local, row_genome, w, ew, individual, s0, max_steps, pad):
    """Run R episodes; rows of one genome must be contiguous. Returns (returns (R,), steps (R,)).

    Per genome its L episodes run as lanes in lockstep; lanes that finish are compacted away, so
    lanes 0..n_alive-1 are the running ones. Node values live in a (nodes, P) buffer, P = L
    rounded up to `pad` (`wann.vmath.LANES`, 4), and every step is a few lane loops the compiler
    vectorises: the network (`forward_shared_fused`), the physics with `wann.vmath` trig, then a
    scalar pass that ends and compacts finished lanes. Loops run over n_alive rounded up to `pad`
    lanes (the spare lanes compute stale values nobody reads), so with the vectorised 4-lane
    remainder `wann.vmath` asks LLVM for no loop runs a scalar remainder."""
    R = row_genome.shape[0]
    ret = np.zeros(R)
    steps = np.zeros(R, dtype=np.int64)
    max_nodes = max_nodes_of(node_ptr)
    # per-genome buffers, allocated once at the widest genome's lanes (every value a genome reads
    # is written for it first; stale values in spare lanes are never read)
    PM = lanes_needed(row_genome, pad)
    vals = np.zeros((max_nodes, PM))
    acc = np.zeros(PM)
    x = np.zeros(PM)
    xd = np.zeros(PM)
    th = np.zeros(PM)
    thd = np.zeros(PM)
    c = np.zeros(PM)
    s = np.zeros(PM)
    wl = np.zeros(PM)
    tot = np.zeros(PM)
    row = np.zeros(PM, dtype=np.int64)
    lane_ew = np.zeros((ew.shape[1], PM))  # edge-major: (edges, lanes)
    r = 0
    while r < R:
        g = row_genome[r]
        r_end = rows_end(row_genome, r)
        L = r_end - r
        P = (L + pad - 1) // pad * pad
        n_nodes = node_ptr[g + 1] - node_ptr[g]
        nbase = node_ptr[g]
        out_j = out_local[g, 0]
        for l in range(P):
            src = r + (l if l < L else 0)  # spare lanes copy lane 0
            x[l] = s0[src, 0]
            xd[l] = s0[src, 1]
            th[l] = s0[src, 2]
            thd[l] = s0[src, 3]
            s[l], c[l] = vmath.sincos1(th[l])
            wl[l] = w[src]
            row[l] = src
            tot[l] = 0.0
            if individual:
                for k in range(ew.shape[1]):
                    lane_ew[k, l] = ew[src, k]
        n_alive = L
        t = 0
        while n_alive > 0 and t < max_steps:
            t += 1
            nv = (n_alive + pad - 1) // pad * pad
            for l in range(nv):
                vals[0, l] = 1.0
                vals[1, l] = x[l]
                vals[2, l] = xd[l]
                vals[3, l] = c[l]
                vals[4, l] = s[l]
                vals[5, l] = thd[l]
            if individual:
                forward_individual_lanes(vals, nv, 5, n_nodes, nbase, edge_ptr[g], act, in_ptr, in_src, lane_ew, acc)
            else:
                forward_shared_fused(vals, nv, 5, n_nodes, nbase, act, in_ptr, in_src, wl, acc)
            for l in range(nv):  # physics, vectorised
                a = vals[out_j, l]
                a = -1.0 if a < -1.0 else a
                a = 1.0 if a > 1.0 else a
                force = a * FORCE_MAG
                cl = c[l]
                sl = s[l]
                xdl = xd[l]
                thdl = thd[l]
                x_acc = (
                    -2 * M_POLE_L * (thdl * thdl) * sl + 3 * M_POLE * GRAVITY * sl * cl + 4 * force - 4 * FRICTION * xdl
                ) / (4 * TOTAL_M - 3 * M_POLE * (cl * cl))
                th_acc = (
                    -3 * M_POLE_L * (thdl * thdl) * sl * cl
                    + 6 * TOTAL_M * GRAVITY * sl
                    + 6 * (force - FRICTION * xdl) * cl
                ) / (4 * POLE_L * TOTAL_M - 3 * M_POLE_L * (cl * cl))
                nx = x[l] + xdl * DT
                nth = th[l] + thdl * DT
                x[l] = nx
                xd[l] = xdl + x_acc * DT
                th[l] = nth
                thd[l] = thdl + th_acc * DT
                sn, cn = vmath.sincos1(nth)
                c[l] = cn
                s[l] = sn
                tot[l] += (cn + 1.0) / 2.0 * vmath.cos1((nx / X_LIMIT) * (math.pi / 2.0))
            l = 0
            while l < n_alive:
                nx = x[l]
                if nx < -X_LIMIT or nx > X_LIMIT or t >= max_steps:
                    ret[row[l]] = tot[l]
                    steps[row[l]] = t
                    n_alive -= 1
                    if l != n_alive:  # move the last running lane into this slot
                        m = n_alive
                        x[l] = x[m]
                        xd[l] = xd[m]
                        th[l] = th[m]
                        thd[l] = thd[m]
                        c[l] = c[m]
                        s[l] = s[m]
                        wl[l] = wl[m]
                        tot[l] = tot[m]
                        row[l] = row[m]
                        if individual:
                            for k in range(lane_ew.shape[0]):
                                lane_ew[k, l] = lane_ew[k, m]
                        continue  # re-examine slot l, which now holds lane m
                l += 1
        r = r_end
    return ret, steps


@njit(cache=True, error_model="numpy")
def physics_only(s0, n_steps):
    """The swing-up physics alone, action 0, no termination: (N, 4) -> (N, 4). For measuring the
    environment's share of evaluation time."""
    N = s0.shape[0]
    out = s0.copy()
    acc = 0.0
    for i in range(N):
        x, xd, th, thd = out[i, 0], out[i, 1], out[i, 2], out[i, 3]
        s, c = vmath.sincos1(th)
        for _ in range(n_steps):
            force = 0.0
            x_acc = (-2 * M_POLE_L * (thd * thd) * s + 3 * M_POLE * GRAVITY * s * c + 4 * force - 4 * FRICTION * xd) / (
                4 * TOTAL_M - 3 * M_POLE * (c * c)
            )
            th_acc = (
                -3 * M_POLE_L * (thd * thd) * s * c + 6 * TOTAL_M * GRAVITY * s + 6 * (force - FRICTION * xd) * c
            ) / (4 * POLE_L * TOTAL_M - 3 * M_POLE_L * (c * c))
            x = x + xd * DT
            th = th + thd * DT
            xd = xd + x_acc * DT
            thd = thd + th_acc * DT
            s, c = vmath.sincos1(th)
            acc += (c + 1.0) / 2.0 * vmath.cos1((x / X_LIMIT) * (math.pi / 2.0))
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = x, xd, th, thd
    out[0, 0] += acc * 0.0
    return out


def run_episodes(
    batch: CompiledBatch, row_genome, row_weight, row_seed, row_edge_weights=None, max_steps: int = T_LIMIT
):
    """Episodes of the fused kernel. row_*: (R,) arrays (rows of one genome contiguous);
    row_edge_weights: optional (R, max_edges) individual weights in CSR edge order.
    Returns (returns (R,) float64, steps (R,) int64)."""
    rows = row_arrays(row_genome, row_weight, row_edge_weights)
    s0 = np.ascontiguousarray(initial_states(np.broadcast_to(row_seed, rows[0].shape)))
    return _episodes(*batch.arrays(), *rows, s0, int(max_steps), vmath.LANES)


def run_episodes_numpy(genome, weights, seeds, conn_weights=None, max_steps: int = T_LIMIT):
    """The plain-numpy path for one genome: `forward_numpy` + `CartPoleSwingUpVec`.
    weights, seeds: (R,); conn_weights: optional (R, n_connections). Returns (returns, steps)."""
    from wann.network import forward_numpy

    R = len(seeds)
    env = CartPoleSwingUpVec(R, t_limit=max_steps)
    obs = env.reset(seeds)
    total = np.zeros(R)
    steps = np.zeros(R, dtype=np.int64)
    while not env.done.all():
        out = forward_numpy(genome, obs, weights, conn_weights)
        live = ~env.done
        obs, reward, _, _ = env.step(out[:, 0])
        total += reward
        steps += live
    return total, steps


# ---------------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------------


class SwingUpTask(Task):
    """CartPoleSwingUp through the fused numba kernel (see the module docstring)."""

    def run_episodes(self, batch, row_genome, row_weight, row_seed, row_edge_weights=None):
        return run_episodes(batch, row_genome, row_weight, row_seed, row_edge_weights, max_steps=self.max_steps)


def make_swingup_task(max_steps: int = 1000) -> Task:
    """The swing-up task (`SWINGUP_ID`); `max_steps` other than 1000 is recorded in its options."""
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ConfigError("task.max_steps", f"must be a positive integer, got {max_steps!r}")
    return SwingUpTask(
        SWINGUP_ID,
        5,
        1,
        max_steps,
        {"max_steps": max_steps} if max_steps != 1000 else {},
        input_names=("x", "x_dot", "cos th", "sin th", "th_dot"),
    )
