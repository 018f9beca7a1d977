"""The MNIST-1D classification task (`wann.tasks.classify`, data set "mnist1d"): generated offline
by the mnist1d package, the package's own train/test split, the caller's global RNGs untouched."""

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import mutated_population

from wann.errors import ConfigError
from wann.evaluate import evaluate
from wann.search.experiment import load_experiment
from wann.tasks import make_task, task_from_spec
from wann.tasks.classify import ClassifyTask, load, own_split

ROOT = Path(__file__).resolve().parent.parent


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def task() -> ClassifyTask:
    return make_task("mnist1d")


def test_shapes_split_and_scaling(task):
    assert isinstance(task, ClassifyTask) and task.kind == "classify"
    assert (task.n_inputs, task.n_outputs, task.n_classes, task.batch_size) == (40, 10, 10, 1000)
    assert task.x_train.shape == (4000, 40) and task.x_test.shape == (1000, 40)
    assert task.input_names == tuple(f"t{i}" for i in range(40))
    # the package's split: the first 4,000 generated samples train, the last 1,000 test
    assert task.split_kind == "own"
    assert np.array_equal(task.train_idx, np.arange(4000)) and np.array_equal(task.test_idx, np.arange(4000, 5000))
    for y, n in ((task.y_train, 4000), (task.y_test, 1000)):
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and abs(counts - n / 10).max() < 0.15 * n / 10  # balanced-ish
    # standardised per feature with the training split's statistics, also on the test split
    assert np.allclose(task.x_train.mean(0), 0, atol=1e-9) and np.allclose(task.x_train.std(0), 1)
    X, y, _ = load("mnist1d")
    mu, sd = X[:4000].mean(0), X[:4000].std(0)
    assert np.allclose(task.x_test, (X[4000:] - mu) / sd) and np.array_equal(task.y_test, y[4000:])
    assert not X.flags.writeable and not y.flags.writeable


def test_spec_rebuilds_the_same_split_and_stratified_on_request(task):
    assert task.spec() == {"name": "mnist1d", "batch_size": 1000}
    again = task_from_spec(task.spec())
    assert again.split_kind == "own" and np.array_equal(again.x_test, task.x_test)
    strat = make_task("mnist1d", split_seed=1, batch_size=500)
    assert strat.split_kind == "stratified" and strat.spec() == {
        "name": "mnist1d",
        "test_fraction": 0.2,
        "split_seed": 1,
        "batch_size": 500,
    }
    assert np.bincount(strat.y_test).tolist() == [100] * 10
    assert np.array_equal(task_from_spec(strat.spec()).test_idx, strat.test_idx)
    assert not np.array_equal(strat.test_idx, own_split("mnist1d")[1])
    assert make_task("mnist1d", test_fraction=0.3).x_test.shape == (1500, 40)
    assert make_task("wine").test_fraction == 0.3  # the others keep their defaults
    with pytest.raises(ConfigError, match="test_fraction"):
        make_task("mnist1d", test_fraction=0.0)
    with pytest.raises(ConfigError, match="batch_size"):
        make_task("mnist1d", batch_size=4001)


def test_deterministic_offline_and_global_rng_untouched(task):
    """A fresh process: the sockets refuse to connect, both global RNGs are seeded by the caller;
    generating the data set leaves their states as they were and gives the same arrays."""
    code = textwrap.dedent(
        """
        import hashlib, random, socket
        import numpy as np

        def refuse(*a, **k):
            raise OSError("network used")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        np.random.seed(1234)
        random.seed(1234)
        before = (np.random.get_state(), random.getstate())
        from wann.tasks import make_task

        t = make_task("mnist1d")
        after = (np.random.get_state(), random.getstate())
        assert all(np.array_equal(a, b) for a, b in zip(before[0], after[0])), "numpy global RNG changed"
        assert before[1] == after[1], "random's state changed"
        assert (np.random.rand(), random.random()) == (np.random.RandomState(1234).rand(), random.Random(1234).random())
        h = hashlib.sha256()
        for a in (t.x_train, t.y_train, t.x_test, t.y_test):
            h.update(np.ascontiguousarray(a).tobytes())
        print(h.hexdigest())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == _digest(task.x_train, task.y_train, task.x_test, task.y_test)


def test_logistic_regression_beats_chance(task):
    """Full-batch softmax regression in numpy (the paper's logistic regression reaches about 32 %)."""
    X = np.hstack([task.x_train, np.ones((4000, 1))])
    Y = np.eye(10)[task.y_train]
    W = np.zeros((41, 10))
    for _ in range(200):
        z = X @ W
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        W -= 0.5 * X.T @ (p - Y) / len(X)
    acc = ((np.hstack([task.x_test, np.ones((1000, 1))]) @ W).argmax(1) == task.y_test).mean()
    assert acc > 0.2


def test_search_fitness_runs(task):
    gs = mutated_population(task, 3, 0, 0.3, lambda k: 2 * k)
    r = evaluate(task, gs, [-1.0, 1.0], [0])
    assert r.rewards.shape == (3, 2, 1) and np.isfinite(r.rewards).all() and (r.steps == 1000).all()
    acc = task.accuracy(gs[0], np.array([-1.0, 1.0]))
    assert acc.shape == (2,) and ((0 <= acc) & (acc <= 1)).all()


def test_study_search_file(task):
    exp = load_experiment(ROOT / "experiments/study/mnist1d-search.toml")
    assert exp.task == {"name": "mnist1d", "batch_size": 500}  # the package's split
    t = task_from_spec(exp.task)
    assert t.split_kind == "own" and np.array_equal(t.y_test, task.y_test)
    assert (exp.search.population, exp.search.generations) == (128, 200)
