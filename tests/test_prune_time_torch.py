"""Pruning at a time in training on classification (torch): the dense parent's snapshots, SNIP at
initialisation, one-shot magnitude pruning after a fraction of training (with and without
rewind), and the init schemes / init seeds of the nets trained from a fresh init. Real torch on
the small wine task."""

import numpy as np
import pytest

from wann import activations
from wann.baselines import supervised as sv
from wann.baselines import supervised_pruning as sp
from wann.baselines.pruning import random_mask, unpack_mask
from wann.tasks import make_task
from wann.weighted import live_connections, live_mask, mlp_genome

HIDDEN = [8]
EPOCHS = 3
TARGET = 60


@pytest.fixture(scope="module")
def wine():
    return make_task("wine")


@pytest.fixture(scope="module")
def parent(wine):
    return sv.train_parent(wine, HIDDEN, EPOCHS, 0)


def _n_train(task) -> int:
    return len(task.split("train")[1])


def _mask(res) -> np.ndarray:
    return unpack_mask(res.network.meta["masks"][-1], len(res.network.weights))


def _g0(task):
    return mlp_genome(task.n_inputs, HIDDEN, task.n_outputs, activations.RELU)


def test_parent_snapshots_are_init_fractions_and_final(wine, parent):
    snaps = parent.snapshots
    assert sorted(snaps) == [0.0, 0.1, 0.25, 0.5, 1.0]
    assert np.array_equal(snaps[0.0], parent.init)
    assert np.array_equal(snaps[1.0], sv.flat_weights(parent.model, fold=False))
    ws = [snaps[f] for f in sorted(snaps)]
    assert all(w.shape == parent.init.shape for w in ws)
    assert all(not np.array_equal(a, b) for a, b in zip(ws, ws[1:]))
    # the snapshot cuts are checkpoint cuts: keeping them changes no minibatch
    plain = sv.train_parent(wine, HIDDEN, EPOCHS, 0, snapshot_fractions=())
    assert sorted(plain.snapshots) == [0.0, 1.0]
    assert np.array_equal(plain.snapshots[1.0], snaps[1.0])
    assert plain.result.score == parent.result.score and plain.result.checkpoints == parent.result.checkpoints
    # an off-checkpoint fraction is kept too
    odd = sv.train_parent(wine, HIDDEN, EPOCHS, 0, snapshot_fractions=(0.3,))
    assert sorted(odd.snapshots) == [0.0, 0.3, 1.0]
    with pytest.raises(ValueError):
        sv.train_parent(wine, HIDDEN, EPOCHS, 0, snapshot_fractions=(0.0,))


def test_train_dense_default_args_unchanged_and_init_recorded(wine):
    a, _, init_a = sv.train_dense(wine, HIDDEN, 2, 1)
    b, _, init_b = sv.train_dense(wine, HIDDEN, 2, 1, init="default", init_seed=1)
    assert a.score == b.score and np.array_equal(a.network.weights, b.network.weights)
    assert np.array_equal(init_a, init_b)
    assert a.info["init"] == "default" and a.info["init_seed"] == 1
    u, _, init_u = sv.train_dense(wine, HIDDEN, 2, 1, init="uniform2", init_seed=7)
    assert u.info["init"] == "uniform2" and u.info["init_seed"] == 7
    assert np.abs(init_u).max() <= 2.0 and not np.array_equal(init_u, init_a)
    assert u.budget.episodes == a.budget.episodes == 2 * _n_train(wine)


def test_snip_exact_target_budget_and_not_a_random_mask(wine):
    r = sp.snip(wine, HIDDEN, TARGET, EPOCHS, 0)
    g0 = _g0(wine)
    mask = _mask(r)
    assert r.method == "snip" and int(mask.sum()) == TARGET
    assert live_connections(r.network.genome) == TARGET
    assert np.array_equal(live_mask(g0, mask), mask)
    assert r.budget.episodes == EPOCHS * _n_train(wine) and r.budget.cpu_s > 0
    assert r.info["criterion"] == "snip" and r.info["target"] == TARGET and r.info["init"] == "default"
    assert r.info["budget_unit"] == "examples"
    assert [c["fraction"] for c in r.checkpoints] == [0.1, 0.25, 0.5, 1.0]
    rand = random_mask(g0, TARGET, 0, keep=np.array([c.source == 0 for c in g0.connections]))
    assert not np.array_equal(mask, rand)


def test_snip_scores_are_w_times_the_full_batch_gradient(wine):
    import torch

    x, y = wine.split("train")
    model = sv.build_mlp(wine.n_inputs, HIDDEN, wine.n_outputs, 2, x)
    s = sp.snip_scores(model, x, y)
    lin = sv.linears(model)[1]
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(torch.as_tensor(x, dtype=torch.float32)), torch.as_tensor(y)).backward()
    want = (lin.weight * lin.weight.grad).abs().detach().numpy()
    n0 = HIDDEN[0] * (wine.n_inputs + 1)
    got = s[n0:].reshape(wine.n_outputs, HIDDEN[0] + 1)[:, 1:]
    assert np.allclose(got, want, rtol=1e-6, atol=0)
    assert s.shape == (len(_g0(wine).connections),) and (s >= 0).all()


def test_snip_replicate_keeps_the_mask_and_redraws_the_weights(wine):
    base = sp.snip(wine, HIDDEN, TARGET, 0, 0)
    same = sp.snip(wine, HIDDEN, TARGET, 0, 0, init_seed=0)
    rep = sp.snip(wine, HIDDEN, TARGET, 0, 0, init_seed=12345)
    assert np.array_equal(base.network.weights, same.network.weights)
    assert np.array_equal(_mask(base), _mask(rep))
    assert not np.array_equal(base.network.weights, rep.network.weights)
    he = sp.snip(wine, HIDDEN, TARGET, 0, 0, init="he")
    assert he.info["init"] == "he" and int(_mask(he).sum()) == TARGET


def test_oneshot_uses_the_snapshot_at_the_prune_time(wine, parent):
    early = sp.oneshot(wine, HIDDEN, parent, TARGET, 0.1, False, EPOCHS, 0)
    late = sp.oneshot(wine, HIDDEN, parent, TARGET, 1.0, False, EPOCHS, 0)
    for r, at in ((early, 0.1), (late, 1.0)):
        assert r.method == "pruned_at" and live_connections(r.network.genome) == TARGET
        assert r.budget.episodes == EPOCHS * _n_train(wine)
        assert r.info["prune_at"] == at == r.info["parent_fraction"] and r.info["rewind"] is False
        assert r.info["budget_unit"] == "examples"
    assert not np.array_equal(_mask(early), _mask(late))
    g0 = _g0(wine)
    expect = sp._one_shot_mask(wine, HIDDEN, np.abs(parent.snapshots[1.0]), TARGET)
    assert np.array_equal(_mask(late), expect) and np.array_equal(live_mask(g0, expect), expect)
    with pytest.raises(ValueError, match=r"0\.1, 0\.25, 0\.5, 1"):
        sp.oneshot(wine, HIDDEN, parent, TARGET, 0.3, False, EPOCHS, 0)
    with pytest.raises(ValueError):
        sp.oneshot(wine, HIDDEN, parent, TARGET, 0.0, True, EPOCHS, 0)


def _folded(task, flat: np.ndarray, mask: np.ndarray) -> np.ndarray:
    model = sv.build_mlp(task.n_inputs, HIDDEN, task.n_outputs, 0, task.split("train")[0])
    sv.set_flat_weights(model, np.where(mask, flat, 0.0))
    return sv.flat_weights(model)


@pytest.mark.parametrize("rewind", [True, False])
def test_oneshot_starts_from_init_on_rewind_else_from_the_snapshot(wine, parent, rewind):
    r = sp.oneshot(wine, HIDDEN, parent, TARGET, 0.25, rewind, 0, 0)  # no training: the start weights
    assert r.method == ("pruned_at_rewind" if rewind else "pruned_at") and r.budget.episodes == 0
    mask = _mask(r)
    live = live_mask(r.network.genome)
    start = parent.init if rewind else parent.snapshots[0.25]
    assert np.allclose(r.network.weights[live], _folded(wine, start, mask)[live], rtol=1e-6, atol=1e-7)
    other = parent.snapshots[0.25] if rewind else parent.init
    assert not np.allclose(r.network.weights[live], _folded(wine, other, mask)[live], rtol=1e-3, atol=1e-4)
    trained = sp.oneshot(wine, HIDDEN, parent, TARGET, 0.25, rewind, 1, 0)
    assert np.array_equal(_mask(trained), mask) and trained.budget.episodes == _n_train(wine)


def test_random_sparse_init_seed_keeps_the_mask_and_default_is_unchanged(wine):
    base = sp.random_sparse(wine, HIDDEN, TARGET, 1, 2)
    same = sp.random_sparse(wine, HIDDEN, TARGET, 1, 2, init="default", init_seed=2)
    init = sv.flat_weights(sv.build_mlp(wine.n_inputs, HIDDEN, wine.n_outputs, 2), fold=False)
    g0 = _g0(wine)
    mask = random_mask(g0, TARGET, 2, keep=np.array([c.source == 0 for c in g0.connections]))
    ref = sp.retrain_masked(wine, HIDDEN, mask, init, 1, 2, "random_sparse")  # the code path before schemes
    assert np.array_equal(base.network.weights, ref.network.weights) and base.score == ref.score
    assert np.array_equal(base.network.weights, same.network.weights)
    rep = sp.random_sparse(wine, HIDDEN, TARGET, 1, 2, init_seed=99)
    u = sp.random_sparse(wine, HIDDEN, TARGET, 1, 2, init="uniform2")
    for r in (rep, u):
        assert np.array_equal(live_mask(r.network.genome), live_mask(base.network.genome))
        assert not np.array_equal(r.network.weights, base.network.weights)
        assert r.budget.episodes == _n_train(wine)
    assert u.info["init"] == "uniform2" and rep.info["init_seed"] == 99


def test_ticket_control_default_unchanged_and_init_seed_redraws(wine, parent):
    t = sp.ticket(wine, HIDDEN, parent, TARGET, 1, 0)
    base = sp.ticket_control(wine, HIDDEN, parent, t, 1, 0)
    same = sp.ticket_control(wine, HIDDEN, parent, t, 1, 0, init="default", init_seed=0)
    assert np.array_equal(base.network.weights, same.network.weights) and base.score == same.score
    rep = sp.ticket_control(wine, HIDDEN, parent, t, 1, 0, init_seed=5)
    assert np.array_equal(live_mask(rep.network.genome), live_mask(base.network.genome))
    assert not np.array_equal(rep.network.weights, base.network.weights)
    assert rep.info["init_seed"] == 5 and base.info["init"] == "default"
