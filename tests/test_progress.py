"""Progress a person can read: the search line fits 100 columns (swing-up and digits), a resumed
run says from where, a study prints one line per event off a terminal and a live view on one,
and training (CMA-ES, Adam) reports at most every few seconds without changing a number."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest

from wann.executor import SerialExecutor
from wann.genome import Genome
from wann.search.experiment import Experiment, SearchSettings
from wann.search.reporters import WIDTH, ProgressLine, format_progress
from wann.search.run import run_search

SWINGUP = Experiment(name="p", seed=1, search=SearchSettings(population=16, generations=3))
DIGITS = Experiment(
    name="pd", seed=0, task={"name": "digits", "batch_size": 200}, search=SearchSettings(population=16, generations=3)
)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def _screen_lines(text: str) -> list[str]:
    return [x for x in re.split(r"[\r\n]", text) if x.strip()]


@pytest.mark.parametrize("exp", [SWINGUP, DIGITS], ids=["swingup", "digits"])
@pytest.mark.parametrize("stream", [io.StringIO, Terminal], ids=["log", "terminal"])
def test_search_progress_line_fits_100_columns(exp, stream):
    out = stream()
    run_search(exp, executor=SerialExecutor(exp.task), progress=False, reporters=[ProgressLine(out)])
    lines = _screen_lines(out.getvalue())
    assert lines and max(len(x) for x in lines) <= WIDTH, lines
    last = lines[-1]
    for field in ("gen 3/3", "best", "mean", "conns", "ep/s", "eta"):
        assert field in last, (field, last)
    if exp is DIGITS:  # fitness is -cross-entropy: shown as the cross-entropy, labelled
        assert "xent" in last
        xent = float(last.split("best")[1].split()[0])
        assert xent > 0
        assert 0.0 <= float(last.split("train acc")[1].split()[0]) <= 1.0  # and the champion's accuracy
    else:
        assert "xent" not in last and "acc" not in last
    if stream is Terminal:
        assert "\r" in out.getvalue() and out.getvalue().endswith("\n")


def test_progress_line_fits_at_the_extremes():
    report = {
        "generation": 99998,
        "best_fitness": -123456.789,
        "mean_fitness": -98765.4321,
        "best_ever_fitness": 1e9,
        "best_connections": 12345,
        "workers": 128,
        "restarts": 7,
    }
    for xent in (False, True):
        line = format_progress(report, 99999, 3600 * 250.0, 3.2e6, xent=xent, distributed=True)
        assert len(line) <= WIDTH and "gen 99999/99999" in line and "eta" in line, line
    typical = {"best_fitness": 812.5, "mean_fitness": 301.25, "best_ever_fitness": 845.0, "best_connections": 3}
    small = format_progress({**report, **typical, "generation": 2}, 10, 5.0, 12.0, distributed=True)
    assert "ever" in small and " w128 r7" in small and len(small) <= WIDTH


def test_classification_progress_and_metrics_carry_the_champions_training_accuracy(tmp_path):
    import csv

    from wann.search.reporters import ACCURACY_COLUMN
    from wann.search.tensorboard import tensorboard_tags
    from wann.tasks import task_from_spec

    out = io.StringIO()
    run_search(
        DIGITS, tmp_path / "d", executor=SerialExecutor(DIGITS.task), progress=False, reporters=[ProgressLine(out)]
    )
    rows = list(csv.DictReader(open(tmp_path / "d" / "metrics.csv", newline="")))
    task = task_from_spec(DIGITS.task)
    champion = Genome.load(tmp_path / "d" / "champion.json")
    want = float(np.mean(task.accuracy(champion, np.asarray(DIGITS.search.shared_weights), split="train")))
    assert float(rows[-1][ACCURACY_COLUMN]) == pytest.approx(want, abs=1e-6)  # the whole training split
    assert all(0.0 <= float(r[ACCURACY_COLUMN]) <= 1.0 for r in rows)
    last = _screen_lines(out.getvalue())[-1]
    assert f"train acc {want:.2f}" in last and len(last) <= WIDTH
    assert tensorboard_tags(rows[-1])[ACCURACY_COLUMN] == "accuracy/champion_train"
    # the paper's MNIST length (4096 generations) still has room for it; RL rows have no such column
    report = {**{k: float(v) for k, v in rows[-1].items() if k != "objective" and v}, "generation": 4000}
    report["best_connections"] = 2345
    line = format_progress(report, 4096, 36000.0, 12345.0, xent=True, distributed=True)
    assert "train acc" in line and "eta" in line and len(line) <= WIDTH, line
    run_search(SWINGUP, tmp_path / "s", executor=SerialExecutor(SWINGUP.task), progress=False)
    assert ACCURACY_COLUMN not in (tmp_path / "s" / "metrics.csv").read_text().splitlines()[0]


def test_an_older_classification_run_without_the_accuracy_column_resumes(tmp_path):
    """A run folder from before the accuracy column: resuming rewrites metrics.csv once with the
    new column, blank in the earlier rows, and the file still reads (and plots)."""
    import csv

    from wann.analysis.run_plot import read_run
    from wann.search.reporters import ACCURACY_COLUMN

    run = tmp_path / "d"
    ex = SerialExecutor(DIGITS.task)
    run_search(DIGITS, run, executor=ex, progress=False, stop_after=2)
    rows = list(csv.DictReader(open(run / "metrics.csv", newline="")))
    cols = [c for c in rows[0] if c != ACCURACY_COLUMN]
    with open(run / "metrics.csv", "w", newline="") as f:  # as an older version wrote it
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    run_search(DIGITS, run, executor=ex, progress=False, resume=True)
    again = list(csv.DictReader(open(run / "metrics.csv", newline="")))
    assert [r["generation"] for r in again] == ["0", "1", "2"]
    assert [r[ACCURACY_COLUMN] for r in again[:2]] == ["", ""] and 0 <= float(again[2][ACCURACY_COLUMN]) <= 1
    assert [r["best_fitness"] for r in again[:2]] == [r["best_fitness"] for r in rows[:2]]
    acc = read_run(run).columns[ACCURACY_COLUMN]
    assert np.isnan(acc[:2]).all() and np.isfinite(acc[2])


def test_resumed_search_says_from_which_generation(tmp_path):
    ex = SerialExecutor(SWINGUP.task)
    first = io.StringIO()
    run_search(SWINGUP, tmp_path / "r", executor=ex, progress=False, stop_after=2, reporters=[ProgressLine(first)])
    assert "resumed" not in first.getvalue()
    again = io.StringIO()
    run_search(SWINGUP, tmp_path / "r", executor=ex, progress=False, resume=True, reporters=[ProgressLine(again)])
    head = again.getvalue().splitlines()[0]
    assert head.startswith("resumed at generation 2/3") and str(tmp_path / "r") in head
    assert "gen 3/3" in again.getvalue()


# ---- studies ------------------------------------------------------------------------------------

CELL_DONE = re.compile(
    r"^\[(\d+)/(\d+) cells done \| (\d+) running \| (\d+) failed \| \d+:\d\d:\d\d elapsed \| ~(\S+) left\] "
    r"(\S+) (?:[\d.]+ s|FAILED: .*)$"
)
CELL_STARTED = re.compile(r"^\[\d+/\d+ cells done \| .* left\] started (\S+)$")


def test_study_off_a_terminal_prints_one_line_per_event(tmp_path):
    from wann.study.plan import plan
    from wann.study.progress import ProgressLines
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    study = load_study(_tiny_study(tmp_path))
    out = io.StringIO()
    res = run_study(study, progress=False, reporters=[ProgressLines(out, heartbeat_s=0)])
    lines = out.getvalue().splitlines()
    n = len(plan(study))
    assert "\r" not in out.getvalue()
    assert lines[0].startswith(f"study tiny-progress: {n} cells (0 already done, {n} to run)")
    assert lines[-1].startswith(f"study: {n}/{n} cells done, 0 failed, 0 skipped; table ")
    body = lines[1:-1]
    assert len(body) == 2 * n  # one line when a cell starts, one when it finishes
    started = [CELL_STARTED.match(x).group(1) for x in body if "] started " in x]
    done = [CELL_DONE.match(x) for x in body if "] started " not in x]
    assert all(done) and sorted(started) == sorted(m.group(6) for m in done) == sorted(c.id for c in plan(study))
    assert [int(m.group(1)) for m in done] == list(range(1, n + 1)) and res.done == n


class _Study:
    name, out = "fake", Path("/tmp/fake-study")


def _info(cells=3):
    return {"study": _Study(), "cells": cells, "done": 0, "todo": cells, "concurrency": 2}


def _cell(i, kind="dense"):
    from wann.study.plan import Cell

    return Cell(f"t/{kind}/4/s{i}", "t", kind, i, "4")


def _status(done, running, pending=()):
    return {"done": done, "running": running, "failed": 0, "pending": list(pending)}


def test_study_heartbeat_lists_running_cells_when_quiet():
    from wann.study.progress import ProgressLines

    out = io.StringIO()
    p = ProgressLines(out, display="lines", heartbeat_s=0.2, refresh_s=0.05)
    a, b = _cell(0), _cell(1)
    p.start(_info())
    p.cell_started(a, _status(0, 1, [b]))
    time.sleep(0.5)
    p.cell_done(a, {"wall_s": 0.5}, None, _status(1, 0, [b]))
    p.close()
    text = out.getvalue()
    beats = [x for x in text.splitlines() if "] running: " in x]
    assert beats and all(f"{a.id} 0:00:0" in x for x in beats)
    assert "\r" not in text


@pytest.mark.parametrize("display", ["status", "live"])
def test_study_terminal_view_shows_running_cells_and_time_left(display):
    if display == "live":
        pytest.importorskip("rich")
    from wann.study.progress import ProgressLines

    out = Terminal()
    p = ProgressLines(out, display=display, refresh_s=0.05)
    a, b, c = _cell(0), _cell(1), _cell(2)
    p.start(_info())
    p.cell_started(a, _status(0, 1, [b, c]))
    p.cell_done(a, {"wall_s": 2.0}, None, _status(1, 0, [b, c]))
    p.cell_started(b, _status(1, 1, [c]))
    time.sleep(0.4)
    live = out.getvalue()
    p.cell_done(b, None, "Traceback\nRuntimeError: boom", _status(1, 0, [c]))
    p.close()
    text = out.getvalue()
    assert b.id in live and "0:00:00" in live  # the running cell and its elapsed time
    assert "~0:00:0" in live  # the time left: c costs about as much as a (2 s of the same kind)
    finished = [x for x in re.split(r"[\r\n]", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)) if "cells done" in x]
    assert any(CELL_DONE.match(x.strip()) and x.strip().endswith(f"{a.id} 2.0 s") for x in finished)
    assert any(x.strip().endswith("FAILED: RuntimeError: boom") for x in finished)
    assert p._thread is None and p._live is None


def test_eta_counts_pending_and_what_running_cells_have_left():
    from wann.study.progress import CellTimes

    t = CellTimes()
    assert np.isnan(t.eta([_cell(0)], 1))  # nothing known yet
    t.add(_cell(0), 10.0)
    assert t.eta([_cell(1), _cell(2)], 2) == pytest.approx(10.0)
    assert t.eta([_cell(1)], 1, [(_cell(2), 4.0)]) == pytest.approx(16.0)
    assert t.eta([], 1, [(_cell(2), 40.0)]) == 0.0
    # an unseen kind costs the median of the finished cells that are not searches
    t.add(_cell(9, "search"), 1000.0)
    assert t.eta([_cell(3, "lottery_ticket")], 1) == pytest.approx(10.0)
    assert t.eta([_cell(4, "search")], 1) == pytest.approx(1000.0)


def test_running_cells_show_their_own_progress_and_time_left(tmp_path):
    """A running cell's progress file (`wann.study.cell_progress`): a search's generation k/N and
    its own time left, a training cell's last message; the study's time left uses the cell's own."""
    from wann.study.cell_progress import CellProgress, SearchCellProgress, progress_file, read_progress
    from wann.study.progress import ProgressLines

    class Study:
        name, out = "fake", tmp_path

    search, train = _cell(0, "search"), _cell(1, "dense")
    p = ProgressLines(io.StringIO(), display="lines", heartbeat_s=0, refresh_s=0)
    p.start({"study": Study(), "cells": 3, "done": 0, "todo": 3, "concurrency": 2})
    p.cell_started(search, _status(0, 1))
    p.cell_started(train, _status(0, 2))
    assert p.cell_line(search, 5.0) == f"{search.id} 0:00:05"  # nothing written yet, nothing known
    sp = SearchCellProgress(CellProgress(tmp_path, search.file, every_s=0))
    sp.start({"start": 10, "total": 250})
    sp.t0 -= 30.0  # 30 s for 30 generations since it resumed at 10: 1 s each, 210 to go
    sp.generation(None, {"generation": 39, "best_ever_fitness": 12.5})
    doc = read_progress(tmp_path, search.file)
    assert doc["done"] == 40 and doc["total"] == 250 and doc["eta_s"] == pytest.approx(210.0, rel=0.01)
    assert re.fullmatch(rf"{re.escape(search.id)} 0:01:00 gen 40/250 ~0:03:(29|30) left", p.cell_line(search, 60.0))
    tp = CellProgress(tmp_path, train.file, every_s=0)
    tp.message("dense: generation 3/20, 96/640 episodes, candidates' mean return 21.0 (best 40.0)")
    assert p.cell_line(train, 7.0).endswith(
        "dense: generation 3/20, 96/640 episodes, candidates' mean return 21.0 (best 40.0)"
    )
    assert "dense: generation" not in p.status_line(500) and "gen 40/250" in p.status_line(500)
    assert p._left().startswith("0:01:4")  # (the search's own ~210 s + the dense cell's unknown 0) / 2 workers
    tp.close()
    assert not progress_file(tmp_path, train.file).exists() and read_progress(tmp_path, train.file) is None
    p.close()


def test_study_heartbeat_reads_the_running_search_cells_progress(tmp_path, monkeypatch):
    """End to end: while a (serial) study runs its search cell, the heartbeat line shows the
    cell's generation k/N and time left from the file the cell writes; no progress file is left."""
    import wann.study.cell_progress as cp
    from wann.study.progress import ProgressLines
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    monkeypatch.setattr(cp, "EVERY_S", 0.0)
    study = load_study(_tiny_study(tmp_path, seeds="[0]", methods='["wann_best_shared"]', generations=40))
    out = io.StringIO()
    res = run_study(
        study, progress=False, reporters=[ProgressLines(out, display="lines", heartbeat_s=0.05, refresh_s=0.02)]
    )
    assert not res.failed
    beats = [x for x in out.getvalue().splitlines() if "] running: cp/search/-/s0 " in x]
    shown = [re.search(r"gen (\d+)/40 ~\d+:\d\d:\d\d left", x) for x in beats]
    assert any(shown), beats[-3:]
    assert not (res.out / cp.PROGRESS_DIR).exists()


# ---- training -----------------------------------------------------------------------------------


def test_cmaes_progress_is_throttled_and_changes_nothing(monkeypatch):
    import wann.baselines.cmaes as cm
    from wann.baselines import rl
    from wann.tasks import make_task

    task = make_task("CartPole-v1")
    ex = SerialExecutor(task.spec())
    quiet = rl.train_dense(ex, task, [4], 256, seed=0, test_episodes=3)
    monkeypatch.setattr(cm, "PROGRESS_EVERY_S", 0.0)
    msgs: list[str] = []
    loud = rl.train_dense(ex, task, [4], 256, seed=0, test_episodes=3, progress=msgs.append)
    assert np.array_equal(quiet.network.weights, loud.network.weights) and quiet.score == loud.score
    gens = [m for m in msgs if ": generation " in m]
    assert gens and re.search(r"generation \d+/\d+, \d+/256 episodes, candidates' mean return", gens[0])
    assert any("% of 256 episodes" in m for m in msgs)  # the checkpoint messages stay
    monkeypatch.setattr(cm, "PROGRESS_EVERY_S", 3600.0)
    msgs.clear()
    rl.train_dense(ex, task, [4], 256, seed=0, test_episodes=3, progress=msgs.append)
    assert not [m for m in msgs if ": generation " in m]


def test_adam_progress_is_throttled_and_changes_nothing(monkeypatch):
    pytest.importorskip("torch")
    import wann.baselines.cmaes as cm
    from wann.baselines import supervised as sv
    from wann.tasks import make_task

    task = make_task("wine")
    quiet = sv.train_parent(task, [8], 3, seed=0)
    monkeypatch.setattr(cm, "PROGRESS_EVERY_S", 0.0)
    msgs: list[str] = []
    loud = sv.train_parent(task, [8], 3, seed=0, progress=msgs.append)
    assert np.array_equal(quiet.result.network.weights, loud.result.network.weights)
    assert quiet.result.score == loud.result.score and quiet.result.checkpoints == loud.result.checkpoints
    steps = [m for m in msgs if " examples (epoch " in m]
    assert steps and re.match(r"dense: \d+/\d+ examples \(epoch [\d.]+ of 3\), minibatch loss [\d.]+$", steps[0])
    assert any("test accuracy" in m for m in msgs)


def _tiny_study(folder: Path, seeds="[0, 1]", methods='["wann_best_shared", "dense"]', generations=2) -> Path:
    (folder / "cp.toml").write_text(
        f'name = "cp"\n[task]\nname = "CartPole-v1"\n[search]\npopulation = 12\ngenerations = {generations}\n'
        'rollouts = 1\n[execution]\nexecutor = "serial"\n'
    )
    p = folder / "study.toml"
    p.write_text(
        f'[study]\nname = "tiny-progress"\nseeds = {seeds}\nmethods = {methods}\nsizes = [1.0]\n'
        f'test_episodes = 3\nlandscape_episodes = 0\nout = "{folder / "run"}"\n'
        '[execution]\nexecutor = "serial"\n'
        '[[tasks]]\nlabel = "cp"\nsearch = "cp.toml"\nbudget = 64\ndense = [[4]]\n'
    )
    return p


def test_every_classification_recipe_reports_its_training_and_changes_nothing(monkeypatch):
    """A study's torch cell (wine, a 4-unit MLP) says where its training is, for every recipe
    that trains: dense parents, pruned nets round by round, tickets and their control, SNIP, the
    random mask, one-shot pruning, and the champion's tuned / retrained weights."""
    pytest.importorskip("torch")
    import wann.baselines.cmaes as cm
    from wann import activations
    from wann.baselines.recipes import Context, run
    from wann.tasks import make_task
    from wann.weighted import mlp_genome

    task = make_task("wine")
    champion = mlp_genome(task.n_inputs, [3], task.n_outputs, activations.TANH)
    ex = SerialExecutor(task.spec())
    methods = [
        ("dense", None), ("pruned_magnitude", None), ("lottery_ticket", None), ("ticket_random_init", None),
        ("random_sparse", None), ("snip", None), ("pruned_at", 0.5), ("wann_tuned", None), ("wann_retrained", None),
    ]  # fmt: skip

    def ctx(progress, at):
        return Context(task, ex, 0, 0, 2, champion=champion, target=40, hidden=[4], progress=progress, at=at)

    monkeypatch.setattr(cm, "PROGRESS_EVERY_S", 0.0)
    for name, at in methods:
        msgs: list[str] = []
        loud = run(name, ctx(msgs.append, at))[0]
        assert any(" examples (epoch " in m for m in msgs), (name, msgs[:3])
        assert any(m.startswith(f"{name}") and "test accuracy" in m for m in msgs), (name, msgs[-3:])
        if name in ("pruned_magnitude", "snip", "wann_tuned"):  # reporting changes no number
            quiet = run(name, ctx(None, at))[0]
            assert np.array_equal(quiet.network.weights, loud.network.weights) and quiet.score == loud.score, name
        if name == "pruned_magnitude":
            assert any(re.match(r"pruned_magnitude round 2/\d+: ", m) for m in msgs)


def test_classification_search_ends_with_its_cross_entropy_not_a_reward(tmp_path, capsys):
    from wann.cli import main

    exp = tmp_path / "dg.toml"
    exp.write_text('name = "dg"\n[task]\nname = "wine"\n[search]\npopulation = 8\ngenerations = 1\n')
    assert main(["search", str(exp), "--out", str(tmp_path / "run"), "--quiet", "--executor", "serial"]) == 0
    done = [x for x in capsys.readouterr().out.splitlines() if x.startswith("done:")]
    assert done and "best cross-entropy" in done[0] and "reward" not in done[0]
