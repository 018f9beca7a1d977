import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import wann.tasks  # noqa: F401  (registers wann/CartPoleSwingUp-v0)
from wann.genome import Genome
from wann.network import compile_genomes, forward, forward_numpy
from wann.search.variation import VariationSettings, mutate
from wann.tasks import swingup


def test_registered_env_passes_checker():
    env = gym.make("wann/CartPoleSwingUp-v0")
    check_env(env.unwrapped)
    assert env.spec.max_episode_steps == 1000


def _reference_step(state, a):
    """The equations of the reference docs written out once more, independently, with math."""
    x, xd, th, thd = state
    g, mc, mp, l, b, dt = 9.82, 0.5, 0.5, 0.6, 0.1, 0.01
    M = mc + mp
    F = 10.0 * max(-1.0, min(1.0, a))
    s, c = math.sin(th), math.cos(th)
    D = 4 * M - 3 * mp * c**2
    xdd = (-2 * mp * l * thd**2 * s + 3 * mp * g * s * c + 4 * F - 4 * b * xd) / D
    thdd = (-3 * mp * l * thd**2 * s * c + 6 * M * g * s + 6 * (F - b * xd) * c) / (l * D)
    new = (x + xd * dt, xd + xdd * dt, th + thd * dt, thd + thdd * dt)
    r = 0.5 * (1 + math.cos(new[2])) * math.cos(math.pi * new[0] / 4.8)
    return new, r


@pytest.mark.parametrize(
    "state,action",
    [
        ((0.0, 0.0, math.pi, 0.0), 0.0),
        ((0.3, -0.5, 2.0, 1.5), 0.7),
        ((-1.0, 2.0, -0.4, -3.0), -5.0),  # action clipped to -1
        ((2.39, 1.0, 0.1, 0.0), 1.0),  # crosses the track limit
    ],
)
def test_golden_dynamics(state, action):
    new, r, term = swingup.step_states(np.array([state]), np.array([action]))
    exp_new, exp_r = _reference_step(state, action)
    assert np.allclose(new[0], exp_new, rtol=1e-12, atol=1e-12)
    assert r[0] == pytest.approx(exp_r, rel=1e-12, abs=1e-12)
    assert bool(term[0]) == (abs(exp_new[0]) > 2.4)


def test_golden_numbers_hanging_pole_at_rest():
    # at theta = pi, zero velocity and zero force nothing moves and the reward is 0
    new, r, _ = swingup.step_states(np.array([[0.0, 0.0, math.pi, 0.0]]), np.array([0.0]))
    assert np.allclose(new, [[0.0, 0.0, math.pi, 0.0]], atol=1e-12)
    assert r[0] == pytest.approx(0.0, abs=1e-12)
    # full push from rest, upright: x_ddot = 4F / (4M - 3 m_p) = 40 / 2.5 = 16 m/s^2
    new, r, _ = swingup.step_states(np.array([[0.0, 0.0, 0.0, 0.0]]), np.array([1.0]))
    assert new[0, 1] == pytest.approx(0.16)
    # theta_ddot = 6F / (l (4M - 3 m_p)) = 60 / 1.5 = 40 rad/s^2
    assert new[0, 3] == pytest.approx(0.40)
    assert r[0] == pytest.approx(1.0)


def test_reset_distribution_and_seeding():
    env = gym.make("wann/CartPoleSwingUp-v0")
    o1, _ = env.reset(seed=5)
    o2, _ = env.reset(seed=5)
    assert np.array_equal(o1, o2)
    s = swingup.initial_state(5)
    assert np.allclose(o1, swingup.observe(s[None])[0])
    starts = swingup.initial_states(np.arange(2000))
    assert np.allclose(starts.mean(0), [0, 0, math.pi, 0], atol=0.02)
    assert np.allclose(starts.std(0), 0.2, atol=0.01)


def test_compiled_single_step_is_step_states_to_the_last_bit():
    # the Gymnasium environment steps with `step_one`; the vector twin and the fused kernel's
    # references use `step_states`: they must agree exactly, far from the usual states too
    rng = np.random.default_rng(5)
    n = 20000
    state = np.column_stack(
        [rng.uniform(-3, 3, n), rng.normal(0, 5, n), rng.uniform(-40, 40, n), rng.normal(0, 20, n)]
    )
    action = np.concatenate([rng.uniform(-2, 2, n - 3), [np.nan, -np.inf, np.inf]])
    new, reward, term = swingup.step_states(state, action)
    obs = swingup.observe(new)
    for i in range(n):
        x, xd, th, thd, r, t, c, s = swingup.step_one(*state[i], action[i])
        assert np.array_equal([x, xd, th, thd], new[i], equal_nan=True)
        assert np.array_equal([x, xd, c, s, thd], obs[i], equal_nan=True)
        assert (r == reward[i] or (np.isnan(r) and np.isnan(reward[i]))) and t == term[i]
    env = gym.make(swingup.SWINGUP_ID)
    o, _ = env.reset(seed=3)
    st = env.unwrapped.state.copy()
    for a in rng.uniform(-1, 1, 50):
        o, r, t, _, _ = env.step(np.array([a], dtype=np.float32))
        st, rr, _ = swingup.step_states(st, np.array([np.float32(a)], dtype=np.float64))
        assert np.array_equal(o, swingup.observe(st)[0]) and r == rr[0] and isinstance(r, float)


def test_vector_twin_matches_single_envs():
    n, seeds = 8, np.arange(100, 108)
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.5, 1.5, size=(400, n))
    vec = swingup.CartPoleSwingUpVec(n, t_limit=400)
    obs_v = vec.reset(seeds)
    envs = [gym.make("wann/CartPoleSwingUp-v0") for _ in range(n)]
    obs_s = np.stack([e.reset(seed=int(s))[0] for e, s in zip(envs, seeds)])
    assert np.array_equal(obs_v, obs_s)
    done = np.zeros(n, bool)
    for t in range(400):
        ov, rv, tv, _ = vec.step(actions[t])
        for i, e in enumerate(envs):
            if done[i]:
                continue
            o, r, term, trunc, _ = e.step(np.array([actions[t, i]], dtype=np.float64))
            assert np.array_equal(o, ov[i]) and r == rv[i] and term == tv[i]
            done[i] = term or trunc
    assert done.any()  # some episodes ran off the track under random pushes


def _genomes(acts, n=10, seed=3):
    rng = np.random.default_rng(seed)
    s = VariationSettings(activations=acts)
    out = []
    for k in range(n):
        g = Genome.initial(5, 1, rng, 0.6)
        for _ in range(5 + 6 * k):
            g = mutate(g, rng, s)
        out.append(g)
    return out


def test_compiled_forward_matches_numpy(small_genomes):
    b = compile_genomes(small_genomes)
    rng = np.random.default_rng(1)
    for gi, g in enumerate(small_genomes):
        obs = rng.normal(size=(40, 5))
        w = rng.choice([-2, -1, -0.5, 0.5, 1, 2], 40)
        assert np.allclose(forward(b, np.full(40, gi), obs, w), forward_numpy(g, obs, w), rtol=1e-12, atol=1e-12)
        cw = rng.uniform(-2, 2, size=(40, len(g.connections)))
        from wann.network import edge_weights_from_connections

        ew = edge_weights_from_connections(b, gi, cw)
        assert np.allclose(
            forward(b, np.full(40, gi), obs, w, ew), forward_numpy(g, obs, w, cw), rtol=1e-12, atol=1e-12
        )


def test_fused_kernel_matches_numpy_path_exactly():
    # the kernel and the numpy path (forward_numpy + vector twin) use the same math (wann.vmath
    # for sin, cos, exp and tanh), so whole episodes are identical, for every activation
    genomes = _genomes(tuple(range(1, 11)))
    b = compile_genomes(genomes)
    W = np.repeat([-2, -1, -0.5, 0.5, 1, 2], 2)
    S = np.tile([21, 22], 6)
    for gi, g in enumerate(genomes):
        r1, s1 = swingup.run_episodes(b, np.full(12, gi), W, S, max_steps=300)
        r2, s2 = swingup.run_episodes_numpy(g, W, S, max_steps=300)
        assert np.array_equal(s1, s2)
        assert np.array_equal(r1, r2)


def test_fused_kernel_matches_numpy_path_individual_weights():
    from wann.network import edge_weights_from_connections

    genomes = _genomes(tuple(range(1, 11)), n=6)
    b = compile_genomes(genomes)
    rng = np.random.default_rng(5)
    S = np.arange(8)
    for gi, g in enumerate(genomes):
        cw = rng.uniform(-2, 2, size=(8, len(g.connections)))
        ew = edge_weights_from_connections(b, gi, cw)
        pad = np.zeros((8, max(1, int(np.diff(b.edge_ptr).max()))))
        pad[:, : ew.shape[1]] = ew
        r1, s1 = swingup.run_episodes(b, np.full(8, gi), np.zeros(8), S, pad, max_steps=200)
        r2, s2 = swingup.run_episodes_numpy(g, np.zeros(8), S, cw, max_steps=200)
        assert np.array_equal(s1, s2)
        assert np.array_equal(r1, r2)


def test_episode_limits():
    g = _genomes((1,), n=1)[0]
    b = compile_genomes([g])
    r, s = swingup.run_episodes(b, np.zeros(3, np.int64), np.ones(3), np.array([1, 2, 3]), max_steps=1000)
    assert (s <= 1000).all() and (r <= s + 1e-9).all()
