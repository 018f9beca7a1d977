"""The inspecting commands: show / evaluate on genome and network files, plot, tasks, --version,
exit codes (130 on Ctrl-C), bench's text, the rendering warning and the drawings of large
input layers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from wann.cli import build_parser, main
from wann.genome import Genome
from wann.seeds import TEST_SEED
from wann.weighted import WeightedNetwork, mlp_genome

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "experiments/results/digits/champion.json"
SWINGUP = ROOT / "experiments/results/swingup-paper/champion.json"
PNG = b"\x89PNG\r\n\x1a\n"


def one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    out = []
    for seed, gens in ((0, 3), (1, 4)):
        run = base / f"run-s{seed}"
        argv = ["search", "experiments/swingup-smoke.toml", "--executor", "serial", "--quiet"]
        assert main(argv + ["--generations", str(gens), "--seed", str(seed), "--out", str(run)]) == 0
        out.append(run)
    return out


def network(task_name: str, n_in: int, n_out: int, seed: int = 0, hidden=(3,)) -> WeightedNetwork:
    g = mlp_genome(n_in, list(hidden), n_out)
    w = np.random.default_rng(seed).normal(0, 1.0, len(g.connections))
    return WeightedNetwork(g, w, {"method": "dense"})


# ---- network files ---------------------------------------------------------------------------


def test_evaluate_network_file_scores_it_with_its_own_weights(tmp_path, capsys):
    from wann.baselines.cmaes import score
    from wann.executor import SerialExecutor

    net = network("CartPole-v1", 4, 2)
    net.save(tmp_path / "dense.json")
    (tmp_path / "result.json").write_text(json.dumps({"task": {"name": "CartPole-v1"}, "method": "dense"}))
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "dense.json"), "--episodes", "6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["file"] == "wann.network/1" and d["metric"] == "return" and d["task"]["name"] == "CartPole-v1"
    # the same numbers `wann train` reports for a network (fresh episodes from TEST_SEED)
    ref = score(SerialExecutor({"name": "CartPole-v1"}), net, episodes=6, seed=TEST_SEED)
    assert d["score"]["mean"] == pytest.approx(ref["mean"]) and d["score"]["sd"] == pytest.approx(ref["sd"])
    assert d["connections"] == net.connections
    assert main(["evaluate", str(tmp_path / "dense.json"), "--episodes", "6"]) == 0
    text = capsys.readouterr().out
    assert "its own weights" in text and "6 fresh episodes" in text and f"{ref['mean']:.2f}" in text


def test_evaluate_classification_network_gives_test_accuracy(tmp_path, capsys):
    from wann.tasks import make_task

    task = make_task("wine")
    net = network("wine", 13, 3, hidden=(4,))
    net = WeightedNetwork(net.genome, net.weights, {"method": "dense", "task": task.spec()})
    net.save(tmp_path / "wine.json")
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "wine.json"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["metric"] == "accuracy" and d["test_samples"] == len(task.y_test)
    assert d["accuracy"] == pytest.approx(task.accuracy(net.genome, conn_weights=net.weights, split="test"))


def test_evaluate_network_without_a_task_or_with_a_wrong_one_says_so(tmp_path, capsys):
    net = network("CartPole-v1", 4, 2)
    net.save(tmp_path / "n.json")
    assert main(["evaluate", str(tmp_path / "n.json")]) == 2
    assert "records no task" in one_error_line(capsys)
    assert main(["evaluate", str(tmp_path / "n.json"), "--task", "swingup"]) == 2
    assert "--task" in one_error_line(capsys)
    assert main(["evaluate", str(tmp_path / "n.json"), "--task", "CartPole-v1", "--selection-episodes", "4"]) == 2
    assert "--selection-episodes" in one_error_line(capsys)


def test_show_network_file_prints_structure_and_draws_weights(tmp_path, capsys):
    net = network("CartPole-v1", 4, 2)
    net = WeightedNetwork(net.genome, net.weights, {"method": "dense", "task": {"name": "CartPole-v1"}})
    net.save(tmp_path / "n.json")
    png = tmp_path / "n.png"
    capsys.readouterr()
    assert main(["show", str(tmp_path / "n.json"), "--png", str(png), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert "wann.network/1" in info["file"]
    assert info["inputs_used"] == ["x", "x_dot", "theta", "theta_dot"]
    assert info["weights"]["min"] == pytest.approx(float(net.weights.min()))
    assert info["live"]["connections"] == net.connections
    assert png.read_bytes()[:8] == PNG


def test_other_files_get_one_clear_error(tmp_path, capsys):
    cases = {
        "fmt.json": ({"format": "wann.cell/2"}, "'wann.cell/2'"),
        "result.json": ({"task": {"name": "wine"}, "method": "dense", "results": []}, "METHOD.json"),
        "short.json": ({**network("wine", 13, 3).to_dict(), "weights": [1.0]}, "weights"),
        "nan.json": ({**network("wine", 13, 3).to_dict(), "weights": "x"}, "weights"),
    }
    for name, (doc, words) in cases.items():
        (tmp_path / name).write_text(json.dumps(doc))
        for cmd in ("show", "evaluate"):
            assert main([cmd, str(tmp_path / name)]) == 2
            line = one_error_line(capsys)
            assert words in line, line
            if name in ("fmt.json", "result.json"):
                assert "wann.genome/1" in line and "wann.network/1" in line


# ---- show: inputs by name, drawings of large input layers -------------------------------------


def test_show_lists_inputs_by_name(capsys):
    assert main(["show", str(SWINGUP)]) == 0
    assert "inputs_used: 5 of 5: x, x_dot, cos th, sin th, th_dot" in capsys.readouterr().out
    assert main(["show", str(DIGITS)]) == 0
    assert "63 of 64; unused: pixel_7_4" in capsys.readouterr().out


def test_digits_drawing_has_an_input_map_and_fewer_crossings(tmp_path, capsys):
    from wann.draw import crossings, input_grid_shape, input_usage, layout
    from wann.tasks import task_from_spec

    g = Genome.load(DIGITS)
    names = list(task_from_spec(g.meta["task"]).input_names)
    shape = input_grid_shape(names, g.n_inputs)
    assert shape == (8, 8)
    assert input_grid_shape(["a", "b"], 2) is None
    pos = layout(g, shape)
    grid = [pos[i] for i in range(1, 65)]
    assert len({x for x, _ in grid}) == 8 and len({y for _, y in grid}) == 8
    assert all(x < 1 for x, _ in grid)  # left of the first hidden column
    use = input_usage(g)
    assert use.shape == (64,) and use[60] == 0 and (use > 0).sum() == 63  # pixel_7_4 unused
    before, after = crossings(g, layout(g, shape, sweeps=0)), crossings(g, pos)
    assert after < 0.85 * before, (before, after)
    png = tmp_path / "d.png"
    assert main(["show", str(DIGITS), "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    assert main(["show", str(DIGITS), "--png", str(png)]) == 2  # exists
    assert "--overwrite" in one_error_line(capsys)


def test_crossing_reduction_on_a_small_genome():
    from wann.draw import crossings, layout

    g = Genome.load(SWINGUP)
    assert crossings(g, layout(g)) <= crossings(g, layout(g, sweeps=0))
    pos = layout(g)
    assert {pos[i] for i in range(0, 6)} == {(0.0, 2.5 - k) for k in range(6)}  # inputs keep their order


# ---- plot ---------------------------------------------------------------------------------------


def test_plot_two_runs(runs, tmp_path, capsys):
    from wann.analysis.run_plot import read_run, run_names

    png = tmp_path / "runs.png"
    assert main(["plot", *map(str, runs), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 20_000
    assert "2 runs" in capsys.readouterr().out
    assert main(["plot", *map(str, runs), "--out", str(png)]) == 2
    assert "exists" in one_error_line(capsys)
    assert main(["plot", str(runs[0] / "metrics.csv"), "--out", str(png), "--overwrite"]) == 0
    r = read_run(runs[1])
    assert r.task == "wann/CartPoleSwingUp-v0" and len(r.columns["generation"]) == 4
    assert [w for w, _ in r.weights] == [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    assert run_names(runs) == ["run-s0", "run-s1"]
    assert run_names([runs[0], runs[0]]) == ["run-s0", "run-s0"]
    (tmp_path / "a" / "run").mkdir(parents=True)
    (tmp_path / "b" / "run").mkdir(parents=True)
    assert run_names([tmp_path / "a" / "run", tmp_path / "b" / "run"]) == ["a/run", "b/run"]


def test_plot_refuses_what_is_not_a_run(runs, tmp_path, capsys):
    (tmp_path / "study" / "searches").mkdir(parents=True)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "metrics.csv").write_text((runs[0] / "metrics.csv").read_text().splitlines()[0] + "\n")
    for arg, words in (
        (tmp_path / "missing", "does not exist"),
        (tmp_path / "study", "searches/*"),
        (tmp_path / "bad.csv", "no column"),
        (tmp_path / "empty", "no finished generation"),
    ):
        assert main(["plot", str(arg), "--out", str(tmp_path / "x.png")]) == 2
        assert words in one_error_line(capsys)
    assert not (tmp_path / "x.png").exists()
    assert main(["plot", str(runs[0]), "--out", str(tmp_path)]) == 2
    assert "folder" in one_error_line(capsys)


# ---- conventions: version, help, tasks, exit codes --------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"wann {version('wann')}"


def test_help_documents_every_flag_and_the_exit_codes():
    import argparse

    p = build_parser()
    assert all(k in p.epilog for k in ("0 ", "1 ", "2 ", "130"))
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    assert {"show", "evaluate", "plot", "tasks", "bench", "search", "train", "compare", "report"} <= set(sub.choices)
    for name, cmd in sub.choices.items():
        for a in cmd._actions:
            assert a.help and a.help.strip(), f"wann {name} {a.option_strings or a.dest} has no help"


def test_tasks_lists_supported_and_refused(capsys):
    assert main(["tasks", "--json"]) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["builtin"][0]["name"] == "wann/CartPoleSwingUp-v0" and "swingup" in c["builtin"][0]["aliases"]
    data = {d["name"]: d for d in c["classification"]}
    assert set(data) >= {"digits", "wine", "iris", "breast_cancer", "mnist1d"}
    assert (data["mnist1d"]["inputs"], data["mnist1d"]["classes"]) == (40, 10) and data["digits"]["image"] == "8x8"
    gym = {d["name"]: d for d in c["gymnasium"]}
    assert gym["CartPole-v1"]["inputs"] == 4 and gym["CartPole-v1"]["numpy_twin"]
    assert "Box(1)" in gym["Pendulum-v1"]["action"]
    refused = {d["name"]: d["why"] for d in c["refused"]}
    assert "image" in refused["CarRacing-v3"] and "Discrete observation" in refused["FrozenLake-v1"]
    assert not set(refused) & set(gym)
    assert main(["tasks"]) == 0
    text = capsys.readouterr().out
    assert "mnist1d" in text and "refused" in text and "CarRacing-v3" in text


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    from wann import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "show", interrupted)
    assert main(["show", str(SWINGUP)]) == 130
    assert one_error_line(capsys) == "interrupted; nothing was saved"


def _signal_when(cmd: list[str], ready, delay: float, sig) -> tuple[int, list[str]]:
    """Run `cmd` (no RAY_ADDRESS), send it `sig` `delay` seconds after the first stderr line for
    which ready(line) holds; returns (exit code, stderr lines)."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    err = []
    try:
        for line in p.stderr:
            err.append(line)
            if ready(line):
                break
        time.sleep(delay)
        p.send_signal(sig)
        err += p.stderr.readlines()
        return p.wait(timeout=120), err
    finally:
        if p.poll() is None:
            p.kill()


def test_sigint_to_a_running_search_exits_130(tmp_path):
    cmd = [sys.executable, "-m", "wann.cli", "search", "experiments/swingup-smoke.toml", "--executor", "serial"]
    cmd += ["--out", str(tmp_path / "run")]
    rc, err = _signal_when(cmd, lambda line: line.startswith("gen "), 0.5, signal.SIGINT)  # a finished generation
    assert rc == 130, "".join(err)
    assert err[-1].strip() == "interrupted; finished generations are in the checkpoint (rerun with --resume)", err
    assert not any("Traceback" in line for line in err)
    assert (tmp_path / "run" / "checkpoint.json").exists()


def test_sigterm_to_a_study_on_ray_exits_143_with_one_line(tmp_path):
    """SIGTERM stops `wann compare` as Ctrl-C does (Ray's own handler, which dumps a stack and
    exits 15, is replaced by ours after ray.init)."""
    (tmp_path / "cp.toml").write_text(
        'name = "cp"\n[task]\nname = "CartPole-v1"\n[search]\npopulation = 24\ngenerations = 400\nrollouts = 1\n'
        '[execution]\nexecutor = "serial"\n'
    )
    (tmp_path / "study.toml").write_text(
        '[study]\nname = "term"\nseeds = [0, 1]\nmethods = ["wann_best_shared"]\nsizes = [1.0]\ntest_episodes = 3\n'
        'landscape_episodes = 0\n[execution]\nexecutor = "ray"\nworkers = 1\n'
        '[[tasks]]\nlabel = "cp"\nsearch = "cp.toml"\nbudget = 64\ndense = [[4]]\n'
    )
    cmd = [sys.executable, "-m", "wann.cli", "compare", str(tmp_path / "study.toml"), "--out", str(tmp_path / "run")]
    rc, err = _signal_when(cmd, lambda line: "started" in line, 1.0, signal.SIGTERM)  # once a cell runs on Ray
    assert rc == 143, "".join(err)
    assert err[-1].strip() == "terminated; finished cells are saved; rerun the same command to resume", err
    assert not any("Traceback" in line or "SIGTERM received" in line for line in err), "".join(err)


# ---- small things: bench's text, the rendering warning ----------------------------------------


def test_bench_text_prints_every_result():
    from wann.cli.commands import format_bench

    work = {
        "genomes": 192,
        "nodes": 7,
        "connections": 3,
        "env_steps_per_generation": 12345,
        "network_steps_per_cpu_s": 2e7,
        "numpy_network_steps_per_cpu_s": 5e4,
        "speedup_vs_numpy": 400.0,
        "env_share": 0.6,
    }
    r = {
        "unit": "network-timesteps per CPU-second",
        "fresh": work,
        "champion": work,
        "committed_champion": work,
        "scaling": {"serial_s": 1.0, "ray1_s": 1.2, "ray2_s": 0.6, "ray1_over_serial": 1.2, "ray2_over_serial": 0.6},
    }
    text = format_bench(r)
    for words in ("network-timesteps per CPU-second", "fresh", "champion:", "committed_champion", "12345", "x1.20"):
        assert words in text, words
    assert text.count("environment share") == 3 and "x0.60" in text


def test_render_mode_human_warns_once(tmp_path, monkeypatch, capsys):
    from wann.cli.commands import warn_rendering

    spec = {"name": "CartPole-v1", "env_kwargs": {"render_mode": "human"}}
    warn_rendering([spec, spec], "search")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "slower" in lines[0] and "wann evaluate" in lines[0]
    warn_rendering([{"name": "CartPole-v1", "env_kwargs": {"render_mode": "rgb_array"}}, {"name": "x"}], "search")
    assert capsys.readouterr().err == ""
    exp = tmp_path / "e.toml"
    exp.write_text(
        'name = "r"\nseed = 0\n[task]\nname = "CartPole-v1"\nenv_kwargs = { render_mode = "human" }\n'
        '[search]\npopulation = 8\ngenerations = 1\n[execution]\nexecutor = "serial"\n'
    )

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("wann.search.run.make_executor", stop)
    assert main(["search", str(exp), "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and 'render_mode = "human"' in err[0] and err[1].startswith("interrupted")
