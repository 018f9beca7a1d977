"""Landscape measures: profile summaries on hand cases, zeroth-order robustness on a synthetic
quadratic, filter-normalised directions, slices, the torch forward against the project's own
evaluators, SAM sharpness, exact vs power-iteration Hessian eigenvalues, and one RL smoke run."""

import json
from pathlib import Path

import numpy as np
import pytest

from wann import activations
from wann.executor import SerialExecutor
from wann.genome import Genome
from wann.measures import curvature, torch_net
from wann.measures import landscape as L
from wann.network import forward_numpy
from wann.tasks import make_task
from wann.weighted import mlp_genome, with_mask

ROOT = Path(__file__).resolve().parent.parent
DIGITS_CHAMPION = ROOT / "experiments/results/digits/champion.json"


@pytest.fixture(scope="module")
def digits():
    return make_task("digits")


class FakeTask:
    """Just enough of a classification task for `loss_fn`: a fixed synthetic split."""

    def __init__(self, n_in: int, n_classes: int, n: int = 60, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n, n_in))
        self.y = (self.x @ rng.normal(size=(n_in, n_classes))).argmax(axis=1)

    def split(self, which):
        return self.x, self.y


# ---- profile summary ----------------------------------------------------------------------------


def test_profile_summary_triangle():
    s = L.profile_summary(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), np.array([0.0, 0.0, 2.0, 0.0, 0.0]))
    assert s == pytest.approx(
        {"argmax": 0.0, "max": 2.0, "min": 0.0, "area": 2.0, "width_half": 1.0, "peak_fraction": 0.25}
    )
    assert all(type(v) is float for v in s.values())


def test_profile_summary_plateau_flat_and_offset():
    s = L.profile_summary(np.arange(5.0), np.array([0.0, 1.0, 1.0, 1.0, 0.0]))
    assert s["argmax"] == 1.0  # first of the tied maxima
    assert s["width_half"] == pytest.approx(3.0) and s["peak_fraction"] == pytest.approx(0.75)
    assert s["area"] == pytest.approx(3.0)
    flat = L.profile_summary(np.linspace(-1, 1, 5), np.full(5, 7.0))
    assert flat["width_half"] == pytest.approx(2.0) and flat["peak_fraction"] == 1.0 and flat["area"] == 0.0
    # a constant offset changes max/min but not the shape measures
    a = L.profile_summary(np.arange(5.0), np.array([1.0, 3.0, 2.0, 0.0, 1.0]))
    b = L.profile_summary(np.arange(5.0), np.array([1.0, 3.0, 2.0, 0.0, 1.0]) + 10)
    for k in ("argmax", "area", "width_half", "peak_fraction"):
        assert a[k] == pytest.approx(b[k])


def test_shared_weight_profile_rows():
    seen = []

    def score_rows(rows):
        seen.append(rows.copy())
        return rows.sum(axis=1)

    signs = np.array([1.0, -1.0, 1.0, 0.0])
    grid = np.array([-1.0, 0.5, 2.0])
    prof = L.shared_weight_profile(score_rows, signs, grid)
    assert len(seen) == 1 and seen[0].shape == (3, 4)
    np.testing.assert_allclose(seen[0], grid[:, None] * signs[None, :])
    np.testing.assert_allclose(prof, grid * 1.0)


# ---- robustness ---------------------------------------------------------------------------------


def test_robustness_quadratic_peak():
    theta = np.array([1.0, -2.0, 0.0, 0.5, 3.0])
    calls = []

    def score_rows(rows):
        calls.append(rows.copy())
        return -((rows - theta) ** 2).sum(axis=1)

    r = L.robustness(score_rows, theta, [0.0, 1e-9, 0.1, 0.5], samples=32, seed=3)
    assert len(calls) == 1 and calls[0].shape == (1 + 4 * 32, 5)
    np.testing.assert_array_equal(calls[0][0], theta)
    assert np.all(calls[0][:, 2] == 0.0)  # zero weights stay zero under relative noise
    assert r["base"] == 0.0 and r["sigma"] == [0.0, 1e-9, 0.1, 0.5]
    assert r["s"][0] == 0.0 and r["s_sd"][0] == 0.0
    assert abs(r["s"][1]) < 1e-15
    assert 0 < r["s"][2] < r["s"][3]
    # E[drop] = sigma^2 * sum(theta^2) for this quadratic
    expected = 0.5**2 * float((theta**2).sum())
    assert r["s"][3] == pytest.approx(expected, rel=0.5)
    json.dumps(r, allow_nan=False)


# ---- directions and slices ----------------------------------------------------------------------


def test_filter_normalised_direction_norms():
    g = mlp_genome(4, [5], 3)
    rng = np.random.default_rng(1)
    mask = rng.random(len(g.connections)) < 0.7
    g = with_mask(g, mask)
    w = rng.normal(size=len(g.connections))
    d = L.filter_normalised_direction(g, w, seed=5)
    assert d.shape == w.shape
    by_dst: dict[int, list[int]] = {}
    for k, c in enumerate(g.connections):
        if not c.enabled or c.source == 0:
            assert d[k] == 0.0
        else:
            by_dst.setdefault(c.destination, []).append(k)
    assert by_dst
    for idx in by_dst.values():
        assert np.linalg.norm(d[idx]) == pytest.approx(np.linalg.norm(w[idx]), rel=1e-12)
    np.testing.assert_array_equal(d, L.filter_normalised_direction(g, w, seed=5))
    assert not np.array_equal(d, L.filter_normalised_direction(g, w, seed=6))


def test_slice_at_zero_equals_base(digits):
    g = mlp_genome(64, [6], 10)
    w = np.random.default_rng(0).normal(0, 0.5, len(g.connections))
    sc = L.classify_scorer(digits, g)
    d = L.filter_normalised_direction(g, w)
    alphas = np.linspace(-1, 1, 5)
    s = L.slice_1d(sc, w, d, alphas)
    assert s[2] == sc(w[None])[0] == digits.accuracy(g, conn_weights=w, split="train")
    summ = L.slice_summary(alphas, s)
    assert summ["at_zero"] == s[2]
    assert summ["drop_half"] == pytest.approx(s[2] - 0.5 * (s[1] + s[3]))
    assert summ["drop_one"] == pytest.approx(s[2] - 0.5 * (s[0] + s[4]))


def test_slice_summary_interpolates_and_flags_short_grids():
    a = np.array([-1.0, -0.25, 0.25, 1.0])
    s = np.array([0.0, 3.0, 3.0, 0.0])
    summ = L.slice_summary(a, s)
    assert summ["at_zero"] == 3.0
    assert summ["drop_half"] == pytest.approx(3.0 - 2.0)  # interp at +-0.5: 2.0
    assert summ["drop_one"] == pytest.approx(3.0)
    short = L.slice_summary(np.array([-0.5, 0.0, 0.5]), np.array([1.0, 2.0, 1.0]))
    assert short["drop_half"] == 1.0 and short["drop_one"] is None


# ---- torch forward vs the project's evaluators ---------------------------------------------------


def test_torch_forward_matches_classify_evaluator_mlp(digits):
    g = mlp_genome(64, [16], 10)
    w = np.random.default_rng(2).normal(0, 0.4, len(g.connections))
    x, y = digits.split("test")
    lp = torch_net.torch_log_probs(g, w, x).numpy()
    ref = digits.log_probs(g, conn_weights=w, split="test")[0]
    np.testing.assert_allclose(lp, ref, atol=1e-10)
    assert float((lp.argmax(axis=1) == y).mean()) == digits.accuracy(g, conn_weights=w, split="test")
    ce = float(torch_net.loss_fn(digits, g, split="test")(w))
    assert ce == pytest.approx(-ref[np.arange(len(y)), y].mean(), rel=1e-12)


def test_torch_forward_matches_classify_evaluator_champion(digits):
    g = Genome.load(DIGITS_CHAMPION)
    x, y = digits.split("test")
    for shared in (-2.0, 1.0):
        w = np.full(len(g.connections), shared)
        lp = torch_net.torch_log_probs(g, w, x).numpy()
        ref = digits.log_probs(g, weights=np.array([shared]), split="test")[0]
        np.testing.assert_allclose(lp, ref, atol=1e-9)
        acc = float((lp.argmax(axis=1) == y).mean())
        assert acc == digits.accuracy(g, shared, split="test")
        assert acc == digits.accuracy(g, conn_weights=w, split="test")
    ll = L.classify_scorer(digits, g, split="test", metric="log_likelihood")(np.full((1, len(g.connections)), -2.0))
    assert ll[0] == pytest.approx(-digits.cross_entropy(g, [-2.0], split="test")[0], rel=1e-10)


def test_torch_forward_matches_numpy_forward_on_varied_genomes(small_genomes):
    rng = np.random.default_rng(4)
    obs = rng.normal(size=(32, 5))
    acts = set()
    for g in small_genomes:
        acts |= {n.activation for n in g.nodes}
        w = rng.normal(0, 1.0, len(g.connections))
        out = torch_net.torch_forward(g, w, obs).numpy()
        ref = forward_numpy(g, obs, np.zeros(len(obs)), np.broadcast_to(w, (len(obs), len(w))))
        np.testing.assert_allclose(out, ref, atol=1e-10)
    assert len(acts) >= 4  # the fixture mixes activations


# ---- SAM and the Hessian ------------------------------------------------------------------------


def test_sam_sharpness_sign_convention():
    torch = pytest.importorskip("torch")
    task = FakeTask(3, 3)
    g = mlp_genome(3, [], 3)  # softmax regression: the loss is convex in the weights
    w = np.random.default_rng(0).normal(size=len(g.connections))
    r = curvature.sam_sharpness(task, g, w, rho=0.05)
    assert set(r) >= {"loss", "loss_perturbed", "sharpness"}
    assert r["sharpness"] == pytest.approx(r["loss_perturbed"] - r["loss"])
    # convexity: L(w + e) >= L(w) + g.e = L(w) + rho ||g||
    assert r["sharpness"] >= 0.05 * r["grad_norm"] * (1 - 1e-9) > 0
    f = torch_net.loss_fn(task, g)
    wt = torch.tensor(w, requires_grad=True)
    (grad,) = torch.autograd.grad(f(wt), wt)
    up = float(f(torch.tensor(w) + 0.05 * grad / grad.norm()))
    assert r["loss_perturbed"] == pytest.approx(up, rel=1e-12)

    # near the minimum (a few hundred gradient steps) the sharpness is small and still >= 0
    wt = torch.tensor(w, requires_grad=True)
    opt = torch.optim.LBFGS([wt], max_iter=200)

    def closure():
        opt.zero_grad()
        loss = f(wt) + 1e-2 * (wt**2).sum()  # a little weight decay keeps the minimum finite
        loss.backward()
        return loss

    opt.step(closure)
    r2 = curvature.sam_sharpness(task, g, wt.detach().numpy(), rho=0.05)
    assert 0 <= r2["sharpness"] and r2["loss"] < r["loss"]


@pytest.mark.parametrize("measure", ["sam", "hessian"])
def test_disabled_connections_are_ignored(measure):
    task = FakeTask(3, 2, n=40, seed=1)
    g = mlp_genome(3, [4], 2)
    mask = np.ones(len(g.connections), bool)
    mask[[1, 6, 17]] = False
    g = with_mask(g, mask)
    w = np.random.default_rng(1).normal(size=len(g.connections))
    w2 = w.copy()
    w2[~mask] = 123.0  # disabled weights are ignored everywhere
    if measure == "sam":
        assert curvature.sam_sharpness(task, g, w) == pytest.approx(curvature.sam_sharpness(task, g, w2), rel=1e-12)
    else:
        top = curvature.top_hessian_eigenvalue
        assert top(task, g, w) == pytest.approx(top(task, g, w2), rel=1e-10)


@pytest.mark.parametrize("act,seed", [(activations.TANH, 0), (activations.SIN, 1), (activations.RELU, 2)])
def test_hessian_exact_and_power_iteration_agree(act, seed):
    task = FakeTask(3, 2, n=40, seed=seed)
    g = mlp_genome(3, [4], 2, hidden_act=act)
    w = np.random.default_rng(seed).normal(0, 1.0, len(g.connections))
    exact = curvature.top_hessian_eigenvalue(task, g, w)
    power = curvature.top_hessian_eigenvalue(task, g, w, max_exact=0, iters=2000, tol=1e-12, seed=seed)
    assert np.isfinite(exact)
    assert power == pytest.approx(exact, rel=1e-3, abs=1e-9)


def test_landscape_classify_small():
    task = make_task("wine")
    g = mlp_genome(13, [4], 3)
    w = np.random.default_rng(0).normal(0, 0.5, len(g.connections))
    w[3] = 0.0
    sc = L.classify_scorer(task, g)
    r = L.landscape("classify", sc, g, w, task=task, sigmas=(0.1, 0.3), samples=4, grid=np.linspace(-2, 2, 9))
    json.dumps(r, allow_nan=False)
    assert len(r["profile"]["scores"]) == 9 and len(r["slice"]["scores"]) == 21
    assert r["slice"]["summary"]["at_zero"] == r["robustness"]["base"] == sc(w[None])[0]
    signs = np.where(w < 0, -1.0, 1.0)  # sign 0 -> +1
    assert r["profile"]["scores"][-1] == sc((2.0 * signs)[None])[0]
    assert {"loss", "sharpness"} <= set(r["sam"]) and np.isfinite(r["hessian_top"])
    with pytest.raises(ValueError, match="needs the task"):
        L.landscape("classify", sc, g, w)


def test_landscape_rl_smoke():
    ex = SerialExecutor({"name": "wann/CartPoleSwingUp-v0", "max_steps": 200})
    g = mlp_genome(5, [3], 1)
    w = np.random.default_rng(0).normal(0, 0.5, len(g.connections))
    sc = L.rl_scorer(ex, g, [0, 1, 2])
    same = sc(np.stack([w, w]))
    assert same[0] == same[1]  # common random numbers
    r = L.landscape("rl", sc, g, w)
    json.dumps(r, allow_nan=False)
    assert len(r["profile"]["grid"]) == 61 and len(r["profile"]["scores"]) == 61
    assert len(r["robustness"]["s"]) == 4 and len(r["slice"]["scores"]) == 21
    assert r["slice"]["summary"]["at_zero"] == r["robustness"]["base"] == same[0]
    assert "sam" not in r and "hessian_top" not in r
    s = r["profile"]["summary"]
    assert s["min"] <= s["max"] and -3.0 <= s["argmax"] <= 3.0


def test_power_iteration_finds_the_top_when_a_negative_eigenvalue_dominates():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    H = torch.tensor(q @ np.diag([-5.0, -1.0, 0.2, 0.5, 1.0, 2.0]) @ q.T)
    top = curvature._top_eigenvalue_power(torch, lambda u: H @ u, 6, 500, 0, 1e-13)
    assert top == pytest.approx(2.0, rel=1e-6)
