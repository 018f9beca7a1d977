"""The comparison driver (`wann compare`), the study file and the report, on a tiny real study."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from wann.errors import ConfigError
from wann.study.plan import plan
from wann.study.results import COLUMNS, read_table
from wann.study.scheduler import run_study
from wann.study.spec import load_study

ROOT = Path(__file__).resolve().parents[1]
WINE = ROOT / "experiments/results/wine/champion.json"

SEARCH = """
name = "cp"
[task]
name = "CartPole-v1"
[search]
population = 16
generations = 3
rollouts = 1
[execution]
executor = "serial"
"""

STUDY = """
[study]
name = "tiny"
seeds = [0, 1]
methods = {methods}
sizes = [1.0]
test_episodes = 5
landscape_episodes = {landscape}
out = "run"

[execution]
executor = "serial"

[[tasks]]
label = "cartpole"
search = "cp.toml"
budget = 512
dense = [[4]]

[[tasks]]
label = "wine"
champion = "{wine}"
budget = 128
epochs = 4
dense = [[8]]
"""

ALL = (
    '["wann_best_shared", "wann_random_individual", "wann_tuned", "dense", "small_dense", "pruned_magnitude", '
    '"lottery_ticket", "random_sparse"]'
)


def write_study(folder: Path, methods: str = ALL, landscape: int = 0, **replace) -> Path:
    (folder / "cp.toml").write_text(SEARCH)
    text = STUDY.format(methods=methods, landscape=landscape, wine=WINE)
    for a, b in replace.items():
        text = text.replace(a, b)
    p = folder / "study.toml"
    p.write_text(text)
    return p


def finals(run: Path) -> dict[tuple, float]:
    t = read_table(run)
    keep = t["final"].astype(bool)
    keys = zip(t["task"][keep], t["method"][keep], t["size"][keep], t["seed"][keep])
    return {k: float(s) for k, s in zip(keys, t["score"][keep])}


# ---- the study file: one clear error before any work ------------------------------------------


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({'"dense", ': '"dense", "pruned_magnitud", '}, "study.methods", "Did you mean 'pruned_magnitude'"),
        ({'"dense", ': '"dense_large", '}, "study.methods", "dense = [["),
        ({"seeds = [0, 1]": "seeds = []"}, "study.seeds", "grid is empty"),
        ({ALL: "[]"}, "study.methods", "grid is empty"),
        ({"sizes = [1.0]": "sizes = []"}, "study.sizes", "grid is empty"),
        ({'name = "CartPole-v1"': 'name = "CartPole-v9"'}, "task", "CartPole"),
        ({'search = "cp.toml"': 'search = "nope.toml"'}, "tasks[0].search", "does not exist"),
        ({"budget = 512": "budget = 0"}, "tasks[0].budget", "in [1, "),
        ({"dense = [[4]]": "dense = [4]"}, "tasks[0].dense", "widths"),
        ({"test_episodes": "test_episode"}, "study.test_episode", "did you mean 'test_episodes'"),
    ],
)
def test_bad_study_is_refused_naming_the_field(tmp_path, change, field, words):
    p = write_study(tmp_path)
    text = p.read_text()
    for a, b in change.items():
        if a in text:
            text = text.replace(a, b)
        else:  # the search experiment
            (tmp_path / "cp.toml").write_text(SEARCH.replace(a, b))
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_study(p)
    assert field in e.value.field and words in str(e.value)
    assert not (tmp_path / "run").exists()


def test_unknown_task_in_study(tmp_path):
    p = write_study(tmp_path)
    p.write_text(p.read_text().replace(f'champion = "{WINE}"', 'champion = "missing.json"'))
    with pytest.raises(ConfigError, match=r"tasks\[1\].champion.*does not exist"):
        load_study(p)


def test_plan_dependencies(tmp_path):
    study = load_study(write_study(tmp_path))
    cells = {c.id: c for c in plan(study)}
    lt = cells["cartpole/lottery_ticket/1x/s0"]
    assert lt.deps == ["cartpole/search/-/s0", "cartpole/dense/4/s0"]  # IMP from the dense parent
    assert cells["cartpole/pruned_magnitude/1x/s0"].parent == "cartpole/dense/4/s0"
    assert cells["cartpole/dense/4/s0"].deps == []
    # a fixed champion: no search cells; classification pruning retrains its parent in-cell
    assert not any(c.startswith("wine/search") for c in cells)
    assert cells["wine/pruned_magnitude/1x/s1"].deps == []
    order = list(cells)
    for c in cells.values():
        assert all(order.index(d) < order.index(c.id) for d in c.deps)


# ---- a real run, serial and on Ray -------------------------------------------------------------


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    study = load_study(write_study(folder, landscape=1))
    res = run_study(study, progress=False)
    return folder, study, res


def test_serial_study_table(serial_run):
    import pandas as pd

    folder, study, res = serial_run
    assert not res.failed and not res.skipped
    df = pd.read_parquet(folder / "run/results.parquet")
    assert list(df.columns) == list(COLUMNS)
    assert len(pd.read_csv(folder / "run/results.csv")) == len(df)
    # one row per cell x method x checkpoint; a training cell has 10/25/50/100 % rows
    dense = df[(df.task == "cartpole") & (df.method == "dense")]
    assert sorted(set(dense.fraction)) == [0.25, 0.5, 1.0] or sorted(set(dense.fraction)) == [0.1, 0.25, 0.5, 1.0]
    assert dense.final.sum() == 2 and dense[dense.final].fraction.eq(1.0).all()
    assert (dense.connections == 4 * 5 + 2 * 5).all()  # 4-4-2 with biases
    fin = df[df.final]
    for col in ("score", "connections", "hidden_nodes", "inputs_used", "flops_per_step", "latency_us"):
        assert fin[col].notna().all(), col
    trained = fin[~fin.method.str.startswith("wann_") | (fin.method == "wann_tuned")]
    assert (trained.episodes > 0).all() and (trained.cpu_s > 0).all()
    # sized rows hit their target; pruned rows carry their dense parent's cost
    pm = fin[fin.method == "pruned_magnitude"]
    assert (pm.connections <= pm.target_connections).all()
    assert (pm[pm.task == "cartpole"].parent_episodes > 0).all()
    assert pm.shared_signed.notna().all() and pm.shared_positive.notna().all()
    wann = fin[(fin.method == "wann_best_shared") & (fin.task == "cartpole")]
    assert (wann.search_episodes > 0).all() and wann.shared_weight.notna().all()
    assert set(fin[fin.task == "wine"].method) >= {"wann_ensemble", "dense", "lottery_ticket"}
    # classification: the pruned nets come from the study's dense parent (4-8-3 for wine), which
    # the cell retrains deterministically: the same cost as the dense cell's, on the same shape
    doc = json.loads((folder / "run/cells/wine__dense__8__s0.json").read_text())
    assert doc["landscape"]["dense"]["hessian_top"] > 0
    wine = fin[fin.task == "wine"]
    sparse = wine[wine.method.isin(["pruned_magnitude", "lottery_ticket", "random_sparse"])]
    assert (sparse.hidden_nodes <= 8).all() and (
        sparse.parent.str.startswith("wine/dense/8/")
        | (sparse.method == "random_sparse")
        | (sparse.method == "lottery_ticket")
    ).all()
    dense_cost = wine[wine.method == "dense"].set_index("seed").episodes
    pm = wine[wine.method == "pruned_magnitude"].set_index("seed")
    assert (pm.parent_episodes == dense_cost.loc[pm.index]).all()
    for kind in ("pruned_magnitude", "lottery_ticket", "random_sparse"):
        for f in (folder / "run/cells").glob(f"wine__{kind}__*.json"):
            for net in json.loads(f.read_text())["networks"].values():
                assert sum(n["kind"] == "hidden" for n in net["genome"]["nodes"]) == 8, f.name


def test_rerun_skips_finished_cells_and_kill_resume_is_exact(serial_run, tmp_path):
    folder, study, res = serial_run
    before = {p.name: p.stat().st_mtime_ns for p in (folder / "run/cells").glob("*.json")}
    again = run_study(study, progress=False)
    assert again.done == res.done
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "run/cells").glob("*.json")} == before
    # stop after a few cells (a killed run), then resume: the same scores as the uninterrupted run
    other = load_study(write_study(tmp_path, landscape=1))
    part = run_study(other, progress=False, max_cells=5)
    assert part.done == 5
    run_study(other, progress=False)
    assert finals(tmp_path / "run") == finals(folder / "run")


def test_results_folder_of_another_study_is_refused(serial_run, tmp_path):
    folder, _, _ = serial_run
    p = write_study(tmp_path, **{"budget = 512": "budget = 256"})
    study = load_study(p, out=folder / "run")
    before = sorted((folder / "run/cells").iterdir())
    meta = (folder / "run/study.json").read_text()
    with pytest.raises(ConfigError, match="different study"):
        run_study(study, progress=False)
    assert sorted((folder / "run/cells").iterdir()) == before
    assert (folder / "run/study.json").read_text() == meta


def test_failed_cell_is_reported_dependents_skipped_and_retried(tmp_path, monkeypatch):
    import wann.study.scheduler as cmp

    study = load_study(write_study(tmp_path, methods='["dense", "pruned_magnitude", "lottery_ticket"]'))
    real = cmp.run_cell

    def broken(cell, *a, **k):
        if cell.id == "cartpole/dense/4/s0":
            raise RuntimeError("boom")
        return real(cell, *a, **k)

    monkeypatch.setattr(cmp, "run_cell", broken)
    res = run_study(study, progress=False)
    assert list(res.failed) == ["cartpole/dense/4/s0"] and "boom" in res.failed["cartpole/dense/4/s0"]
    assert set(res.skipped) == {"cartpole/pruned_magnitude/1x/s0", "cartpole/lottery_ticket/1x/s0"}
    assert (tmp_path / "run/cells/cartpole__dense__4__s0.json.failed").exists()
    monkeypatch.setattr(cmp, "run_cell", real)
    res = run_study(study, progress=False)
    assert not res.failed and not res.skipped
    assert not (tmp_path / "run/cells/cartpole__dense__4__s0.json.failed").exists()


@pytest.mark.ray
def test_ray_cells_match_serial(serial_run, tmp_path, ray_session):
    folder, _, _ = serial_run
    study = load_study(write_study(tmp_path, landscape=1))
    res = run_study(study, executor="ray", progress=False)
    assert not res.failed
    a, b = finals(tmp_path / "run"), finals(folder / "run")
    assert a.keys() == b.keys()
    assert a == b  # every final score, bit for bit: a cell's numbers do not depend on where it ran


def test_cells_run_with_one_blas_thread_wherever_they_run(monkeypatch):
    # a Ray worker has one BLAS thread (OMP_NUM_THREADS=1 before numpy loads); a cell computed in
    # the driver must too, or CMA-ES's eigendecompositions differ in the last bits and then grow
    from threadpoolctl import threadpool_info

    from wann.study import cell as cell_mod

    seen = []
    monkeypatch.setattr(
        cell_mod, "_run_training", lambda *a: seen.append([p["num_threads"] for p in threadpool_info()]) or {}
    )
    fake = type("C", (), {"kind": "train", "file": "x.json"})()
    cell_mod.run_cell(fake, None, {"out": "."}, {})
    assert seen and seen[0] and all(n == 1 for n in seen[0])


# ---- the report --------------------------------------------------------------------------------


def test_report(serial_run, tmp_path):
    from wann.analysis.report import comparisons, load, write_report

    folder, _, _ = serial_run
    run = tmp_path / "copy"
    shutil.copytree(folder / "run", run)
    md = write_report(run)
    text = md.read_text()
    html = md.with_suffix(".html").read_text()
    assert "## Summary" in text and "## cartpole" in text and "## wine" in text
    assert "best shared weight vs small dense" in text and "ticket vs pruned" in text
    for png in ("cartpole-budget.png", "cartpole-final.png", "cartpole-sizes.png", "wine-landscape.png"):
        assert (md.parent / png).stat().st_size > 5000, png
        assert png in text
    assert "data:image/png;base64," in html and "src='cartpole" not in html
    # the tables' numbers are the statistics of the table
    data = load(run)
    f = data.final
    x = f[(f.task == "cartpole") & (f.method == "dense")].score
    section = text.split("\n## cartpole", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| dense, trained |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == str(len(x)) and float(cells[3]) == pytest.approx(x.mean(), rel=1e-3), row
    comps = comparisons(data)
    holm = [c["p_holm"] for c in comps if c["task"] == "cartpole"]
    raw = [c["p"] for c in comps if c["task"] == "cartpole"]
    assert all(h >= r - 1e-12 for h, r in zip(holm, raw) if np.isfinite(r))


def test_report_of_a_folder_without_a_study(tmp_path):
    from wann.analysis.report import write_report

    with pytest.raises(ConfigError, match="no study"):
        write_report(tmp_path)


def test_killed_driver_resumes_to_the_same_table(serial_run, tmp_path):
    """SIGKILL the `wann compare` process mid-study: finished cells survive, no torn files, and
    the rerun ends with the same scores as an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    folder, _, _ = serial_run
    p = write_study(tmp_path, landscape=1)
    cmd = [sys.executable, "-m", "wann.cli", "compare", str(p), "--executor", "serial", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cells = tmp_path / "run/cells"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cells.glob("*.json"))) < 6:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    survived = sorted(cells.glob("*.json"))
    assert len(survived) >= 6
    for f in survived:
        json.loads(f.read_text())  # every file is whole
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert finals(tmp_path / "run") == finals(folder / "run")


def test_study_reporter_hooks(tmp_path):
    from wann.study.scheduler import StudyReporter

    seen = []

    class Record(StudyReporter):
        def start(self, info):
            seen.append(("start", info["cells"], info["todo"]))

        def cell_done(self, cell, doc, error, status):
            seen.append(("cell", cell.id, doc is not None, status["done"]))

        def end(self, result):
            seen.append(("end", result.done))

    study = load_study(write_study(tmp_path, methods='["wann_best_shared"]'))
    res = run_study(study, progress=False, reporters=[Record()])
    n = len(plan(study))
    assert seen[0] == ("start", n, n) and seen[-1] == ("end", n) == ("end", res.done)
    assert [s[3] for s in seen if s[0] == "cell"] == list(range(1, n + 1)) and all(s[2] for s in seen[1:-1])


def test_cells_of_an_older_format_are_recomputed_and_still_readable(serial_run, tmp_path):
    from wann.analysis.data import load
    from wann.study.results import CELL_FORMAT

    folder, study, res = serial_run
    run = tmp_path / "run"
    shutil.copytree(folder / "run", run)
    cell = run / "cells" / "cartpole__dense__4__s0.json"
    doc = json.loads(cell.read_text())
    doc["format"] = "wann.cell/1"  # made by the recipes before the fair counterparts
    cell.write_text(json.dumps(doc))
    assert len(load(run).cells) == res.done  # the report still reads it
    other = load_study(write_study(tmp_path, landscape=1), out=run)
    again = run_study(other, progress=False, max_cells=1)
    assert again.done == res.done and json.loads(cell.read_text())["format"] == CELL_FORMAT


def test_without_out_a_study_writes_runs_name_in_the_current_directory(tmp_path, monkeypatch, capsys):
    """`wann compare STUDY.toml` without --out (and a study file without `out`) writes to
    runs/NAME under the current directory, never beside the study file (in a checkout, the
    committed results); an explicit --out still goes where it says."""
    from wann.cli import main

    (tmp_path / "files").mkdir()
    study = tmp_path / "files" / "study.toml"
    study.write_text(
        '[study]\nname = "tiny"\nseeds = [0]\nmethods = ["wann_best_shared"]\ntest_episodes = 5\n'
        f'landscape_episodes = 0\n[[tasks]]\nlabel = "wine"\nchampion = "{WINE}"\nbudget = 8\nepochs = 1\n'
    )
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert load_study(study).out == Path("runs") / "tiny"
    assert main(["compare", str(study), "--executor", "serial", "--quiet"]) == 0
    assert (tmp_path / "cwd" / "runs" / "tiny" / "results.parquet").exists()
    assert [p.name for p in (tmp_path / "files").iterdir()] == ["study.toml"]
    assert main(["compare", str(study), "--executor", "serial", "--quiet", "--out", str(tmp_path / "mine")]) == 0
    assert (tmp_path / "mine" / "results.parquet").exists()
    capsys.readouterr()


@pytest.mark.parametrize("name", ["study-small", "study-founding", "study-bipedal", "study-founding-full"])
def test_the_shipped_studies_default_to_runs_and_resume_their_committed_results_by_out(name):
    """The studies in experiments/ write to the uncommitted runs/NAME by default (.gitignore'd),
    and the committed results folder is the same study: `--out experiments/results/NAME` resumes it."""
    study = load_study(ROOT / "experiments" / f"{name}.toml")
    assert study.out == Path("runs") / name
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()
    committed = ROOT / "experiments" / "results" / name / "study.json"
    if committed.exists():
        assert json.loads(committed.read_text())["identity"] == study.identity()
        assert load_study(ROOT / "experiments" / f"{name}.toml", out=committed.parent).out == committed.parent
