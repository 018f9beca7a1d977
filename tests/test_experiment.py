import subprocess
import sys
from pathlib import Path

import pytest

from wann.errors import ConfigError
from wann.search.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path, text):
    p = tmp_path / "e.toml"
    p.write_text(text)
    return p


def test_shipped_experiments_load():
    for p in sorted((ROOT / "experiments").glob("*.toml")):
        if p.name.startswith("study"):
            continue
        exp = load_experiment(p)
        assert exp.search.population >= 4
    paper = load_experiment(ROOT / "experiments/swingup.toml")
    assert (paper.search.population, paper.search.generations, paper.search.rollouts) == (192, 1024, 3)
    assert paper.search.shared_weights == (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


def test_connection_rule_is_read_and_keeps_earlier_identities(tmp_path):
    from wann.search.experiment import experiment_identity

    base = load_experiment(_write(tmp_path, "[search]\npopulation = 8\n"))
    assert base.variation.connection_rule == "acyclic"
    # written only when set, so runs recorded before the setting existed keep their identity
    assert "connection_rule" not in base.to_toml()
    assert experiment_identity(base) == experiment_identity(
        load_experiment(_write(tmp_path, "[search]\npopulation = 8\n[variation]\nconnection_rule = 'acyclic'\n"))
    )
    layered = load_experiment(_write(tmp_path, "[search]\npopulation = 8\n[variation]\nconnection_rule = 'layered'\n"))
    assert layered.variation.connection_rule == "layered"
    assert 'connection_rule = "layered"' in layered.to_toml()
    assert experiment_identity(layered) != experiment_identity(base)
    again = load_experiment(_write(tmp_path, layered.to_toml()))
    assert again == layered


@pytest.mark.parametrize(
    "text,field,words",
    [
        ("name = 'x'\n[search\npopulation = 3", "experiment", "not valid TOML"),
        ("[search]\npopulaton = 100\n", "search.populaton", "did you mean 'population'"),
        ("[search]\npopulation = 'many'\n", "search.population", "expected an integer"),
        ("[search]\npopulation = 2\n", "search.population", "must be >= 4"),
        ("[search]\np_init = 1.5\n", "search.p_init", "must be in (0.0, 1.0]"),
        ("[search]\nshared_weights = []\n", "search.shared_weights", "at least one"),
        ("[variation]\nactivations = [1, 99]\n", "variation.activations", "unknown activation ids [99]"),
        ("[task]\nname = 'wann/CartPoleSwingUp-v9'\n", "task.name", "unknown task"),
        ("[task]\nname = 'wann/CartPoleSwingUp-v0'\nmax_steps = -1\n", "task.max_steps", "positive integer"),
        ("[execution]\nexecutor = 'mpi'\n", "execution.executor", '"ray" or "serial"'),
        ("[variation]\nconnection_rule = 'later'\n", "variation.connection_rule", "'acyclic', 'layered'"),
        ("seed = true\n", "seed", "expected an integer"),
        ("sede = 1\n", "sede", "did you mean 'seed'"),
    ],
)
def test_bad_experiment_files(tmp_path, text, field, words):
    with pytest.raises(ConfigError) as e:
        load_experiment(_write(tmp_path, text))
    assert e.value.field == field
    assert words in str(e.value)


def test_cli_reports_bad_input_before_any_work(tmp_path):
    p = _write(tmp_path, "[search]\ngenerations = 'ten'\n")
    out = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-m", "wann.cli", "search", str(p), "--out", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 2
    assert "search.generations: expected an integer" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_cli_refuses_to_overwrite_a_run(tmp_path):
    p = _write(tmp_path, "[search]\npopulation = 8\ngenerations = 1\n[execution]\nexecutor = 'serial'\n")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "wann.cli", "search", str(p), "--out", str(out), "--quiet"]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    before = (out / "checkpoint.json").read_bytes()
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2 and "already holds a run" in r.stderr
    assert (out / "checkpoint.json").read_bytes() == before


def test_cli_corrupt_genome(tmp_path):
    p = tmp_path / "g.json"
    p.write_text("{ not json")
    for sub in ("show", "evaluate"):
        r = subprocess.run([sys.executable, "-m", "wann.cli", sub, str(p)], capture_output=True, text=True)
        assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr
