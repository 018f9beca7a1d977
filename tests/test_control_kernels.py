"""The fused classic-control kernels (`wann.tasks.control`) against the real Gymnasium
environments: identical returns and step counts, episode by episode, for shared and individual
weights (Acrobot-v1: within ~1e-15 per step, see `_agree`); the ``kernel`` option of `GymTask`;
`wann bench --task` for one of them."""

import math

import gymnasium
import numpy as np
import pytest
from helpers import genome_from_edges, mutated_population

from wann.activations import ALL as ACTIVATIONS
from wann.errors import ConfigError
from wann.genome import HIDDEN, Genome, Node
from wann.network import compile_genomes, edge_weights_from_connections, forward
from wann.tasks import control, make_task

IDS = sorted(control.FUSED)
WEIGHTS = np.array([-1.5, 0.5, 1.0, 2.0])
SEEDS = np.array([3, 11])


def _net(n_in, n_out, edges, hidden=None):
    """A genome from (source, destination) edges; `hidden` maps hidden node ids to activations."""
    g = genome_from_edges(n_in, n_out, edges)
    extra = tuple(Node(i, HIDDEN, a) for i, a in (hidden or {}).items())
    return Genome(n_in, n_out, g.nodes + extra, g.connections).validate()


def _controllers(env_id):
    """Hand-made genomes that reach the goal (or balance), so episodes end by termination and by
    truncation; hidden nodes use the step (2), tanh (5) and negation (7) activations."""
    if env_id == "CartPole-v1":  # push right when theta + theta_dot > 0: balances to truncation
        return [_net(4, 2, [(3, 6), (4, 6)])]
    if env_id == "Acrobot-v1":  # torque +-1 with the first joint's velocity (pumps energy)
        return [_net(6, 3, [(5, 9), (5, 10), (10, 7)], {10: 7})]
    if env_id == "MountainCar-v0":  # push with the velocity
        return [_net(2, 3, [(2, 5), (2, 6), (6, 3)], {6: 7})]
    if env_id == "MountainCarContinuous-v0":  # u = step(w v) - w step(-w^2 v): full force with v
        edges = [(2, 4), (2, 5), (5, 6), (4, 3), (6, 7), (7, 3)]
        return [_net(2, 1, edges, {4: 2, 5: 7, 6: 2, 7: 7})]
    return [_net(3, 1, [(3, 5), (5, 4)], {5: 5})]  # Pendulum: torque = w tanh(w theta_dot)


def _genomes(task, env_id):
    """Controllers, a genome with no connection to any output (ties, all outputs 0) and mutated
    genomes with hidden nodes of many activations."""
    gs = _controllers(env_id)
    gs.append(genome_from_edges(task.n_inputs, task.n_outputs, [(0, task.n_inputs + 1)]))
    gs += mutated_population(task, 4, 5, 0.5, lambda k: 6 + 5 * k)
    assert sum(len(g.hidden) for g in gs) >= 10
    assert len({n.activation for g in gs for n in g.hidden}) >= 5
    return gs


def _reference(task, genome, weight, seed, conn_weights=None, max_steps=None):
    """One episode of the real environment (gym.make), the network through wann.network.forward."""
    batch = compile_genomes([genome])
    env = gymnasium.make(task.env_id, max_episode_steps=max_steps or task.max_steps)
    obs, _ = env.reset(seed=int(seed))
    ew = None if conn_weights is None else edge_weights_from_connections(batch, 0, conn_weights)[None]
    total, n = 0.0, 0
    while True:
        out = forward(batch, np.zeros(1, np.int64), np.asarray(obs, np.float64)[None], np.array([weight]), ew)
        a = task.actions(out)[0]
        obs, r, term, trunc, _ = env.step(int(a) if task.discrete else a)
        total += float(r)
        n += 1
        if term or trunc:
            env.close()
            return total, n


def _rows(genomes):
    G, W, S = len(genomes), len(WEIGHTS), len(SEEDS)
    return np.repeat(np.arange(G), W * S), np.tile(np.repeat(WEIGHTS, S), G), np.tile(SEEDS, G * W)


@pytest.mark.parametrize("env_id", IDS)
def test_fused_kernel_matches_gymnasium_episode_by_episode(env_id):
    task = make_task(env_id)
    assert task.kernel == "fused" and task.twin
    gs = _genomes(task, env_id)
    rg, rw, rs = _rows(gs)
    ret, steps = task.run_episodes(compile_genomes(gs), rg, rw, rs)
    want = np.array([_reference(task, gs[rg[r]], rw[r], rs[r]) for r in range(len(rg))])
    _agree(env_id, ret, steps, want[:, 0], want[:, 1])
    ends = {"truncated" if s == task.max_steps else "terminated" for s in steps}
    if env_id != "Pendulum-v1":  # Pendulum never terminates
        assert ends == {"truncated", "terminated"}
    # the numpy twin path (Gymnasium's arithmetic exactly) gives the same numbers
    twin = make_task(env_id, kernel="numpy")
    assert twin.kernel == "numpy" and twin.spec() == {"name": env_id, "kernel": "numpy"}
    r2, s2 = twin.run_episodes(compile_genomes(gs), rg, rw, rs)
    assert np.array_equal(r2, want[:, 0]) and np.array_equal(s2, want[:, 1])
    _agree(env_id, ret, steps, r2, s2)


def _agree(env_id, ret, steps, want_ret, want_steps):
    """Episode returns and lengths equal to the environment's, row by row. Acrobot-v1's kernel is
    within ~1e-15 of Gymnasium per step (vmath trig, tested below), not bit for bit, and the
    system is chaotic, so there only most rows must be identical and the rest close in mean
    (all 48 checked rows are identical today)."""
    same = (ret == want_ret) & (steps == want_steps)
    if env_id != "Acrobot-v1":
        assert same.all(), np.flatnonzero(~same)
        return
    assert same.mean() >= 0.9, np.flatnonzero(~same)
    assert abs(ret.mean() - want_ret.mean()) <= 0.02 * abs(want_ret.mean())


def _random_states(env_id, rng, n):
    """(states (n, k), discrete actions (n,), float32 Box actions (n,)) spread over each
    environment's range, with edge cases (the walls, the speed limits, exactly zero)."""
    u = rng.uniform(-2.5, 2.5, n).astype(np.float32)
    a = rng.integers(0, 3, n)
    if env_id == "CartPole-v1":
        return rng.uniform([-2.4, -3, -0.21, -3], [2.4, 3, 0.21, 3], (n, 4)), a % 2, u
    if env_id == "Acrobot-v1":
        return rng.uniform([-np.pi, -np.pi, -4 * np.pi, -9 * np.pi], [np.pi, np.pi, 4 * np.pi, 9 * np.pi], (n, 4)), a, u
    if env_id == "Pendulum-v1":
        return rng.uniform([-20, -8], [20, 8], (n, 2)), a, u
    s = rng.uniform([-1.2, -0.07], [0.6, 0.07], (n, 2))
    s[::7, 0] = -1.2
    s[1::7, 1] = 0.07 * np.sign(s[1::7, 1])
    s[2::7, 0] = rng.uniform(0.4, 0.6, len(s[2::7]))
    s[3::7, 1] = 0.0
    return s, a, np.clip(u, -1, 1)


@pytest.mark.parametrize("env_id", IDS)
def test_one_step_from_random_states_matches_gymnasium(env_id):
    """Each physics step against the environment's own step, from states all over its range
    (rare rounding cases such as libm pow against x * x show up here)."""
    code = control.FUSED[env_id][0]
    env = gymnasium.make(env_id).unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(4)
    states, acts, us = _random_states(env_id, rng, 3000)
    first = env_id == "MountainCarContinuous-v0"  # its first step is float64, later ones float32
    for k, (s, a, u) in enumerate(zip(states, acts, us)):
        t = 1 if first and k % 2 else 2
        if first and t == 2:
            s = s.astype(np.float32)
        env.state = np.array(s)
        if env_id == "CartPole-v1":
            env.steps_beyond_terminated = None
        box = env_id in ("Pendulum-v1", "MountainCarContinuous-v0")
        obs, r, term, _, _ = env.step(np.array([u], dtype=np.float32) if box else int(a))
        st = np.zeros((4, 1))
        st[: len(s), 0] = s
        ob = np.zeros((len(obs), 1))
        rew, te = np.zeros(1), np.zeros(1, dtype=bool)
        control.step_lanes(code, st, ob, np.array([a]), np.array([u], dtype=np.float32), 1, t, 2.0, rew, te)
        want = np.asarray(env.state, dtype=np.float64)
        if env_id == "Acrobot-v1":  # vmath trig: within a few ulp of the C library's
            assert np.allclose(st[: len(s), 0], want, rtol=1e-12, atol=1e-12), (k, s, a)
            assert np.allclose(ob[:, 0], obs, rtol=0, atol=2e-7), (k, s, a)  # float32 rounding may flip
            far = abs(-math.cos(want[0]) - math.cos(want[1] + want[0]) - 1.0) > 1e-9
            assert not far or (rew[0], te[0]) == (r, term), (k, s, a)
            continue
        assert np.array_equal(ob[:, 0], np.asarray(obs, dtype=np.float64)), (k, s, a, u)
        assert (rew[0], te[0]) == (r, term), (k, s, a, u)
        assert np.array_equal(st[: len(s), 0], want), (k, s, a, u)
    # all states as lanes of one call (the vectorised loop): the same numbers as one lane at a time
    n = len(states)
    st = np.zeros((4, n))
    st[: states.shape[1]] = states.T
    ob, rew, te = np.zeros((6, n)), np.zeros(n), np.zeros(n, dtype=bool)
    control.step_lanes(code, st, ob, acts, us, n, 2, 2.0, rew, te)
    for k in range(0, n, 97):
        st1 = np.zeros((4, 1))
        st1[: states.shape[1], 0] = states[k]
        ob1, rew1, te1 = np.zeros((6, 1)), np.zeros(1), np.zeros(1, dtype=bool)
        control.step_lanes(code, st1, ob1, acts[k : k + 1], us[k : k + 1], 1, 2, 2.0, rew1, te1)
        assert np.array_equal(st1[:, 0], st[:, k]) and np.array_equal(ob1[:, 0], ob[: ob1.shape[0], k])
        assert (rew1[0], te1[0]) == (rew[k], te[k])


@pytest.mark.parametrize("env_id", IDS)
def test_fused_kernel_individual_weights_and_short_limit(env_id):
    task = make_task(env_id, max_steps=37)
    gs = _genomes(task, env_id)[:4]
    batch = compile_genomes(gs)
    rng = np.random.default_rng(1)
    rg = np.repeat(np.arange(len(gs)), 2)
    rs = np.tile([5, 6], len(gs))
    conn = [rng.normal(size=len(gs[g].connections)) * 1.5 for g in rg]
    ew = np.zeros((len(rg), int(np.diff(batch.edge_ptr).max())))
    for r, g in enumerate(rg):
        e = edge_weights_from_connections(batch, g, conn[r])
        ew[r, : e.shape[0]] = e
    ret, steps = task.run_episodes(batch, rg, np.zeros(len(rg)), rs, ew)
    want = np.array([_reference(task, gs[rg[r]], 0.0, rs[r], conn[r], max_steps=37) for r in range(len(rg))])
    _agree(env_id, ret, steps, want[:, 0], want[:, 1])
    assert steps.max() == 37


@pytest.mark.parametrize("env_id", IDS)
def test_fused_rows_do_not_depend_on_the_batch(env_id):
    task = make_task(env_id, max_steps=120)
    gs = _genomes(task, env_id)
    rg, rw, rs = _rows(gs)
    batch = compile_genomes(gs)
    ret, steps = task.run_episodes(batch, rg, rw, rs)
    perm = np.random.default_rng(2).permutation(len(rg))  # genomes' rows interleaved
    r2, s2 = task.run_episodes(batch, rg[perm], rw[perm], rs[perm])
    assert np.array_equal(r2, ret[perm]) and np.array_equal(s2, steps[perm])
    k = 2
    alone = task.run_episodes(compile_genomes([gs[k]]), np.zeros(8, np.int64), rw[rg == k], rs[rg == k])
    assert np.array_equal(alone[0], ret[rg == k]) and np.array_equal(alone[1], steps[rg == k])
    empty = task.run_episodes(batch, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    assert empty[0].shape == (0,) and empty[1].dtype == np.int64


def test_kernel_option_is_validated():
    assert make_task("MountainCar-v0").kernel == "fused"
    assert make_task("CartPole-v1", vectorized=False).kernel == ""
    assert make_task("LunarLander-v3").kernel == ""
    with pytest.raises(ConfigError) as e:
        make_task("CartPole-v1", kernel="jit")
    assert e.value.field == "task.kernel" and '"fused"' in e.value.message and '"numpy"' in e.value.message
    for name, opts in [
        ("LunarLander-v3", {}),
        ("CartPole-v1", {"vectorized": False}),
        ("MountainCar-v0", {"env_kwargs": {"goal_velocity": 0.01}}),
    ]:
        with pytest.raises(ConfigError) as e:
            make_task(name, kernel="fused", **opts)
        assert e.value.field == "task.kernel" and "remove" in e.value.message and "Acrobot-v1" in e.value.message


def test_all_activations_appear_in_the_checked_genomes():
    seen = set()
    for env_id in IDS:
        task = make_task(env_id)
        seen |= {n.activation for g in _genomes(task, env_id) for n in g.hidden}
    assert len(seen) >= len(ACTIVATIONS) - 2


def test_bench_measures_both_paths_of_one_task(capsys):
    from wann.bench import champion_sized, run_bench
    from wann.cli.commands import format_bench

    gs = champion_sized(2, hidden=29 - 1 - 3 - 1, n_inputs=3, n_outputs=1)
    assert all(g.n_nodes == 29 and g.n_connections == 52 for g in gs)
    r = run_bench(quick=True, progress=False, task="Pendulum-v1")
    assert set(r) == {"unit", "Pendulum-v1"}
    w = r["Pendulum-v1"]
    assert w["nodes"] == 29 and w["connections"] == 52 and w["genomes"] == 64
    assert w["network_steps_per_cpu_s"] > 0 and w["numpy_network_steps_per_cpu_s"] > 0
    assert w["speedup_vs_numpy"] == w["network_steps_per_cpu_s"] / w["numpy_network_steps_per_cpu_s"]
    assert "Pendulum-v1" in format_bench(r) and "numpy path" in format_bench(r)
    with pytest.raises(ConfigError, match="bench --task"):
        run_bench(quick=True, progress=False, task="Nope-v0")
