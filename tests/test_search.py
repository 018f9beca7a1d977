import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wann.executor import SerialExecutor
from wann.genome import population_hash
from wann.search.experiment import Experiment, SearchSettings
from wann.search.run import run_search
from wann.search.search import Search
from wann.seeds import rollout_seeds

SMALL = Experiment(name="t", seed=3, search=SearchSettings(population=24, generations=6))


def _search(exp=SMALL):
    return Search(exp.search, exp.variation, 5, 1, exp.seed)


def test_ask_tell_is_pure_and_deterministic():
    s = _search()
    ex = SerialExecutor(SMALL.task)
    a = b = s.init()
    for _ in range(3):
        ga, seeds = s.ask(a)
        a, ra = s.tell(a, ex.evaluate(ga, SMALL.search.shared_weights, seeds))
        gb, seeds_b = s.ask(b)
        b, rb = s.tell(b, ex.evaluate(gb, SMALL.search.shared_weights, seeds_b))
        assert ra == rb and population_hash(a.population) == population_hash(b.population)
    assert len(a.population) == 24 and a.generation == 3


def test_common_seeds_per_generation():
    seeds = rollout_seeds(3, 7, 3)
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2
    assert rollout_seeds(3, 8, 3) != seeds


def test_selection_keeps_elites_and_population_size():
    s = _search()
    st = s.init()
    P = len(st.population)
    rewards = np.arange(P, dtype=float)[:, None, None] * np.ones((1, 6, 3))
    from wann.evaluate import Evaluation

    new, rep = s.tell(st, Evaluation(rewards, np.ones_like(rewards, dtype=np.int64)))
    assert len(new.population) == P
    # the best genome by mean reward is on the first front in both objective pairs: an elite
    assert st.population[P - 1] in new.population[: int(0.2 * (P - int(0.2 * P)))]
    assert new.best == st.population[P - 1] and new.best_fitness == P - 1
    assert rep["best_fitness"] == P - 1


def _final(run_dir):
    ck = json.loads((Path(run_dir) / "checkpoint.json").read_text())["state"]
    champ = json.loads((Path(run_dir) / "champion.json").read_text())
    return ck, champ


def test_stop_and_resume_in_process_matches_uninterrupted(tmp_path):
    full = tmp_path / "full"
    run_search(SMALL, full, executor=SerialExecutor(SMALL.task), progress=False)
    part = tmp_path / "part"
    run_search(SMALL, part, executor=SerialExecutor(SMALL.task), progress=False, stop_after=2)
    run_search(SMALL, part, executor=SerialExecutor(SMALL.task), progress=False, resume=True)
    assert _final(full) == _final(part)
    import csv

    cols = ["generation", "best_fitness", "mean_fitness", "best_connections", "env_steps"]
    rows = [[[r[c] for c in cols] for r in csv.DictReader(open(d / "metrics.csv"))] for d in (full, part)]
    assert rows[0] == rows[1] and len(rows[0]) == 6


def test_run_directory_contents(tmp_path):
    run_search(SMALL, tmp_path / "r", executor=SerialExecutor(SMALL.task), progress=False)
    r = tmp_path / "r"
    assert (r / "experiment.toml").read_text().startswith('name = "t"')
    header = (r / "metrics.csv").read_text().splitlines()[0].split(",")
    for col in [
        "best_fitness",
        "mean_fitness",
        "best_at_w-2",
        "best_at_w+0.5",
        "best_connections",
        "best_nodes",
        "episodes",
        "env_steps",
        "wall_s",
        "cpu_s",
    ]:
        assert col in header
    champ = json.loads((r / "champion.json").read_text())
    assert champ["meta"]["task"]["name"] == "wann/CartPoleSwingUp-v0"
    assert list((r / "champions").glob("gen-*.json"))


def test_killed_cli_run_resumes_to_identical_end(tmp_path):
    exp = tmp_path / "e.toml"
    exp.write_text(
        'name = "k"\nseed = 5\n[search]\npopulation = 64\ngenerations = 40\n[execution]\nexecutor = "serial"\n'
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WANN_CHECKPOINT_S": "0"}  # a checkpoint every generation
    cmd = [sys.executable, "-m", "wann.cli", "search", str(exp), "--quiet"]
    subprocess.run(cmd + ["--out", str(tmp_path / "full")], check=True, env=env, capture_output=True)
    p = subprocess.Popen(
        cmd + ["--out", str(tmp_path / "killed")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ck = tmp_path / "killed" / "checkpoint.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        if ck.exists() and json.loads(ck.read_text())["state"]["generation"] >= 3:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    gen_killed = json.loads(ck.read_text())["state"]["generation"]
    assert 3 <= gen_killed < 40, "the run should have been killed mid-way"
    r = subprocess.run(cmd + ["--out", str(tmp_path / "killed"), "--resume"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _final(tmp_path / "full") == _final(tmp_path / "killed")


def test_resume_refuses_other_experiment(tmp_path):
    run_search(SMALL, tmp_path / "r", executor=SerialExecutor(SMALL.task), progress=False, stop_after=1)
    other = SMALL.replace(seed=99)
    from wann.errors import ConfigError

    with pytest.raises(ConfigError, match="different experiment"):
        run_search(other, tmp_path / "r", executor=SerialExecutor(SMALL.task), progress=False, resume=True)
    with pytest.raises(ConfigError, match="already holds a run"):
        run_search(SMALL, tmp_path / "r", executor=SerialExecutor(SMALL.task), progress=False)


def test_reporters_are_called_in_order_and_a_run_needs_no_folder(tmp_path):
    from wann.search.reporters import Reporter

    calls = []

    class Record(Reporter):
        def start(self, info):
            calls.append(("start", info["start"], info["total"], info["out"]))

        def new_best(self, genome, generation):
            calls.append(("best", generation, genome.meta["fitness"]))

        def generation(self, state, report):
            calls.append(("gen", report["generation"], state.generation))

        def end(self, state):
            calls.append(("end", state.generation))

    res = run_search(SMALL, executor=SerialExecutor(SMALL.task), progress=False, reporters=[Record()])
    assert res.run_dir is None and not any(tmp_path.iterdir())
    assert calls[0] == ("start", 0, 6, None) and calls[-1] == ("end", 6)
    assert [c[1:] for c in calls if c[0] == "gen"] == [(g, g + 1) for g in range(6)]
    bests = [c for c in calls if c[0] == "best"]
    assert bests and bests[-1][2] == res.state.best_fitness
    # each new best is reported before its generation's row
    for b in bests:
        assert calls.index(b) < calls.index(("gen", b[1], b[1] + 1))
    # the same search with a folder gives the same champion
    with_folder = run_search(SMALL, tmp_path / "r", executor=SerialExecutor(SMALL.task), progress=False)
    assert with_folder.state.best.fingerprint() == res.state.best.fingerprint()
