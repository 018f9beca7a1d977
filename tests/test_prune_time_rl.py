"""RL (CMA-ES) side of init schemes, replicates, SNIP and one-shot pruning at a time in training:
the default init stays bit-identical, the dense net keeps distinct snapshots, he / uniform2 draw
starts of the right spread, SNIP prunes the initial net to exactly the target, one-shot pruning
starts from the snapshot it names (or the dense init when rewound), budgets are exact."""

import json

import numpy as np
import pytest

from wann.baselines.cmaes import FROM_INIT_SIGMA, cmaes, init_weights
from wann.baselines.inits import genome_init, replicate_seed
from wann.baselines.rl import REWIND_FRACTION, retrain_topology, snapshot_key, train_dense
from wann.baselines.rl_pruning import (
    ROUND_SIGMA,
    next_mask,
    oneshot,
    random_sparse,
    snapshot_weights,
    snip,
    ticket,
    ticket_control,
)
from wann.executor import SerialExecutor
from wann.tasks import make_task
from wann.weighted import WeightedNetwork, live_connections, live_mask, mlp_genome, with_mask

HIDDEN, BUDGET, SEED, TARGET = [4], 700, 1, 14  # 700: 5 % and 10 % are full generations
KEYS = {"0.1", "0.25", "0.5", "1.0"}


@pytest.fixture(scope="module")
def cartpole():
    task = make_task("CartPole-v1", max_steps=60)
    return task, SerialExecutor(task.spec())


@pytest.fixture(scope="module")
def dense(cartpole):
    task, ex = cartpole
    return train_dense(ex, task, HIDDEN, BUDGET, SEED, test_episodes=2)


def _mask(r):
    return np.array([c.enabled for c in r.network.genome.connections])


# ---- dense: default bit-identical, snapshots ------------------------------------------------


def test_default_init_is_the_old_cmaes_run_bit_for_bit(cartpole, dense):
    task, ex = cartpole
    g = dense.network.genome
    C = len(g.connections)
    x0 = init_weights(C, SEED)
    assert np.array_equal(dense.network.meta["init"], x0)
    # the run as the code before schemes and snapshots made it: only the late-rewind snapshot
    old_snaps = {REWIND_FRACTION: x0}
    w_old, b_old, _ = cmaes(ex, g, np.zeros(C), np.ones(C, bool), x0, BUDGET, SEED, snapshots=old_snaps)
    assert np.array_equal(dense.network.weights, w_old)
    assert np.array_equal(dense.network.meta["rewind"]["weights"], old_snaps[REWIND_FRACTION])
    assert dense.budget.episodes == b_old.episodes == BUDGET
    explicit = train_dense(ex, task, HIDDEN, BUDGET, SEED, test_episodes=2, init="default", init_seed=SEED)
    assert np.array_equal(explicit.network.weights, dense.network.weights)
    assert dense.info["init"] == "default" and dense.info["init_seed"] == SEED
    assert dense.network.meta["init_scheme"] == "default"


def test_dense_keeps_distinct_snapshots_that_survive_json(dense):
    meta = dense.network.meta
    snaps = meta["snapshots"]
    assert set(snaps) == KEYS == {snapshot_key(f) for f in (0.1, 0.25, 0.5, 1)}
    C = len(dense.network.weights)
    arrs = {k: np.asarray(v) for k, v in snaps.items()}
    assert all(a.shape == (C,) for a in arrs.values())
    assert np.array_equal(arrs["1.0"], dense.network.weights)
    seq = [np.asarray(meta["init"]), arrs["0.1"], arrs["0.25"], arrs["0.5"], arrs["1.0"]]
    for i in range(len(seq)):
        for j in range(i + 1, len(seq)):
            assert not np.allclose(seq[i], seq[j]), (i, j)
    back = WeightedNetwork.from_dict(json.loads(json.dumps(dense.network.to_dict())))
    assert back.meta["snapshots"] == snaps and back.meta["init"] == meta["init"]


def test_snapshots_that_round_to_one_episode_count_are_all_filled(cartpole):
    task, ex = cartpole
    r = train_dense(ex, task, [2], 400, 0, test_episodes=1, snapshot_fractions=(0.1, 0.101))
    snaps, init = r.network.meta["snapshots"], np.asarray(r.network.meta["init"])
    assert set(snaps) == {"0.1", "0.101", "1.0"} and snaps["0.1"] == snaps["0.101"]
    assert r.budget.episodes == 400 and not np.allclose(snaps["0.1"], init)


# ---- init schemes and replicates ------------------------------------------------------------


def test_he_and_uniform2_starts_have_their_spread(cartpole):
    task, ex = cartpole
    hidden = [64]
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs)
    bias = np.array([c.source == 0 for c in g.connections])
    into_hidden = np.array([c.destination not in g.output_ids for c in g.connections])
    default = np.asarray(train_dense(ex, task, hidden, 32, 2, test_episodes=1).network.meta["init"])
    runs = {s: train_dense(ex, task, hidden, 32, 2, test_episodes=1, init=s) for s in ("he", "uniform2")}
    he, u2 = (np.asarray(runs[s].network.meta["init"]) for s in ("he", "uniform2"))
    assert not np.allclose(he, default) and not np.allclose(u2, default)
    assert runs["he"].network.meta["init_scheme"] == "he" and runs["he"].info["init"] == "he"
    assert np.all(he[bias] == 0)
    sd1 = he[~bias & into_hidden].std()  # fan-in 4 inputs: sd sqrt(2/4)
    sd2 = he[~bias & ~into_hidden].std()  # fan-in 64 hidden units: sd sqrt(2/64)
    assert sd1 == pytest.approx(np.sqrt(2 / task.n_inputs), rel=0.25)
    assert sd2 == pytest.approx(np.sqrt(2 / 64), rel=0.35)
    assert np.abs(u2).max() <= 2 and u2.std() == pytest.approx(4 / np.sqrt(12), rel=0.15)
    assert default.std() == pytest.approx(0.1, rel=0.2)
    for r in runs.values():
        assert r.budget.episodes == 32


def test_init_seed_redraws_only_the_start(cartpole):
    task, ex = cartpole
    g = mlp_genome(task.n_inputs, [3], task.n_outputs)
    s1 = replicate_seed(SEED, 1)
    base = retrain_topology(ex, task, g, 0, SEED, test_episodes=1)
    rep = retrain_topology(ex, task, g, 0, SEED, test_episodes=1, init_seed=s1)
    C = len(g.connections)
    assert np.array_equal(base.network.weights, init_weights(C, SEED))  # budget 0: the start itself
    assert np.array_equal(rep.network.weights, init_weights(C, s1)) and rep.info["init_seed"] == s1
    he = retrain_topology(ex, task, g, 0, SEED, test_episodes=1, init="he", init_seed=s1)
    assert np.array_equal(he.network.weights, genome_init(g, "he", s1, default=None))
    trained = retrain_topology(ex, task, g, 40, SEED, test_episodes=1, init="uniform2")
    assert trained.budget.episodes == 40 and trained.info["init"] == "uniform2"


def test_random_sparse_scheme_keeps_the_mask_and_changes_the_start(cartpole):
    task, ex = cartpole
    base = random_sparse(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1)
    u2 = random_sparse(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1, init="uniform2")
    rep = random_sparse(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1, init_seed=replicate_seed(SEED, 2))
    m = _mask(base)
    assert np.array_equal(m, _mask(u2)) and np.array_equal(m, _mask(rep))
    C = len(m)
    assert np.array_equal(base.network.weights, np.where(m, init_weights(C, SEED), 0.0))
    w = u2.network.weights[m]
    assert np.abs(w).max() <= 2 and np.abs(w).mean() > 0.5
    assert not np.allclose(rep.network.weights, base.network.weights)
    trained = random_sparse(ex, task, HIDDEN, TARGET, 60, SEED, test_episodes=1, init="he")
    assert trained.budget.episodes == 60 and live_connections(trained.network.genome) == TARGET


def test_ticket_control_fresh_init_follows_the_scheme(cartpole, dense):
    task, ex = cartpole
    t = ticket(ex, task, dense, TARGET, 40, SEED, test_episodes=1)
    base = ticket_control(ex, task, dense, t, 40, SEED, test_episodes=1)
    again = ticket_control(ex, task, dense, t, 40, SEED, test_episodes=1, init="default", init_seed=SEED)
    u2 = ticket_control(ex, task, dense, t, 40, SEED, test_episodes=1, init="uniform2")
    assert np.array_equal(base.network.weights, again.network.weights)
    assert not np.allclose(base.network.weights, u2.network.weights)
    assert np.array_equal(_mask(u2), _mask(t)) and u2.info["init"] == "uniform2"
    assert u2.budget.episodes == 40


# ---- SNIP -----------------------------------------------------------------------------------


def test_snip_prunes_the_initial_net_by_sensitivity_to_exactly_target(cartpole):
    task, ex = cartpole
    r = snip(ex, task, HIDDEN, TARGET, 60, SEED, test_episodes=1)
    assert r.method == "snip" and r.info["criterion"] == "snip" and r.info["target"] == TARGET
    assert r.info["init"] == "default" and r.budget.episodes == 60
    g = r.network.genome
    assert live_connections(g) == TARGET and np.array_equal(live_mask(g), _mask(r))
    g0 = mlp_genome(task.n_inputs, HIDDEN, task.n_outputs)
    w0 = init_weights(len(g0.connections), SEED)
    expect = next_mask(task, g0, WeightedNetwork(g0, w0), live_mask(g0), TARGET, "taylor")
    assert np.array_equal(_mask(r), expect)
    rs = random_sparse(ex, task, HIDDEN, TARGET, 60, SEED, test_episodes=1)
    assert not np.array_equal(_mask(r), _mask(rs))
    start = snip(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1)  # budget 0: its start
    assert np.array_equal(start.network.weights, np.where(expect, w0, 0.0))


def test_snip_replicate_keeps_the_seeds_mask(cartpole):
    task, ex = cartpole
    base = snip(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1, init="he")
    s2 = replicate_seed(SEED, 2)
    rep = snip(ex, task, HIDDEN, TARGET, 0, SEED, test_episodes=1, init="he", init_seed=s2)
    assert np.array_equal(_mask(base), _mask(rep)) and rep.info["init_seed"] == s2
    g0 = mlp_genome(task.n_inputs, HIDDEN, task.n_outputs)
    m = _mask(rep)
    assert np.array_equal(rep.network.weights, np.where(m, genome_init(g0, "he", s2, default=None), 0.0))


# ---- one-shot pruning at a time -------------------------------------------------------------


def test_oneshot_starts_from_the_snapshot_it_names(cartpole, dense):
    task, ex = cartpole
    starts = {}
    for at in (0.1, 1.0):
        r = oneshot(ex, task, dense, TARGET, at, False, 0, SEED, test_episodes=1)
        snap = np.asarray(dense.network.meta["snapshots"][snapshot_key(at)])
        m = _mask(r)
        g0 = dense.network.genome
        expect = next_mask(task, g0, WeightedNetwork(g0, snap), live_mask(g0), TARGET, "magnitude")
        assert np.array_equal(m, expect) and live_connections(r.network.genome) == TARGET
        assert np.array_equal(r.network.weights, np.where(m, snap, 0.0))
        assert r.method == "pruned_at" and r.info["prune_at"] == at == r.info["parent_fraction"]
        assert r.info["rewind"] is False and r.info["sigma0"] == ROUND_SIGMA
        starts[at] = r.network.weights
    assert not np.allclose(starts[0.1], starts[1.0])
    at_int = oneshot(ex, task, dense, TARGET, 1, False, 0, SEED, test_episodes=1)  # key "1.0" from at=1
    assert np.array_equal(at_int.network.weights, starts[1.0])


def test_oneshot_rewind_starts_from_the_dense_init(cartpole, dense):
    task, ex = cartpole
    r = oneshot(ex, task, dense, TARGET, 0.25, True, 0, SEED, test_episodes=1)
    m = _mask(r)
    assert r.method == "pruned_at_rewind" and r.info["rewind"] is True and r.info["sigma0"] == FROM_INIT_SIGMA
    assert np.array_equal(r.network.weights, np.where(m, np.asarray(dense.network.meta["init"]), 0.0))
    fine = oneshot(ex, task, dense, TARGET, 0.25, False, 0, SEED, test_episodes=1)
    assert np.array_equal(m, _mask(fine))  # same mask, other start
    assert not np.allclose(r.network.weights, fine.network.weights)


def test_oneshot_budget_is_exact_and_training_moves_the_weights(cartpole, dense):
    task, ex = cartpole
    for rewind in (False, True):
        r = oneshot(ex, task, dense, TARGET, 0.5, rewind, 70, SEED, test_episodes=1)
        assert r.budget.episodes == 70 and live_connections(r.network.genome) == TARGET
        assert r.checkpoints and r.checkpoints[-1]["episodes"] == 70
        start = oneshot(ex, task, dense, TARGET, 0.5, rewind, 0, SEED, test_episodes=1)
        assert not np.allclose(r.network.weights, start.network.weights)


def test_oneshot_missing_fraction_names_the_ones_there(dense):
    with pytest.raises(ValueError, match=r"0\.3.*0\.1, 0\.25, 0\.5, 1\.0"):
        snapshot_weights(dense, 0.3)
    old = WeightedNetwork(dense.network.genome, dense.network.weights, {"init": dense.network.meta["init"]})
    with pytest.raises(ValueError, match="older version"):
        snapshot_weights(type(dense)(dense.method, old, dense.score, dense.budget), 0.5)


def test_oneshot_mask_uses_live_edges_only(cartpole, dense):
    task, ex = cartpole
    r = oneshot(ex, task, dense, TARGET, 0.1, False, 0, SEED, test_episodes=1)
    g0 = dense.network.genome
    m = _mask(r)
    assert np.array_equal(live_mask(with_mask(g0, m)), m)
