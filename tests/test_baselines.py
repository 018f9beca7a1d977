"""Counterparts on tiny budgets: every method runs, pruned nets hit their target count with every
output connected, conversions compute the same function."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wann.baselines import run_method
from wann.baselines.methods import ASSESSED, REGISTRY, SELECTABLE, selectable_for
from wann.baselines.pruning import prune_to, random_mask
from wann.baselines.rl import small_dense_width
from wann.errors import ConfigError
from wann.executor import SerialExecutor
from wann.genome import Genome
from wann.network import compile_genomes, edge_weights_from_connections, forward
from wann.tasks import make_task
from wann.weighted import WeightedNetwork, mlp_genome, outputs_reachable, structure_counts

ROOT = Path(__file__).resolve().parent.parent
CHAMPION = ROOT / "experiments/results/swingup-paper/champion.json"


@pytest.fixture(scope="module")
def swingup():
    return make_task("wann/CartPoleSwingUp-v0", max_steps=200), SerialExecutor(
        {"name": "wann/CartPoleSwingUp-v0", "max_steps": 200}
    )


@pytest.mark.parametrize("method", selectable_for("rl"))
def test_every_rl_method_on_a_tiny_budget(method, swingup):
    task, ex = swingup
    champ = Genome.load(CHAMPION)
    at = 0.5 if REGISTRY[method].timed else None  # pruned after half the parent's training
    results = run_method(method, task, ex, budget=256, seed=1, champion=champ, test_episodes=5, at=at)
    r = results[0]
    assert r.method.startswith(method.split("_")[0]) or r.method == method
    assert np.isfinite(r.score["mean"]) and r.score["n"] == 5
    if REGISTRY[method].role != ASSESSED or method == "wann_best_shared":  # grid search on training episodes
        assert r.budget.episodes > 0 and r.budget.env_steps > 0
    assert outputs_reachable(r.network.genome)
    if REGISTRY[method].sized and method != "small_dense":
        assert r.network.connections == champ.n_connections == int(r.network.mask.sum())  # all live
    s = r.summary()
    assert {"connections", "hidden_nodes", "inputs_used", "flops_per_step", "budget"} <= set(s)


def test_pruning_hits_target_and_keeps_outputs_connected():
    g = mlp_genome(6, [8, 8], 3)
    rng = np.random.default_rng(0)
    for target in (60, 25, 12):
        mask = prune_to(g, np.ones(len(g.connections), bool), rng.random(len(g.connections)), target)
        assert mask.sum() == target
        assert outputs_reachable(g, mask)
        m2 = random_mask(g, target, seed=target)
        assert m2.sum() == target and outputs_reachable(g, m2)


def test_small_dense_width_matches_count():
    h = small_dense_width(5, 1, 47)
    assert abs(h * 6 + (h + 1) - 47) <= 7
    assert len(mlp_genome(5, [h], 1).connections) == h * 6 + h + 1


def test_mlp_genome_weight_order_matches_matrices():
    rng = np.random.default_rng(1)
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    flat = np.concatenate([np.c_[b1, W1].ravel(), np.c_[b2, W2].ravel()])
    g = mlp_genome(3, [4], 2)
    x = rng.normal(size=(7, 3))
    b = compile_genomes([g])
    ours = forward(b, np.zeros(7, np.int64), x, 0.0, np.repeat(edge_weights_from_connections(b, 0, flat[None]), 7, 0))
    ref = np.tanh(x @ W1.T + b1) @ W2.T + b2
    assert np.allclose(ours, ref, atol=1e-12)


def test_neat_conversion_is_exact():
    import neat

    from wann.baselines.neat_baseline import convert, neat_config

    cfg = neat_config(5, 1, 20)
    pop = neat.Population(cfg)
    rng = np.random.default_rng(3)
    for ng in list(pop.population.values())[:10]:
        for _ in range(5):
            ng.mutate(cfg.genome_config)
        net = neat.nn.FeedForwardNetwork.create(ng, cfg)
        ours = convert(ng, 5, 1)
        b = compile_genomes([ours.genome])
        x = rng.normal(size=(6, 5))
        ew = np.repeat(edge_weights_from_connections(b, 0, ours.weights[None]), 6, 0)
        got = forward(b, np.zeros(6, np.int64), x, 0.0, ew)[:, 0]
        want = np.array([net.activate(list(row))[0] for row in x])
        assert np.allclose(got, want, atol=1e-9)


def test_weighted_network_json_round_trip(tmp_path):
    g = mlp_genome(2, [3], 1)
    n = WeightedNetwork(g, np.arange(len(g.connections), dtype=float), {"method": "x"})
    n.save(tmp_path / "n.json")
    m = WeightedNetwork.load(tmp_path / "n.json")
    assert m.genome == g and np.array_equal(m.weights, n.weights) and m.meta == {"method": "x"}
    assert structure_counts(g) == {"connections": 13, "hidden_nodes": 3, "inputs_used": 2}


def test_digits_counterparts_small():
    task = make_task("digits")
    results = run_method("lottery_ticket", task, None, budget=3, seed=0, target=900)
    ticket, dense = results
    assert ticket.network.connections == 900 == int(ticket.network.mask.sum())
    assert outputs_reachable(ticket.network.genome)
    assert dense.score["accuracy"] > 0.8
    assert 0.0 <= ticket.score["accuracy"] <= 1.0
    rs = run_method("random_sparse", task, None, budget=2, seed=0, target=900)[0]
    assert rs.network.connections == 900


def test_converted_network_scores_what_torch_scores():
    """The trained torch net, converted to a genome with weights, gives the same test-split
    predictions in our evaluator as in torch (float32 torch vs float64 evaluator: argmax ties
    aside, identical)."""
    import torch

    from wann.baselines import supervised as sv

    task = make_task("wine")
    result, model, _ = sv.train_dense(task, [8], 3, 0)
    x, y = task.split("test")
    with torch.no_grad():
        pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    assert result.score["accuracy"] == pytest.approx(float((pred == y).mean()), abs=1.0 / len(y))


def test_bad_method_and_missing_champion():
    task = make_task("wann/CartPoleSwingUp-v0")
    with pytest.raises(ConfigError, match="unknown method 'dens'.*Did you mean 'dense'"):
        run_method("dens", task, None, 10, 0)
    with pytest.raises(ConfigError, match="--champion"):
        run_method("wann_tuned", task, None, 10, 0)
    with pytest.raises(ConfigError, match="--target"):
        run_method("pruned_magnitude", task, None, 10, 0)


def test_train_cli_writes_result(tmp_path):
    out = tmp_path / "t"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "wann.cli",
            "train",
            "small_dense",
            "--champion",
            str(CHAMPION),
            "--budget",
            "256",
            "--episodes",
            "5",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "result.json").read_text())
    assert res["method"] == "small_dense" and res["results"][0]["budget"]["episodes"] > 0
    WeightedNetwork.load(out / "small_dense.json")


# ---- the registry ---------------------------------------------------------------------------


def test_registry_is_complete_and_consistent():
    from wann.baselines.recipes import RECIPES

    assert set(RECIPES) == set(SELECTABLE), "every selectable method has exactly one recipe"
    for m in REGISTRY.values():
        assert m.parent is None or m.parent in REGISTRY, m.name
        assert m.label and m.color.startswith("#") and m.kinds
    assert len({m.label for m in REGISTRY.values()}) == len(REGISTRY)


def test_train_and_compare_accept_exactly_the_same_names(tmp_path):
    from test_compare import write_study

    from wann.baselines import check_method
    from wann.cli import build_parser
    from wann.study.spec import load_study

    swing, wine = make_task("swingup"), make_task("wine")
    champ = {"rl": Genome.load(CHAMPION), "classify": Genome.load(ROOT / "experiments/results/wine/champion.json")}
    for name in SELECTABLE:
        kind = "rl" if REGISTRY[name].supports("rl") else "classify"
        at = 0.5 if REGISTRY[name].timed else None
        check_method(name, swing if kind == "rl" else wine, champ[kind], None, at=at)  # wann train
        load_study(write_study(tmp_path, methods=f'["{name}"]'))  # wann compare
    for bad in ("dense_large", "pruned_shared_signed", "wann_six_values", "prune_magnitude"):
        with pytest.raises(ConfigError) as e_train:
            check_method(bad, swing, champ["rl"], None)
        with pytest.raises(ConfigError) as e_study:
            load_study(write_study(tmp_path, methods=f'["{bad}"]'))
        assert (
            e_train.value.message.split(" Known:")[0].split(".")[1:]
            == e_study.value.message.split(" Known:")[0].split(".")[1:]
        )
    help_text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert all(name in help_text for name in SELECTABLE) and "dense_large" not in help_text
