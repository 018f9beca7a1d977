"""Adam on any genome (`wann.baselines.genome_adam`): the trained weights score the same under the
torch forward pass and the project's evaluator, the recipe is the dense nets' own (same
trajectory as `supervised.train` on the same MLP), the init rule is `nn.Linear`'s, the start of
tuning is the assessment's best shared weight, and the classification recipes use it."""

from pathlib import Path

import numpy as np
import pytest

from wann import activations
from wann.baselines import genome_adam as ga
from wann.baselines import supervised as sv
from wann.baselines.common import CHECKPOINTS, Budget
from wann.genome import Genome
from wann.measures import torch_net
from wann.tasks import make_task
from wann.weighted import mlp_genome, with_mask

ROOT = Path(__file__).resolve().parent.parent
WINE_CHAMPION = ROOT / "experiments/results/wine/champion.json"


@pytest.fixture(scope="module")
def wine():
    return make_task("wine")


@pytest.fixture(scope="module")
def champion():
    return Genome.load(WINE_CHAMPION)


@pytest.mark.parametrize("entry", ["tune", "retrain"])
def test_trained_weights_torch_forward_equals_evaluator(wine, champion, entry):
    fn = ga.tune_wann_adam if entry == "tune" else ga.retrain_topology_adam
    r = fn(wine, champion, 10, 3)
    assert r.method == ("wann_tuned" if entry == "tune" else "wann_retrained")
    w = r.network.weights
    assert r.network.genome is champion and w.shape == (len(champion.connections),)
    x, y = wine.split("test")
    lp = torch_net.torch_log_probs(champion, w, x).numpy()
    ref = wine.log_probs(champion, conn_weights=w, split="test")[0]
    np.testing.assert_allclose(lp, ref, atol=1e-9)
    acc = float((lp.argmax(axis=1) == y).mean())
    assert acc == wine.accuracy(champion, conn_weights=w, split="test") == r.score["accuracy"]
    # the dense nets' checkpoints and budget accounting: exactly epochs x n_train examples
    n = 10 * len(wine.split("train")[1])
    assert [c["fraction"] for c in r.checkpoints] == list(CHECKPOINTS)
    assert [c["episodes"] for c in r.checkpoints] == [round(f * n) for f in CHECKPOINTS]
    assert r.checkpoints[-1]["accuracy"] == r.score["accuracy"]
    assert r.budget.episodes == n and r.budget.cpu_s > 0 and r.info["budget_unit"] == "examples"
    if entry == "tune":
        assert r.info["selection_examples"] > 0


def test_same_recipe_as_the_dense_nets(wine):
    """The same MLP trained by `supervised.train` (float32 torch MLP) and as a genome (float64
    torch_net) from the same weights follows the same trajectory: same optimiser, learning rate,
    batches, loss and seed handling."""
    hidden, epochs, seed = [6], 3, 7
    model = sv.build_mlp(wine.n_inputs, hidden, wine.n_outputs, seed)  # identity standardisation
    w0 = sv.flat_weights(model, fold=False)
    x, y = wine.split("train")
    b_dense = Budget()
    cuts, _ = sv._checkpointing(wine, model, epochs * len(x), 0, len(x), [])  # the dense nets' trimmed batches
    sv.train_examples(model, x, y, epochs * len(x), seed, b_dense, cuts=cuts)
    g = mlp_genome(wine.n_inputs, hidden, wine.n_outputs, activations.RELU, activations.LINEAR)
    r = ga.train_genome(wine, g, w0, epochs, seed, "check")
    moved = np.abs(sv.flat_weights(model, fold=False) - w0).max()
    assert moved > 1e-3
    np.testing.assert_allclose(r.network.weights, sv.flat_weights(model, fold=False), atol=2e-5)
    assert r.budget.episodes == b_dense.episodes


def test_init_rule_is_nn_linear_default():
    g = mlp_genome(13, [6], 3, activations.RELU, activations.LINEAR)
    w = ga.init_weights(g, 0)
    first, second = w[: 6 * 14].reshape(6, 14), w[6 * 14 :].reshape(3, 7)
    for block, fan_in in ((first, 13), (second, 6)):
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(block).max() <= bound and np.abs(block).max() > 0.6 * bound
    np.testing.assert_array_equal(w, ga.init_weights(g, 0))
    assert not np.array_equal(w, ga.init_weights(g, 1))
    mask = np.ones(len(g.connections), bool)
    mask[[1, 2, 3]] = False  # three inputs of hidden node 1 disabled: its fan-in is 10
    wm = ga.init_weights(with_mask(g, mask), 0)
    assert np.all(wm[[1, 2, 3]] == 0.0)
    assert np.abs(wm[[0, *range(4, 14)]]).max() <= 1 / np.sqrt(10)


def test_tuning_starts_at_the_assessments_best_shared_weight(wine, champion):
    from wann.measures.assess import assess

    w, examples = ga.best_shared_weight(wine, champion)
    assert w == assess(champion, None, episodes=4).best_shared["weight"]
    assert examples > 0
    r = ga.tune_wann_adam(wine, champion, 1, 0)
    assert r.info["from_shared"] == w == r.network.meta["from_shared"]


def test_classification_recipes_use_adam(wine, champion):
    from wann.baselines import recipes

    ctx = recipes.Context(wine, executor=None, seed=0, budget=10**9, epochs=2, champion=champion)
    for name in ("wann_tuned", "wann_retrained"):
        (r,) = recipes.run(name, ctx)
        assert r.method == name and r.info["optimiser"] == "adam" and r.info["epochs"] == 2
        assert r.budget.episodes == 2 * len(wine.split("train")[1])
        assert r.info["cost"]["unit"] == "examples" and r.info["cost"]["total"]["episodes"] == r.budget.episodes


# ---- NEAT: where it is a baseline ---------------------------------------------------------------


def test_neat_supported_rule(wine):
    from wann.baselines.neat_baseline import generations_for, neat_supported

    ok, why = neat_supported(make_task("digits"), 10**6)
    assert not ok and "640 direct connections" in why
    assert neat_supported(wine, 960) == (True, "15 generations of 64 (at least 15 needed on a classify task)")
    ok, why = neat_supported(wine, 959)
    assert not ok and "14 NEAT generation(s)" in why and "960 episodes" in why
    cartpole = make_task("CartPole-v1")
    assert generations_for(cartpole, 2000) == 7 and neat_supported(cartpole, 2000)[0]
    assert not neat_supported(cartpole, 1279)[0]


def test_neat_on_wine_has_checkpoints_and_one_episode_per_genome(wine):
    from wann.baselines.neat_baseline import train_neat
    from wann.executor import SerialExecutor

    ex = SerialExecutor(wine.spec())
    r = train_neat(ex, ex.task, 640, 0)
    assert r.info["generations"] == 10 and r.info["episodes_per_genome"] == 1
    assert r.budget.episodes == 640 and r.info["supported"] is False
    assert [c["fraction"] for c in r.checkpoints] == [0.1, 0.25, 0.5, 1.0]
    assert [c["episodes"] for c in r.checkpoints] == [64, 192, 320, 640]
    assert 0.0 <= r.score["accuracy"] <= 1.0
