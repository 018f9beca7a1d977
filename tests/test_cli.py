import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wann(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "wann.cli", *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    r = wann("search", "experiments/swingup-smoke.toml", "--generations", "5", "--executor", "serial", "--out", out)
    assert "results:" in r.stdout and "gen" in r.stderr
    return out


def test_search_writes_run(run_dir):
    assert (run_dir / "champion.json").exists()
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 6


def test_show_summary_and_png(run_dir, tmp_path):
    png = tmp_path / "net.png"
    r = wann("show", run_dir / "champion.json", "--png", png, "--json")
    info = json.loads(r.stdout)
    assert info["connections"] >= 1 and info["meta"]["task"]["name"] == "wann/CartPoleSwingUp-v0"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_json(run_dir):
    r = wann("evaluate", run_dir / "champion.json", "--episodes", "8", "--json")
    d = json.loads(r.stdout)
    for k in ("search_values_mean", "best_shared", "random_shared", "random_individual", "connections"):
        assert k in d
    assert set(d["best_shared"]) >= {"weight", "mean", "sd"}
    assert len(d["search_values"]) == 6
    assert abs(d["search_values_mean"] - sum(v["mean"] for v in d["search_values"]) / 6) < 1e-9
    # reproducible: same seeds, same numbers
    assert json.loads(wann("evaluate", run_dir / "champion.json", "--episodes", "8", "--json").stdout) == d


def test_bench_json_keys():
    d = json.loads(wann("bench", "--json", "--quick").stdout)
    assert d["fresh"]["network_steps_per_cpu_s"] > 0
    assert d["champion"]["network_steps_per_cpu_s"] > 0
    assert 0 < d["champion"]["env_share"] <= 1
    assert d["champion"]["connections"] == 52 and d["champion"]["nodes"] == 29


def test_resumed_search_says_once_from_which_generation(tmp_path):
    """`wann search --resume` says where it continues in its first line, and only there (the
    progress display used to repeat it)."""
    exp = tmp_path / "tiny.toml"
    exp.write_text(
        'name = "tiny"\n[task]\nname = "CartPole-v1"\n[search]\npopulation = 12\ngenerations = 4\nrollouts = 1\n'
    )
    out = tmp_path / "run"
    first = wann("search", exp, "--generations", "2", "--executor", "serial", "--out", out)
    assert "resum" not in first.stderr.replace(str(tmp_path), "") and "new run" in first.stderr
    again = wann("search", exp, "--executor", "serial", "--out", out, "--resume")
    said = [line for line in again.stderr.replace(str(tmp_path), "").splitlines() if "resum" in line]
    assert len(said) == 1 and "resuming at generation 2 (2 to go)" in said[0], again.stderr
    assert "gen 4/4" in again.stderr and "done: 4 generations" in again.stdout
