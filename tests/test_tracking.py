"""TensorBoard tracking: event files of a search (`wann.search.tensorboard.TensorBoard`) and of a
study (`wann.study.progress.TensorBoardStudy`), read back with TensorBoard's own reader and
compared with metrics.csv and the results table; a clear error without the package."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from wann.errors import ConfigError
from wann.executor import SerialExecutor
from wann.search.experiment import Experiment, SearchSettings
from wann.search.run import run_search
from wann.search.tensorboard import TensorBoard, reporters_from_settings, tensorboard_tags

SMALL = Experiment(name="tb", seed=3, search=SearchSettings(population=16, generations=5))
ROOT = Path(__file__).resolve().parents[1]


def _accumulator(logdir: Path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "tensors": 0})
    ea.Reload()
    return ea


def _metrics(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _assert_scalars_match_metrics(ea, rows):
    tags = tensorboard_tags(rows[0])
    assert "fitness/best" in tags.values() and "shared_weight/best_at_w+1" in tags.values()
    assert set(tags.values()) <= set(ea.Tags()["scalars"])
    for col, tag in tags.items():
        got = {e.step: e.value for e in ea.Scalars(tag)}
        want = {int(r["generation"]): float(r[col]) for r in rows}
        assert sorted(got) == sorted(want), tag
        for step, v in want.items():
            assert got[step] == pytest.approx(v, rel=1e-6, abs=1e-6), (tag, step)  # stored as float32


def test_search_event_files_hold_the_metrics_and_champions(tmp_path):
    pytest.importorskip("tensorboard")
    run, logdir = tmp_path / "run", tmp_path / "tb"
    run_search(SMALL, run, executor=SerialExecutor(SMALL.task), progress=False, reporters=[TensorBoard(logdir)])
    assert list(logdir.glob("events.out.tfevents.*"))
    ea = _accumulator(logdir)
    _assert_scalars_match_metrics(ea, _metrics(run))
    # the champion's structure as text at every generation that improved it
    champs = sorted(int(f.stem.split("-")[1]) for f in (run / "champions").glob("gen-*.json"))
    texts = ea.Tensors("champion")
    assert [t.step for t in texts] == champs
    last = texts[-1].tensor_proto.string_val[0].decode()
    best = json.loads((run / "champion.json").read_text())
    n_enabled = sum(c["enabled"] for c in best["connections"])
    assert f"**{n_enabled} connections**" in last and "->" in last
    assert f"{best['meta']['fitness']:.6g}" in last
    exp_text = ea.Tensors("experiment")[0].tensor_proto.string_val[0].decode()
    assert 'name = "tb"' in exp_text


def test_resumed_search_continues_the_curves_without_doubled_steps(tmp_path):
    pytest.importorskip("tensorboard")
    run, logdir = tmp_path / "run", tmp_path / "tb"
    ex = SerialExecutor(SMALL.task)
    run_search(SMALL, run, executor=ex, progress=False, stop_after=2, reporters=[TensorBoard(logdir)])
    run_search(SMALL, run, executor=ex, progress=False, resume=True, reporters=[TensorBoard(logdir)])
    assert len(list(logdir.glob("events.out.tfevents.*"))) == 2
    ea = _accumulator(logdir)
    rows = _metrics(run)
    assert [int(r["generation"]) for r in rows] == list(range(SMALL.search.generations))
    _assert_scalars_match_metrics(ea, rows)


def test_study_event_files_hold_the_final_scores(tmp_path):
    pytest.importorskip("tensorboard")
    from wann.study.progress import TensorBoardStudy, score_tag
    from wann.study.results import read_table
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    study = load_study(_tiny_study(tmp_path))
    res = run_study(study, progress=False, reporters=[TensorBoardStudy(tmp_path / "tb")])
    assert not res.failed
    ea = _accumulator(tmp_path / "tb")
    scalars = set(ea.Tags()["scalars"])
    t = read_table(res.out)
    keep = t["final"].astype(bool)
    finals = list(zip(*(t[k][keep] for k in ("task", "method", "variant", "seed", "score"))))
    assert finals
    for task, method, variant, seed, score in finals:
        tag = score_tag(task, method, variant)
        got = {e.step: e.value for e in ea.Scalars(tag)}
        assert got[int(seed)] == pytest.approx(float(score), rel=1e-6, abs=1e-6), tag
    assert {"search/cp/best_fitness", "search/cp/connections"} <= scalars
    done = ea.Scalars("progress/cells_done")
    assert [e.value for e in done][-1] == res.done and [e.step for e in done] == list(range(1, res.done + 1))
    assert "study" in ea.Tags()["tensors"]
    # each search cell logged its own per-generation curves beside the study's, as `wann search` does
    for seed in (0, 1):
        logdir = tmp_path / "tb" / "searches" / f"cp-s{seed}"
        assert list(logdir.glob("events.out.tfevents.*")), logdir
        _assert_scalars_match_metrics(_accumulator(logdir), _metrics(res.out / "searches" / f"cp-s{seed}"))


def test_study_search_cells_log_where_the_worker_can_and_never_fail_for_it(tmp_path, capsys):
    """The search cells get the folder through their arguments (`cell_args`, an absolute path);
    a worker that cannot write there runs the cell without curves and says so."""
    pytest.importorskip("tensorboard")
    from wann.study.progress import TensorBoardStudy
    from wann.study.scheduler import run_study
    from wann.study.spec import load_study

    rel = Path("tb-rel")
    tb = TensorBoardStudy(tmp_path / rel)
    assert tb.cell_args() == {"tensorboard": str((tmp_path / rel).resolve())}
    study = load_study(_tiny_study(tmp_path))

    class Unwritable(TensorBoardStudy):
        def cell_args(self):
            (tmp_path / "file").write_text("x")
            return {"tensorboard": str(tmp_path / "file")}  # a file: no folder can be made under it

    res = run_study(study, progress=False, reporters=[Unwritable(tmp_path / "tb2")])
    assert not res.failed and res.done == 4
    assert "no TensorBoard curves" in capsys.readouterr().err


def test_missing_tensorboard_is_one_clear_error_naming_the_flag(tmp_path, monkeypatch):
    import wann.search.tensorboard as rep

    monkeypatch.setattr(rep, "_TB", {})
    for mod in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    with pytest.raises(ConfigError) as e:
        reporters_from_settings(tensorboard=tmp_path / "tb", run_name="r")
    assert e.value.field == "--tensorboard" and "wann[tracking]" in str(e.value)
    assert "\n" not in str(e.value)
    from wann.study.progress import study_reporters_from_settings

    with pytest.raises(ConfigError, match="--tensorboard"):
        study_reporters_from_settings(tensorboard=tmp_path / "tb", name="s")
    assert not (tmp_path / "tb").exists()  # refused before anything was written


def test_reporters_from_settings(tmp_path):
    assert reporters_from_settings() == [] and reporters_from_settings(tensorboard=None, run_name="x") == []
    pytest.importorskip("tensorboard")
    (r,) = reporters_from_settings(tensorboard=tmp_path / "tb", run_name="digits-s0")
    assert isinstance(r, TensorBoard) and r.logdir == tmp_path / "tb" / "digits-s0"
    (f := tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="--tensorboard"):
        reporters_from_settings(tensorboard=f)


def test_tracking_extra_is_pinned_in_pyproject_and_the_lock():
    import tomllib

    from packaging.requirements import Requirement

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (req,) = [Requirement(r) for r in extras["tracking"]]
    assert req.name == "tensorboard" and str(req.specifier).startswith("==")
    assert str(req) in extras["dev"]
    lock = (ROOT / "requirements.lock").read_text()
    assert f"\n{req.name}{req.specifier} \\" in lock  # the lock installs the pinned version
    for dep in ("tensorboard-data-server==", "absl-py==", "markdown==", "werkzeug==", "protobuf==", "grpcio=="):
        assert f"\n{dep}" in lock, dep


def _tiny_study(folder: Path) -> Path:
    (folder / "cp.toml").write_text(
        'name = "cp"\n[task]\nname = "CartPole-v1"\n[search]\npopulation = 12\ngenerations = 2\nrollouts = 1\n'
        '[execution]\nexecutor = "serial"\n'
    )
    p = folder / "study.toml"
    p.write_text(
        '[study]\nname = "tiny-tb"\nseeds = [0, 1]\nmethods = ["wann_best_shared"]\nsizes = [1.0]\n'
        f'test_episodes = 3\nlandscape_episodes = 0\nout = "{folder / "run"}"\n'
        '[execution]\nexecutor = "serial"\n'
        '[[tasks]]\nlabel = "cp"\nsearch = "cp.toml"\nbudget = 64\ndense = [[4]]\n'
    )
    return p
