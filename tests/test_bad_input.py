"""Bad input, table-driven: every case is one line on stderr, exit code 2, and nothing on disk changed.

Each case builds a small world of files in a fresh folder (a valid run folder, a champion, a
study, ...), damages or misuses one thing, runs the `wann` command line in-process and checks:
exit code 2, exactly one line on stderr (no traceback), and every file in the folder byte-for-byte
and mode-for-mode as before (nothing created, nothing removed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from wann.cli import main
from wann.executor import SerialExecutor
from wann.search.experiment import load_experiment
from wann.search.run import run_search

ROOT = Path(__file__).resolve().parents[1]
WINE = ROOT / "experiments/results/wine/champion.json"

GOOD = """name = "bad"
seed = 1
[task]
name = "swingup"
max_steps = 50
[search]
population = 16
generations = 2
rollouts = 1
[execution]
executor = "serial"
"""


@pytest.fixture(scope="module")
def run_template(tmp_path_factory) -> Path:
    """A finished 2-generation run folder (serial), copied into each case that needs one."""
    base = tmp_path_factory.mktemp("bad-input")
    (base / "e.toml").write_text(GOOD)
    run_search(
        load_experiment(base / "e.toml"), base / "run", executor=SerialExecutor({"name": "swingup"}), progress=False
    )
    return base


def snapshot(folder: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            data = p.read_bytes() if p.is_file() else b""
            out[str(p.relative_to(folder))] = (p.is_dir(), st.st_mode, data)
    return out


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _edit_checkpoint(fn):
    def edit(w: Path):
        ck = w / "run" / "checkpoint.json"
        doc = json.loads(ck.read_text())
        fn(doc)
        ck.write_text(json.dumps(doc))

    return edit


def exp_file(text: str):
    def make(w: Path):
        (w / "x.toml").write_bytes(text.encode() if isinstance(text, str) else text)

    return make


def good_plus(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


def champion_with(**changes):
    def make(w: Path):
        d = json.loads((w / "run" / "champion.json").read_text())
        for k, v in changes.items():
            if k.startswith("meta_"):
                d["meta"][k[5:]] = v
            else:
                d[k] = v
        (w / "g.json").write_text(json.dumps(d))

    return make


def study(text_changes: dict[str, str] | None = None, extra=None):
    base = f"""
[study]
name = "s"
seeds = [0]
methods = ["wann_best_shared"]
out = "out"
[execution]
executor = "serial"
[[tasks]]
label = "wine"
champion = "{WINE}"
budget = 16
epochs = 1
dense = [[4]]
"""

    def make(w: Path):
        text = base
        for a, b in (text_changes or {}).items():
            assert a in text, a
            text = text.replace(a, b)
        (w / "study.toml").write_text(text)
        if extra:
            extra(w)

    return make


def nothing(w: Path) -> None:
    pass


def many(*fns):
    def make(w: Path):
        for f in fns:
            f(w)

    return make


def unlink(rel: str):
    return lambda w: (w / rel).unlink()


def write(rel: str, data: bytes | str):
    def make(w: Path):
        p = w / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())

    return make


S = ["search", "x.toml", "--out", "new"]  # a search from x.toml into a new folder
R = ["search", "e.toml", "--out", "run", "--resume"]  # resume the template run

# (id, setup(world), argv, words the one line must contain)
CASES = [
    # ---- experiment files ----
    ("empty-file", exp_file(""), S, "empty"),
    ("comments-only", exp_file("# nothing\n\n"), S, "empty"),
    ("not-utf8", exp_file(b'name = "\xff\xfe"\n'), S, "not UTF-8"),
    ("not-toml", exp_file("name = \n"), S, "not valid TOML"),
    ("nested-toml", exp_file("a = " + nested(3000) + "\n"), S, "x.toml"),
    ("folder-as-file", lambda w: (w / "x.toml").mkdir(), S, "is a folder"),
    ("missing-file", nothing, S, "does not exist"),
    ("nan-weight", exp_file(good_plus("rollouts = 1", "rollouts = 1\nshared_weights = [nan, 1.0]")), S, "finite"),
    ("inf-weight", exp_file(good_plus("rollouts = 1", "rollouts = 1\nshared_weights = [inf]")), S, "finite"),
    ("huge-weight", exp_file(good_plus("rollouts = 1", "rollouts = 1\nshared_weights = [1e308]")), S, "[-100"),
    ("nan-p-init", exp_file(good_plus("rollouts = 1", "rollouts = 1\np_init = nan")), S, "search.p_init"),
    (
        "nan-conn-prob",
        exp_file(good_plus("rollouts = 1", "rollouts = 1\nconnection_objective_prob = nan")),
        S,
        "finite",
    ),
    ("nan-cull", exp_file(good_plus("rollouts = 1", "rollouts = 1\ncull = nan")), S, "search.cull"),
    ("nan-elite", exp_file(good_plus("rollouts = 1", "rollouts = 1\nelite = -inf")), S, "search.elite"),
    ("nan-variation", exp_file(GOOD + "[variation]\ninsert_node = nan\n"), S, "variation.insert_node"),
    ("huge-population", exp_file(good_plus("population = 16", "population = 1000000000000")), S, "[limits]"),
    ("huge-rollouts", exp_file(good_plus("rollouts = 1", "rollouts = 1000000000")), S, "search.rollouts"),
    ("huge-tournament", exp_file(good_plus("rollouts = 1", "rollouts = 1\ntournament = 1000000000")), S, "tournament"),
    ("tournament-over-pop", exp_file(good_plus("rollouts = 1", "rollouts = 1\ntournament = 17")), S, "population"),
    (
        "lanes-over-bound",
        exp_file(GOOD.replace("population = 16", "population = 90000").replace("rollouts = 1", "rollouts = 200")),
        S,
        "episodes per generation",
    ),
    ("huge-max-steps", exp_file(good_plus("max_steps = 50", "max_steps = 100000000000000000000")), S, "max_steps"),
    ("zero-max-steps", exp_file(good_plus("max_steps = 50", "max_steps = 0")), S, "task.max_steps"),
    ("path-name", exp_file(good_plus('name = "bad"', 'name = "../../X"')), S, "name"),
    ("empty-name", exp_file(good_plus('name = "bad"', 'name = ""')), S, "name"),
    ("seed-too-big", exp_file(good_plus("seed = 1", "seed = 4294967296")), S, "seed"),
    ("negative-seed", exp_file(good_plus("seed = 1", "seed = -1")), S, "seed"),
    ("unknown-key", exp_file(good_plus("rollouts = 1", "rollout = 1")), S, "did you mean"),
    ("search-not-table", exp_file('name = "x"\nsearch = 5\n'), S, "search"),
    ("task-not-table", exp_file('name = "x"\ntask = 5\n'), S, "task"),
    ("nan-task-option", exp_file('[task]\nname = "digits"\ntest_fraction = nan\n'), S, "test_fraction"),
    ("bad-limit", exp_file(GOOD + "[limits]\npopulation = 0\n"), S, "limits.population"),
    # ---- search flags ----
    ("flag-seed", exp_file(GOOD), S + ["--seed", str(2**32)], "--seed"),
    ("flag-generations-0", exp_file(GOOD), S + ["--generations", "0"], "--generations"),
    ("flag-generations-huge", exp_file(GOOD), S + ["--generations", str(10**9)], "--generations"),
    ("flag-workers", exp_file(GOOD), S + ["--workers", "-1"], "--workers"),
    ("flag-not-int", exp_file(GOOD), S + ["--generations", "ten"], "integer"),
    ("resume-no-out", exp_file(GOOD), ["search", "x.toml", "--resume"], "--out"),
    # ---- run folders ----
    ("out-is-file", many(exp_file(GOOD), write("new", "x")), S, "is a file"),
    ("out-holds-champion", many(exp_file(GOOD), write("new/champion.json", "{}")), S, "not empty"),
    ("out-holds-other", many(exp_file(GOOD), write("new/notes.txt", "mine")), S, "not empty"),
    ("out-holds-run", nothing, ["search", "e.toml", "--out", "run"], "--resume"),
    ("resume-missing", nothing, ["search", "e.toml", "--out", "nowhere", "--resume"], "does not exist"),
    ("resume-no-checkpoint", unlink("run/checkpoint.json"), R, "not a resumable run"),
    ("resume-metrics-gone", unlink("run/metrics.csv"), R, "metrics.csv is missing"),
    ("resume-metrics-short", write("run/metrics.csv", "generation\n0\n"), R, "disagree"),
    ("resume-metrics-not-utf8", write("run/metrics.csv", b"generation\n\xff\n"), R, "not UTF-8"),
    ("checkpoint-not-json", write("run/checkpoint.json", "{"), R, "damaged"),
    ("checkpoint-not-utf8", write("run/checkpoint.json", b"\xff\xfe{}"), R, "not UTF-8"),
    ("checkpoint-nested", write("run/checkpoint.json", nested(100_000)), R, "nested too deeply"),
    ("checkpoint-no-state", _edit_checkpoint(lambda d: d.pop("state")), R, "damaged"),
    ("checkpoint-state-list", _edit_checkpoint(lambda d: d.update(state=[1])), R, "damaged"),
    ("checkpoint-no-generation", _edit_checkpoint(lambda d: d["state"].pop("generation")), R, "damaged"),
    ("checkpoint-bad-genome", _edit_checkpoint(lambda d: d["state"]["population"][0].pop("nodes")), R, "damaged"),
    ("checkpoint-population-size", _edit_checkpoint(lambda d: d["state"]["population"].pop()), R, "population"),
    ("checkpoint-wrong-format", _edit_checkpoint(lambda d: d.update(format="x")), R, "not a wann checkpoint"),
    ("checkpoint-other-experiment", _edit_checkpoint(lambda d: d.update(experiment_id="0")), R, "different"),
    ("resume-other-settings", nothing, ["search", "e.toml", "--out", "run", "--resume", "--seed", "9"], "different"),
    # ---- genome files (show / evaluate / train) ----
    ("genome-not-utf8", write("g.json", b"\xff"), ["evaluate", "g.json"], "not UTF-8"),
    ("genome-nested", write("g.json", nested(100_000)), ["show", "g.json"], "nested too deeply"),
    ("genome-folder", lambda w: (w / "g.json").mkdir(), ["show", "g.json"], "is a folder"),
    ("genome-huge-inputs", champion_with(inputs=10**9), ["evaluate", "g.json"], "inputs"),
    ("genome-nan-weights", champion_with(meta_shared_weights=[float("nan")]), ["evaluate", "g.json"], "shared_weights"),
    ("genome-str-weights", champion_with(meta_shared_weights="1"), ["evaluate", "g.json"], "shared_weights"),
    ("genome-bad-task", champion_with(meta_task={"x": 1}), ["evaluate", "g.json"], "meta.task"),
    ("evaluate-seed", champion_with(), ["evaluate", "g.json", "--seed", str(2**63 - 1)], "--seed"),
    ("evaluate-selection-0", champion_with(), ["evaluate", "g.json", "--selection-episodes", "0"], "selection"),
    ("evaluate-episodes-0", champion_with(), ["evaluate", "g.json", "--episodes", "0"], "--episodes"),
    ("show-png-exists", many(champion_with(), write("a.png", "mine")), ["show", "g.json", "--png", "a.png"], "exists"),
    ("show-png-folder", many(champion_with(), write("d/x", "")), ["show", "g.json", "--png", "d"], "folder"),
    ("train-budget-0", champion_with(), ["train", "dense", "--champion", "g.json", "--budget", "0"], "--budget"),
    (
        "train-out-not-empty",
        many(champion_with(), write("t/mine.txt", "x")),
        ["train", "dense", "--champion", "g.json", "--budget", "8", "--out", "t"],
        "already holds",
    ),
    # ---- study files and folders (compare / report) ----
    ("study-empty", write("study.toml", ""), ["compare", "study.toml"], "empty"),
    ("study-not-utf8", write("study.toml", b"\xff"), ["compare", "study.toml"], "not UTF-8"),
    ("study-seed-big", study({"seeds = [0]": "seeds = [4294967296]"}), ["compare", "study.toml"], "study.seeds"),
    ("study-search-int", study({f'champion = "{WINE}"': "search = 5"}), ["compare", "study.toml"], "search"),
    (
        "study-champion-dir",
        study({str(WINE): "cdir"}, lambda w: (w / "cdir").mkdir()),
        ["compare", "study.toml"],
        "folder",
    ),
    (
        "study-champion-binary",
        study({str(WINE): "c.bin"}, write("c.bin", bytes(range(256)))),
        ["compare", "study.toml"],
        "UTF-8",
    ),
    ("study-label-path", study({'label = "wine"': 'label = "../w"'}), ["compare", "study.toml"], "label"),
    ("study-json-damaged", study(None, write("out/study.json", "{")), ["compare", "study.toml"], "damaged"),
    ("study-json-list", study(None, write("out/study.json", "[]")), ["compare", "study.toml"], "damaged"),
    ("study-out-not-empty", study(None, write("out/mine.txt", "x")), ["compare", "study.toml"], "not empty"),
    ("study-out-file", study(None, write("out", "x")), ["compare", "study.toml"], "is a file"),
    ("report-no-study", write("r/x.txt", "x"), ["report", "r"], "no study"),
    ("report-damaged-meta", write("r/study.json", "{"), ["report", "r"], "not valid JSON"),
    ("report-damaged-meta-keys", write("r/study.json", "{}"), ["report", "r"], "damaged"),
    (
        "report-damaged-table",
        many(
            write(
                "r/study.json", json.dumps({"identity": "x", "name": "s", "seeds": [0], "sizes": [1.0], "tasks": []})
            ),
            write("r/results.parquet", "not parquet"),
        ),
        ["report", "r"],
        "damaged",
    ),
]


@pytest.mark.parametrize("setup,argv,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    setup, argv, words, run_template, tmp_path, capsys, monkeypatch
):
    w = tmp_path / "w"
    w.mkdir()
    shutil.copy(run_template / "e.toml", w / "e.toml")
    shutil.copytree(run_template / "run", w / "run")
    setup(w)
    before = snapshot(w)
    monkeypatch.chdir(w)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse
        code = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("wann"), err
    assert words in lines[0], lines[0]
    assert snapshot(w) == before, "a refused command changed files on disk"


def test_cases_cover_the_defect_classes():
    assert len(CASES) >= 80 and len({c[0] for c in CASES}) == len(CASES)


def test_debug_shows_the_traceback_and_bugs_say_so(tmp_path, capsys, monkeypatch):
    from wann import cli
    from wann.errors import ConfigError

    with pytest.raises(ConfigError):
        main(["--debug", "search", str(tmp_path / "missing.toml")])

    def bug(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "show", bug)
    assert main(["show", "g.json"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "internal error RuntimeError: boom second line" in lines[0] and "--debug" in lines[0]
