"""Init schemes and replicate seeds (`wann.baselines.inits`), and the torch MLP / genome inits
that use them: real torch, statistics on big layers, default bit-identical to the code before."""

import numpy as np
import pytest
import torch

from wann.baselines import genome_adam as ga
from wann.baselines import inits
from wann.baselines import supervised as sv
from wann.errors import ConfigError
from wann.genome import BIAS, HIDDEN, INPUT, OUTPUT, Connection, Genome, Node
from wann.weighted import mlp_genome


def test_check_scheme_accepts_the_schemes_and_suggests_the_closest():
    assert inits.SCHEMES == ("default", "he", "uniform2")
    for s in inits.SCHEMES:
        assert inits.check_scheme(s) == s
    with pytest.raises(ConfigError) as e:
        inits.check_scheme("unifrom2", field="study.inits")
    assert e.value.field == "study.inits"
    msg = str(e.value)
    assert "unknown init scheme 'unifrom2'" in msg and "default, he, uniform2" in msg
    assert "did you mean 'uniform2'" in msg
    with pytest.raises(ConfigError, match="unknown init scheme 'xavier'"):
        inits.check_scheme("xavier")


def test_replicate_seed_rep0_is_the_seed_and_reps_are_distinct_and_deterministic():
    for seed in (0, 1, 7, 12345):
        assert inits.replicate_seed(seed, 0) == seed
        reps = [inits.replicate_seed(seed, r) for r in range(1, 20)]
        assert len(set(reps)) == len(reps) and seed not in reps
        assert all(isinstance(r, int) and 0 <= r < 2**32 for r in reps)
        assert reps == [inits.replicate_seed(seed, r) for r in range(1, 20)]
    assert inits.replicate_seed(0, 1) != inits.replicate_seed(1, 1)
    with pytest.raises(ValueError):
        inits.replicate_seed(0, -1)


def _genome_with_disabled() -> Genome:
    """2 inputs, 1 hidden, 1 output; one disabled input->output edge."""
    nodes = (Node(0, BIAS), Node(1, INPUT), Node(2, INPUT), Node(3, OUTPUT), Node(4, HIDDEN))
    edges = [(1, 4, True), (2, 4, True), (0, 4, True), (4, 3, True), (1, 3, False), (0, 3, True)]
    return Genome(2, 1, nodes, tuple(Connection(s, d, e) for s, d, e in edges)).validate()


def test_genome_init_default_returns_the_callers_rule_unchanged():
    g = mlp_genome(5, [4], 3)
    ref = ga.init_weights(g, 9)
    out = inits.genome_init(g, "default", 123, default=lambda: ga.init_weights(g, 9))
    assert np.array_equal(out, ref)
    with pytest.raises(ConfigError):
        inits.genome_init(g, "bogus", 0, default=lambda: ref)


def test_genome_init_he_has_sd_sqrt_2_over_fan_in_and_zero_biases():
    g = mlp_genome(400, [], 60)  # every output has fan-in 400
    w = inits.genome_init(g, "he", 3, default=None)
    bias = np.array([c.source == 0 for c in g.connections])
    assert w.shape == (len(g.connections),)
    assert not w[bias].any()
    assert np.std(w[~bias]) == pytest.approx(np.sqrt(2 / 400), rel=0.03)
    assert abs(np.mean(w[~bias])) < 0.005
    assert np.array_equal(w, inits.genome_init(g, "he", 3, default=None))  # numpy default_rng(seed)
    assert not np.array_equal(w, inits.genome_init(g, "he", 4, default=None))


def test_genome_init_fan_in_counts_enabled_non_bias_edges_and_disabled_edges_are_zero():
    g = _genome_with_disabled()
    assert inits.fan_in(g).tolist() == [2, 2, 2, 1, 1, 1]  # (1,3) disabled: output fan-in 1
    for scheme in ("he", "uniform2"):
        w = inits.genome_init(g, scheme, 0, default=None)
        assert w[4] == 0.0 and (w[[0, 1, 3]] != 0).all()
    assert inits.genome_init(g, "he", 0, default=None)[[2, 5]].tolist() == [0.0, 0.0]
    assert (inits.genome_init(g, "uniform2", 0, default=None)[[2, 5]] != 0).all()  # biases drawn too
    # a node with no enabled non-bias input: n = 0 taken as 1
    lone = Genome(
        1, 1, (Node(0, BIAS), Node(1, INPUT), Node(2, OUTPUT)), (Connection(1, 2, False), Connection(0, 2))
    ).validate()
    assert inits.fan_in(lone).tolist() == [0, 0]


def test_genome_init_uniform2_bounds_and_spread():
    g = mlp_genome(300, [], 40)
    w = inits.genome_init(g, "uniform2", 5, default=None)
    assert np.abs(w).max() <= 2.0 and np.abs(w).max() > 1.99
    assert np.var(w) == pytest.approx(4 / 3, rel=0.03)  # U(-2, 2): variance 16/12
    bias = np.array([c.source == 0 for c in g.connections])
    assert np.var(w[bias]) > 0.5


def test_build_mlp_default_is_torchs_own_init_under_the_seed():
    torch.manual_seed(11)
    ref = [torch.nn.Linear(13, 7), torch.nn.Linear(7, 3)]
    model = sv.build_mlp(13, [7], 3, 11)
    for a, b in zip(ref, sv.linears(model)):
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    same = sv.build_mlp(13, [7], 3, 11, init="default", init_seed=11)
    assert np.array_equal(sv.flat_weights(model, fold=False), sv.flat_weights(same, fold=False))
    other = sv.build_mlp(13, [7], 3, 11, init_seed=12)
    assert not np.array_equal(sv.flat_weights(model, fold=False), sv.flat_weights(other, fold=False))
    torch.manual_seed(12)
    assert torch.equal(torch.nn.Linear(13, 7).weight, sv.linears(other)[0].weight)


def test_build_mlp_he_and_uniform2_statistics():
    he = sv.build_mlp(500, [400], 3, 0, init="he")
    lin = sv.linears(he)
    assert lin[0].weight.std().item() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert lin[1].weight.std().item() == pytest.approx(np.sqrt(2 / 400), rel=0.1)
    assert all(not m.bias.any() for m in lin)
    u = sv.build_mlp(500, [400], 3, 0, init="uniform2")
    w, b = sv.linears(u)[0].weight, sv.linears(u)[0].bias
    assert w.abs().max().item() <= 2.0 and w.var().item() == pytest.approx(4 / 3, rel=0.02)
    assert b.abs().max().item() <= 2.0 and b.var().item() > 0.9
    # drawn from init_seed (None -> seed), independent of torch's global RNG state
    a = sv.flat_weights(sv.build_mlp(20, [10], 3, 4, init="uniform2"), fold=False)
    torch.manual_seed(999)
    assert np.array_equal(a, sv.flat_weights(sv.build_mlp(20, [10], 3, 4, init="uniform2", init_seed=4), fold=False))
    c = sv.flat_weights(sv.build_mlp(20, [10], 3, 4, init="uniform2", init_seed=5), fold=False)
    assert not np.array_equal(a, c)
    with pytest.raises(ConfigError):
        sv.build_mlp(20, [10], 3, 4, init="he2")


def test_retrain_topology_adam_init_schemes_and_default_unchanged():
    from wann.tasks import make_task

    wine = make_task("wine")
    g = mlp_genome(wine.n_inputs, [4], wine.n_outputs)
    base = ga.retrain_topology_adam(wine, g, 1, 3)
    same = ga.retrain_topology_adam(wine, g, 1, 3, init="default", init_seed=3)
    ref = ga.train_genome(wine, g, ga.init_weights(g, 3), 1, 3, "wann_retrained")  # the code path before schemes
    assert np.array_equal(base.network.weights, ref.network.weights)
    assert np.array_equal(base.network.weights, same.network.weights)
    assert base.score == ref.score and base.info["init"] == "default" and base.info["init_seed"] == 3
    he = ga.retrain_topology_adam(wine, g, 1, 3, init="he", init_seed=inits.replicate_seed(3, 1))
    assert he.info["init"] == "he" and he.info["init_seed"] == inits.replicate_seed(3, 1)
    assert not np.array_equal(he.network.weights, base.network.weights)
    assert he.budget.episodes == base.budget.episodes == len(wine.split("train")[1])
