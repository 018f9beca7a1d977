"""Bring your own task: a Gymnasium environment registered by the user's module ([task] import,
``module:Env-v0``) and a Python fitness function (`FunctionTask`), in-process and on the
session's real local Ray. The example files are tests/fixtures/own_task/ (the README's "Bring
your own task" section shows them)."""

import os
import pickle
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from helpers import mutated_population

from wann.errors import ConfigError, WannError
from wann.evaluate import evaluate, evaluate_weights
from wann.executor import SerialExecutor
from wann.network import forward_numpy
from wann.search.experiment import Experiment, SearchSettings, experiment_from_dict, load_experiment
from wann.search.run import run_search
from wann.search.search import Search
from wann.tasks import make_task, task_from_spec
from wann.tasks.function import FunctionTask

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/fixtures/own_task"
EXPERIMENT = FIXTURES / "corridor.toml"
W = (-2.0, -1.0, 0.5, 1.0)
X = np.linspace(-1.0, 1.0, 16).reshape(-1, 2)


@pytest.fixture
def example_envs(monkeypatch):
    """The driver can import the example package (as with PYTHONPATH=tests/fixtures/own_task)."""
    monkeypatch.syspath_prepend(str(FIXTURES))


def _same_run(a, b) -> bool:
    return a.state.best.to_dict() == b.state.best.to_dict() and [g.to_dict() for g in a.state.population] == [
        g.to_dict() for g in b.state.population
    ]


# ---- a Gymnasium environment from the user's module ---------------------------------------------


def test_import_list_and_module_form_build_the_same_task(example_envs):
    exp = load_experiment(EXPERIMENT)
    assert exp.task == {"import": ["wann_example_envs"], "name": "Corridor-v0"}
    t = task_from_spec(exp.task)
    assert (t.n_inputs, t.n_outputs, t.max_steps) == (2, 2, 20)
    assert t.spec() == {"name": "Corridor-v0", "import": ["wann_example_envs"]}  # workers import it too
    again = experiment_from_dict(tomllib.loads(exp.to_toml()))
    assert again.task == exp.task
    m = make_task("wann_example_envs:Corridor-v0")
    assert m.name == "wann_example_envs:Corridor-v0" and m.env_id == "Corridor-v0"
    assert task_from_spec(m.spec()).name == m.name
    genomes = mutated_population(t, 6, 0, 0.5, lambda k: 2 * k)
    a, b = evaluate(t, genomes, W, [3, 4]), evaluate(m, genomes, W, [3, 4])
    assert np.array_equal(a.rewards, b.rewards) and np.array_equal(a.steps, b.steps)
    assert (a.steps == 20).all()


def test_a_module_that_cannot_be_imported_is_one_config_error(example_envs):
    cases = [
        ({"name": "Corridor-v0", "import": ["no_such_module_xyz"]}, "task.import", "'no_such_module_xyz'"),
        ({"name": "no_such_module_xyz:Corridor-v0"}, "task.name", "'no_such_module_xyz'"),
        ({"name": "Corridor-v0", "import": "wann_example_envs"}, "task.import", "list of module names"),
        ({"name": "Corridor-v0", "import": [""]}, "task.import", "module names"),
        ({"name": "wann_example_envs:Nope-v0"}, "task.name", "registered no Gymnasium environment 'Nope-v0'"),
        ({"name": "wann_example_envs:"}, "task.name", "module:Env-v0"),
    ]
    for task, field, words in cases:
        with pytest.raises(ConfigError) as e:
            experiment_from_dict({"task": task, "search": {"population": 8}}, "exp.toml")
        assert e.value.field == field and words in e.value.message, (task, e.value)
        assert e.value.source == "exp.toml"
        if "no_such" in words:
            assert "PYTHONPATH" in e.value.message and "every Ray worker" in e.value.message


def test_cli_runs_the_example_experiment(tmp_path):
    """`PYTHONPATH=... wann search corridor.toml` (serial here; Ray below); without the path
    the driver stops at once, naming task.import."""
    env = {**os.environ, "PYTHONPATH": str(FIXTURES), "RAY_ADDRESS": ""}
    script = Path(sys.executable).with_name("wann")  # the console command, as a user runs it
    wann = [str(script)] if script.exists() else [sys.executable, "-m", "wann.cli"]
    cmd = [*wann, "search", str(EXPERIMENT), "--executor", "serial", "--quiet"]
    r = subprocess.run([*cmd, "--out", str(tmp_path / "run")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert '"import": [' in (tmp_path / "run/champion.json").read_text()
    env.pop("PYTHONPATH")
    r = subprocess.run([*cmd, "--out", str(tmp_path / "no")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "task.import" in r.stderr and "wann_example_envs" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "no").exists()


# ---- a Python fitness function ------------------------------------------------------------------


def squared_error(net):
    """A module-level fitness (pickled by reference)."""
    return -float(np.mean((np.nan_to_num(net(X)) - 0.5) ** 2))


def _genomes(n=8):
    return mutated_population(FunctionTask(squared_error, 2, 3), n, 1, 0.5, lambda k: 3 * k)


def test_scores_are_the_fitness_of_each_network_at_each_weight():
    task = FunctionTask(squared_error, 2, 3)
    genomes = _genomes()
    ev = evaluate(task, genomes, W, [5, 6, 7])
    for g, genome in enumerate(genomes):
        for k, w in enumerate(W):
            ref = -np.mean((np.nan_to_num(forward_numpy(genome, X, np.full(len(X), w))) - 0.5) ** 2)
            assert np.allclose(ev.rewards[g, k], ref, rtol=1e-12, atol=1e-12)
    assert (ev.steps == len(X)).all()  # steps: observation rows each network was given


def test_unseeded_is_called_once_per_genome_and_weight_and_seeded_gets_the_seed():
    calls = []

    def fit(net):
        calls.append(1)
        return squared_error(net)

    genomes = _genomes(5)
    a = evaluate(FunctionTask(fit, 2, 3), genomes, W, [5, 6, 7])
    assert len(calls) == len(genomes) * len(W)
    assert (a.rewards == a.rewards[:, :, :1]).all()
    seen = []

    def seeded(net, seed):
        seen.append(seed)
        return squared_error(net) + seed

    b = evaluate(FunctionTask(seeded, 2, 3, seeded=True), genomes, W, [5, 6, 7])
    assert seen == [5, 6, 7] * (len(genomes) * len(W))
    assert np.allclose(b.rewards - np.array([5, 6, 7]), a.rewards, rtol=0, atol=1e-12)


def test_vectorized_gives_the_same_numbers_as_one_by_one():
    def vec(net):
        y = net(X)  # (K, B, n_out)
        assert y.shape[1:] == (len(X), 3)
        per = net(np.broadcast_to(X, (y.shape[0], *X.shape)))
        assert np.array_equal(per, y)
        return -np.mean((np.nan_to_num(y) - 0.5) ** 2, axis=(1, 2))

    genomes = _genomes(9)
    a = evaluate(FunctionTask(squared_error, 2, 3), genomes, W, [1, 2])
    b = evaluate(FunctionTask(vec, 2, 3, vectorized=True, chunk=5), genomes, W, [1, 2])
    assert np.array_equal(a.rewards, b.rewards) and np.array_equal(2 * a.steps, b.steps)  # vec calls net twice


def test_individual_weights_reach_the_network():
    task = FunctionTask(squared_error, 2, 3)
    genome = _genomes(6)[-1]
    rows = np.random.default_rng(0).normal(size=(4, len(genome.connections)))
    rewards, steps = evaluate_weights(task, genome, rows, [0, 1])
    for p in range(4):
        out = forward_numpy(genome, X, np.ones(len(X)), np.repeat(rows[p : p + 1], len(X), axis=0))
        assert np.allclose(rewards[p], -np.mean((np.nan_to_num(out) - 0.5) ** 2), rtol=1e-12, atol=1e-12)
    assert (steps == len(X)).all()


def test_bad_functions_and_arguments_say_what_is_wrong():
    genomes = _genomes(2)
    for fit, words in [
        (lambda net: float("nan"), "finite number"),
        (lambda net: "high", "finite number"),
        (lambda net: net(np.zeros((4, 3))), "shape (B, n_inputs)"),
    ]:
        with pytest.raises(WannError, match=re.escape(words)):
            evaluate(FunctionTask(fit, 2, 3), genomes, W, [0])
    with pytest.raises(WannError, match="must return 2 scores"):
        evaluate(FunctionTask(lambda net: 1.0, 2, 3, vectorized=True), genomes, W[:1], [0])
    for kwargs, field in [
        ({"fitness": 3}, "task.fitness"),
        ({"n_inputs": 0}, "task.n_inputs"),
        ({"n_outputs": 1.5}, "task.n_outputs"),
        ({"hidden_activations": (99,)}, "task.hidden_activations"),
    ]:
        args = {"fitness": squared_error, "n_inputs": 2, "n_outputs": 3, **kwargs}
        with pytest.raises(ConfigError) as e:
            FunctionTask(args.pop("fitness"), args.pop("n_inputs"), args.pop("n_outputs"), **args)
        assert e.value.field == field


def test_spec_is_recorded_but_not_rebuilt_and_the_object_pickles():
    task = FunctionTask(squared_error, 2, 3)
    assert task.spec() == {"name": "squared_error", "function": f"{__name__}:squared_error"}
    with pytest.raises(ConfigError) as e:
        task_from_spec(task.spec())
    assert e.value.field == "task.function" and "FunctionTask" in e.value.message
    assert task_from_spec(task) is task
    back = pickle.loads(pickle.dumps(task))
    genomes = _genomes(3)
    assert np.array_equal(evaluate(back, genomes, W, [0]).rewards, evaluate(task, genomes, W, [0]).rewards)
    exp = Experiment(task=task, search=SearchSettings(population=8, generations=1, rollouts=1))
    assert exp.task_spec == task.spec() and 'function = "' in exp.to_toml()
    search = Search.for_task(task, exp.search, seed=3)
    state = search.init()
    genomes, seeds = search.ask(state)
    state, report = search.tell(state, evaluate(task, genomes, exp.search.shared_weights, seeds))
    assert state.best.meta["task"] == task.spec() and report["env_steps"] == 8 * 6 * len(X)


# ---- on the real local Ray ----------------------------------------------------------------------


@pytest.mark.ray
def test_corridor_on_ray_matches_serial(example_envs, ray_session):
    """The README's experiment, 2 generations on 2 evaluator actors that import the user's
    package themselves (on PYTHONPATH for them), gives the serial run's numbers."""
    from wann.distributed import RayExecutor

    exp = load_experiment(EXPERIMENT)
    serial = run_search(exp, executor=SerialExecutor(exp.task), progress=False)
    with RayExecutor(exp.task, workers=2, runtime_env={"env_vars": {"PYTHONPATH": str(FIXTURES)}}) as ex:
        ray = run_search(exp, executor=ex, progress=False)
        assert ex.stats()["batches"] >= 2
    assert ray.generations_run == 2 and _same_run(ray, serial)


@pytest.mark.ray
def test_a_worker_that_cannot_import_the_module_stops_before_any_work(example_envs, ray_session):
    from wann.distributed import RayExecutor

    exp = load_experiment(EXPERIMENT)  # the driver can import it; the session's workers cannot
    with pytest.raises(ConfigError) as e:
        RayExecutor(exp.task, workers=1)
    assert e.value.field == "task.import"
    assert "on a Ray worker" in e.value.message and "'wann_example_envs'" in e.value.message


@pytest.mark.ray
def test_fitness_example_runs_on_ray_and_matches_serial(ray_session, capsys):
    """tests/fixtures/own_task/fitness_example.py run as a script: its function lives in
    __main__ and reaches the Ray workers by value."""
    ns = runpy.run_path(str(FIXTURES / "fitness_example.py"), run_name="__main__")
    result, exp = ns["result"], ns["exp"]
    assert result.generations_run == 2 and ns["fitness"].__module__ == "__main__"
    assert str(result.state.best.meta["fitness"]) in capsys.readouterr().out
    serial = run_search(exp, executor=SerialExecutor(exp.task), progress=False)
    assert _same_run(result, serial)


def test_readme_section_shows_the_fixture_files():
    text = (ROOT / "README.md").read_text()
    assert "\n## Bring your own task\n" in text
    section = text.split("## Bring your own task", 1)[1].split("\n## ", 1)[0]
    blocks = [b.strip() for b in re.findall(r"```(?:python|toml)\n(.*?)```", section, re.S)]
    for name in ("wann_example_envs/__init__.py", "corridor.toml", "fitness_example.py"):
        code = (FIXTURES / name).read_text()
        body = code.split('"""', 2)[2] if name.endswith("__init__.py") else code
        assert body.strip() in blocks, name
