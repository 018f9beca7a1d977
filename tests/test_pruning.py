"""Mask machinery of the pruned counterparts: pure functions of genomes, masks and scores."""

import numpy as np
import pytest

from wann.baselines.pruning import action_from_outputs, layer_ids, normalise_per_layer, prune_to, random_mask
from wann.weighted import live_mask, mlp_genome, outputs_reachable


@pytest.fixture(scope="module")
def mlp():
    return mlp_genome(4, [5, 3], 2)


def test_layer_ids_follow_the_mlp_layers(mlp):
    ids = layer_ids(mlp)
    sizes = [5 * (4 + 1), 3 * (5 + 1), 2 * (3 + 1)]  # destination-major, bias first
    assert len(ids) == len(mlp.connections) == sum(sizes)
    blocks = np.split(ids, np.cumsum(sizes)[:-1])
    assert all(len(set(b)) == 1 for b in blocks)
    assert [b[0] for b in blocks] == sorted(b[0] for b in blocks) and len({b[0] for b in blocks}) == 3


def test_normalise_per_layer_gives_unit_norm_over_kept_scores(mlp):
    rng = np.random.default_rng(3)
    scores = rng.random(len(mlp.connections)) + 0.1
    mask = rng.random(len(scores)) < 0.7
    layers = layer_ids(mlp)
    out = normalise_per_layer(scores, layers, mask)
    for lv in np.unique(layers):
        sel = (layers == lv) & mask
        assert np.linalg.norm(out[sel]) == pytest.approx(1.0)
        assert np.array_equal(out[(layers == lv) & ~mask], scores[(layers == lv) & ~mask])
    zero = normalise_per_layer(np.zeros(len(scores)), layers, mask)
    assert not zero.any()


@pytest.mark.parametrize("target", [40, 20, 9])
def test_prune_to_hits_target_and_keeps_outputs_reachable(mlp, target):
    full = np.ones(len(mlp.connections), bool)
    for seed in range(5):
        scores = np.random.default_rng(seed).random(len(full))
        mask = prune_to(mlp, full, scores, target)
        assert mask.sum() == target
        assert outputs_reachable(mlp, mask)
        assert not (mask & ~full).any()


def test_prune_to_never_chooses_infinite_scores_and_leaves_input_untouched(mlp):
    full = np.ones(len(mlp.connections), bool)
    scores = np.random.default_rng(0).random(len(full))
    keep = np.array([c.source == 0 for c in mlp.connections])
    scores[keep] = np.inf
    before = full.copy()
    mask = prune_to(mlp, full, scores, 20)
    assert np.array_equal(full, before)
    assert mask.sum() == 20 and np.array_equal(live_mask(mlp, mask), mask)
    # a kept bias goes only with its unit (dead: no path from an input through it)
    dst = np.array([c.destination for c in mlp.connections])
    for k in np.flatnonzero(keep & ~mask):
        assert not mask[(dst == dst[k]) & ~keep].any()
    assert outputs_reachable(mlp, mask)


def test_prune_to_removes_lowest_scores_first_when_connectivity_allows():
    g = mlp_genome(3, [], 1)  # bias + 3 inputs straight into one output
    mask = prune_to(g, np.ones(4, bool), np.array([0.4, 0.1, 0.3, 0.2]), 2)
    assert mask.tolist() == [True, False, True, False]
    last = prune_to(g, np.ones(4, bool), np.array([0.0, 0.1, 0.3, 0.2]), 0)
    assert last.tolist() == [False, False, True, False]  # the output keeps its best input edge
    assert outputs_reachable(g, last) and np.array_equal(live_mask(g, last), last)


def test_random_mask_is_deterministic_per_seed(mlp):
    a, b = random_mask(mlp, 15, seed=7), random_mask(mlp, 15, seed=7)
    assert np.array_equal(a, b)
    assert a.sum() == 15 and outputs_reachable(mlp, a)
    others = [random_mask(mlp, 15, seed=s) for s in range(8, 12)]
    assert any(not np.array_equal(a, m) for m in others)
    keep = np.array([c.source == 0 for c in mlp.connections])
    k = random_mask(mlp, 15, seed=7, keep=keep)
    assert k.sum() == 15 and outputs_reachable(mlp, k) and np.array_equal(live_mask(mlp, k), k)
    dst = np.array([c.destination for c in mlp.connections])
    live_nodes = set(dst[k & ~keep].tolist())
    assert all(k[i] for i in np.flatnonzero(keep) if dst[i] in live_nodes)  # a live unit keeps its bias


def test_action_from_outputs():
    from gymnasium import spaces

    assert action_from_outputs(spaces.Discrete(3), np.array([0.1, 2.0, -1.0])) == 1
    box = spaces.Box(-1.0, 1.0, (2,), np.float32)
    a = action_from_outputs(box, np.array([3.0, -0.5]))
    assert a.dtype == np.float32 and a.tolist() == [1.0, -0.5]
