import json
import math
import pickle
import tomllib
from pathlib import Path

import numpy as np
import pytest
from helpers import genome_from_edges, mutated_population

from wann import activations
from wann.errors import ConfigError
from wann.evaluate import evaluate
from wann.measures.assess import assess, format_assessment
from wann.network import compile_genomes, forward_numpy
from wann.search.experiment import experiment_from_dict, load_experiment
from wann.tasks import make_task, task_from_spec
from wann.tasks.classify import ClassifyTask, load, make_classify_task, stratified_split

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]


def _genome(n_in, n_out, edges, acts=None):
    return genome_from_edges(n_in, n_out, edges, acts)


def _population(task, n, seed=0):
    return mutated_population(task, n, seed, 0.3, lambda k: 2 * k)


def test_names_and_shapes():
    d = make_task("digits")
    assert isinstance(d, ClassifyTask) and d.kind == "classify"
    assert (d.n_inputs, d.n_outputs, d.batch_size) == (64, 10, 1000)
    assert activations.STEP not in d.hidden_activations and set(d.hidden_activations) == set(activations.NO_STEP)
    assert d.x_train.min() >= 0 and d.x_train.max() <= 1  # pixel / 16
    for name, n_in, n_out in [("wine", 13, 3), ("breast_cancer", 30, 2), ("iris", 4, 3)]:
        t = make_task(name)
        assert (t.n_inputs, t.n_outputs) == (n_in, n_out)
        assert t.batch_size == len(t.y_train) < 1000  # the whole training split when smaller
        assert np.allclose(t.x_train.mean(0), 0, atol=1e-9) and np.allclose(t.x_train.std(0), 1)
        X, _, _ = load(name)  # the test split is scaled with the training split's statistics
        mu, sd = X[t.train_idx].mean(0), X[t.train_idx].std(0)
        assert np.allclose(t.x_test, (X[t.test_idx] - mu) / sd)
    assert make_task("wine").spec() == {"name": "wine", "test_fraction": 0.3, "split_seed": 0, "batch_size": 125}
    assert task_from_spec(make_task("iris", split_seed=3).spec()).split_seed == 3


def test_unknown_dataset_and_bad_options():
    with pytest.raises(ConfigError) as e:
        make_classify_task("mnist")
    assert e.value.field == "task.name"
    assert all(n in e.value.message for n in ("digits", "wine", "breast_cancer", "iris"))
    with pytest.raises(ConfigError, match="'digits'"):
        make_task("digit")  # did you mean
    with pytest.raises(ConfigError, match="test_fraction"):
        make_task("iris", test_fraction=1.5)
    with pytest.raises(ConfigError, match="batch_size"):
        make_task("iris", batch_size=10_000)
    with pytest.raises(ConfigError, match="split_seed"):
        make_task("iris", split_seed=-1)
    with pytest.raises(ConfigError):
        make_task("iris", no_such_option=1)


def test_stratified_split_keeps_proportions_and_never_overlaps():
    _, y, _ = load("digits")
    train, test = stratified_split(y, 0.3, 0)
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(y)))
    for c in np.unique(y):
        n_c = (y == c).sum()
        assert (y[test] == c).sum() == round(0.3 * n_c)
        assert abs((y[test] == c).mean() - (y == c).mean()) < 0.01
    again = stratified_split(y, 0.3, 0)
    assert np.array_equal(again[1], test)  # deterministic
    assert not np.array_equal(stratified_split(y, 0.3, 1)[1], test)  # the seed matters
    t = make_task("digits")
    assert len(np.intersect1d(t.train_idx, t.test_idx)) == 0 and len(t.y_test) == len(test)


def test_minibatches_are_common_random_numbers():
    t = make_task("digits", batch_size=100)
    a = t.batch_indices(5)
    assert len(a) == 100 == len(np.unique(a)) and a.max() < len(t.y_train)
    assert np.array_equal(a, t.batch_indices(5)) and not np.array_equal(a, t.batch_indices(6))
    full = make_task("iris")
    assert np.array_equal(full.batch_indices(1), np.arange(len(full.y_train)))


def test_fitness_is_minus_hand_computed_cross_entropy():
    t = make_task("iris", batch_size=20)
    # logits (w * x1, w * x2, w * 1): input 1 -> output 0, input 2 -> output 1, bias -> output 2
    g = _genome(4, 3, [(1, 5), (2, 6), (0, 7)])
    b = compile_genomes([g])
    seeds = np.array([3, 3, 9])
    weights = np.array([0.5, -2.0, 1.0])
    ret, steps = t.run_episodes(b, np.zeros(3, np.int64), weights, seeds)
    assert steps.tolist() == [20, 20, 20]
    for r in range(3):
        ce = 0.0
        for i in t.batch_indices(seeds[r]):
            x, y = t.x_train[i], t.y_train[i]
            z = [weights[r] * x[0], weights[r] * x[1], weights[r] * 1.0]
            ce += math.log(sum(math.exp(v) for v in z)) - z[y]
        assert ret[r] == pytest.approx(-ce / 20, rel=1e-12)


def test_fitness_does_not_depend_on_the_batch():
    t = make_task("wine", batch_size=64)
    gs = _population(t, 6)
    whole = evaluate(t, gs, WEIGHTS, [4, 5])
    assert whole.rewards.shape == (6, 6, 2) and (whole.rewards < 0).all() and (whole.steps == 64).all()
    for k in (0, 4):
        assert np.array_equal(evaluate(t, [gs[k]], WEIGHTS, [4, 5]).rewards[0], whole.rewards[k])
    clone = pickle.loads(pickle.dumps(t))
    assert np.array_equal(evaluate(clone, gs, WEIGHTS, [4, 5]).rewards, whole.rewards)


def test_accuracy_and_ensemble_by_hand():
    t = make_task("wine")
    g = _population(t, 4, seed=3)[3]
    ws = np.array([-1.0, 0.5, 2.0])
    outs = [forward_numpy(g, t.x_test, np.full(len(t.y_test), w)) for w in ws]
    probs = [
        np.exp(o - o.max(1, keepdims=True)) / np.exp(o - o.max(1, keepdims=True)).sum(1, keepdims=True) for o in outs
    ]
    accs = [(p.argmax(1) == t.y_test).mean() for p in probs]
    assert np.allclose(t.accuracy(g, ws), accs)
    assert t.accuracy(g, 0.5) == pytest.approx(accs[1])
    ens = (np.mean(probs, axis=0).argmax(1) == t.y_test).mean()
    assert t.ensemble_accuracy(g, ws) == pytest.approx(ens)
    # individual weights all equal to w give the shared-weight accuracy
    cw = np.full(len(g.connections), 0.5)
    assert t.accuracy(g, conn_weights=cw) == pytest.approx(accs[1])
    assert t.accuracy(g, conn_weights=np.stack([cw, 2 * cw]), split="train").shape == (2,)


def test_assess_reports_accuracies(tmp_path):
    t = make_task("wine")
    g = _population(t, 6, seed=5)[5].with_meta(task=t.spec(), shared_weights=WEIGHTS)
    r = assess(g, episodes=20, seed=3).to_dict()
    assert r["metric"] == "accuracy" and r["task"] == t.spec()
    assert len(r["search_values"]) == 6 and all(0 <= v["mean"] <= 1 for v in r["search_values"])
    assert r["search_values_mean"] == pytest.approx(np.mean([v["mean"] for v in r["search_values"]]))
    assert r["ensemble_accuracy"] == pytest.approx(t.ensemble_accuracy(g, WEIGHTS))
    for k in ("random_shared", "random_individual"):
        assert set(r[k]) == {"mean", "sd"} and 0 <= r[k]["mean"] <= 1
    # the best shared weight is the best on the training split, scored on the test split
    prof = r["weight_profile"]
    best = r["best_shared"]
    assert best["selection_mean"] == max(prof["train_accuracy"])
    assert best["mean"] == pytest.approx(t.accuracy(g, best["weight"]))
    assert "%" in format_assessment(r)
    assert json.loads(json.dumps(r)) == r


CLASSIFY_FILES = ["digits", "wine"]


@pytest.mark.parametrize("name", CLASSIFY_FILES)
def test_experiment_file_runs_two_generations_and_evaluates(name, tmp_path, capsys):
    from wann.cli import main

    src = ROOT / "experiments" / f"{name}.toml"
    exp = load_experiment(src)
    assert exp.execution.executor == "ray" and "minutes" in src.read_text()
    assert activations.STEP not in exp.variation.activations
    data = tomllib.loads(src.read_text())
    data["search"]["population"] = 16
    path = tmp_path / f"{name}.toml"
    path.write_text(experiment_from_dict(data).to_toml())
    out = tmp_path / "run"
    rc = main(["search", str(path), "--generations", "2", "--executor", "serial", "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert len((out / "metrics.csv").read_text().splitlines()) == 3
    capsys.readouterr()
    rc = main(["evaluate", str(out / "champion.json"), "--episodes", "10", "--json"])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["task"]["name"] == name and d["metric"] == "accuracy"
    for k in ("search_values", "search_values_mean", "best_shared", "random_shared", "random_individual"):
        assert k in d
    assert 0 <= d["ensemble_accuracy"] <= 1


def test_identical_rows_are_scored_once(monkeypatch):
    # full-batch fitness is deterministic: three rollouts of one (genome, weight) cost one
    # forward pass, and the scores equal those of rows scored one by one
    import wann.tasks.classify as classify

    task = make_task("wine", batch_size=125)  # every training sample in every minibatch
    pop = _population(task, 5)
    rows = []
    real = classify.forward

    def counting(batch, row_genome, obs, weights, edge_weights=None, edge_rows=None):
        rows.append(len(row_genome))
        return real(batch, row_genome, obs, weights, edge_weights, edge_rows)

    monkeypatch.setattr(classify, "forward", counting)
    ev = evaluate(task, pop, [-1.0, 0.5, 2.0], [1, 2, 3])
    n_train = len(task.y_train)
    assert sum(rows) == 5 * 3 * n_train  # not 5 * 3 * 3 * n_train
    assert np.array_equal(ev.rewards[:, :, 0], ev.rewards[:, :, 2])
    for g in range(5):
        alone = evaluate(task, [pop[g]], [0.5], [7])
        assert alone.rewards[0, 0, 0] == ev.rewards[g, 1, 0]
    # with minibatches smaller than the split, each rollout's minibatch is scored
    small = make_task("wine", batch_size=16)
    rows.clear()
    ev = evaluate(small, pop, [0.5], [1, 2, 3])
    assert sum(rows) == 5 * 3 * 16
    assert len(np.unique(ev.rewards[0, 0])) == 3
