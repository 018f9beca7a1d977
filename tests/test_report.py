"""`wann report` on the committed study (`experiments/results/study-small`): the regenerated
report is the committed one, the comparisons keep their Holm correction, and folders that are not
a report are refused. Reads the study; writes only into tmp_path."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from wann.analysis.comparisons import comparisons, one_sided, verdict
from wann.analysis.data import load
from wann.analysis.report import REPORT_FILES, write_report
from wann.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
STUDY = "experiments/results/study-small"  # relative: the report names the folder it was made from
COMMITTED = ROOT / STUDY / "report"


#: the run before the fair counterparts, which the committed report compares itself with
EARLIER = "experiments/results/study-small-v1"


def test_regenerated_report_is_the_committed_one(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    earlier = EARLIER if (ROOT / EARLIER / "study.json").exists() else None
    md = write_report(STUDY, tmp_path / "rep", compare_to=earlier)
    out = md.parent
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in COMMITTED.iterdir())
    # the text files byte for byte (the PNGs depend on matplotlib's and freetype's versions)
    for name in ("report.md", "comparisons.json"):
        assert (out / name).read_bytes() == (COMMITTED / name).read_bytes(), name
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "src='cartpole" not in html
    for png in out.glob("*.png"):
        assert png.stat().st_size > 5000, png.name
        assert png.name in md.read_text(), png.name


def test_comparisons_are_holm_corrected_within_each_task():
    comps = comparisons(load(ROOT / STUDY))
    assert comps and {c["task"] for c in comps} == {"cartpole", "swingup", "digits"}
    for c in comps:
        if math.isfinite(c["p"]):
            assert c["p_holm"] >= c["p"] - 1e-12
        words = verdict(c)
        assert words.startswith(("A better", "B better", "equivalent within ±", "inconclusive (n too small to decide)"))
        if one_sided(c) and words.startswith("inconclusive"):
            assert words.endswith(f"all {c['seeds']} seeds favour {one_sided(c)}")
    assert json.loads((COMMITTED / "comparisons.json").read_text())[0].keys() == comps[0].keys()


def test_committed_report_reads_well():
    """The verdicts are the four words, every pre-registered margin is stated, the gap lines are
    percentages within range, the power line is there, and no number prints as nan."""
    text = (COMMITTED / "report.md").read_text()
    assert "no clear difference" not in text and "undecided" not in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "swingup: ±46.6" in text and "cartpole: ±25" in text and "digits: ±0.02 test accuracy" in text
    assert "Power: with 5 seeds per arm" in text
    gaps = re.findall(r"the WANN structure closes (-?\d+) % of the gap", text)
    assert len(gaps) == 3 and all(-100 <= int(g) <= 200 for g in gaps)
    assert "inconclusive (n too small to decide); all 5 seeds favour B" in text  # e.g. digits, A12 = 0


def test_report_of_a_folder_without_a_study(tmp_path):
    with pytest.raises(ConfigError, match="no study"):
        write_report(tmp_path)


def test_report_into_a_folder_that_is_not_a_report(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a wann report"):
        write_report(ROOT / STUDY, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert "report.md" in REPORT_FILES


def test_what_changed_compares_two_runs_verdict_by_verdict(tmp_path):
    from wann.analysis.comparisons import comparisons, verdict
    from wann.analysis.data import load
    from wann.analysis.report import write_report

    run = ROOT / "experiments/results/study-small"
    md = write_report(run, tmp_path / "rep", compare_to=run).read_text()
    section = md.split("## What changed since", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| comparison")]
    comps = comparisons(load(run))
    assert len(rows) == len(comps)
    assert all(verdict(c) in md for c in comps)  # the same run on both sides: the same verdicts


def test_markdown_tables_keep_their_columns(tmp_path):
    """Labels such as 'magnitude |w|' are escaped: every row of a table has the header's columns."""
    import re

    from wann.analysis.report import write_report

    md = write_report(ROOT / "experiments/results/study-small", tmp_path / "rep").read_text()
    cols = None
    for line in md.splitlines():
        if not line.startswith("|"):
            cols = None
            continue
        n = len(re.findall(r"(?<!\\)\|", line))
        cols = cols or n
        assert n == cols, line


def test_champion_drawings_name_the_tasks_inputs():
    """The report draws a champion with its task's input names (digits: the 8 x 8 pixel grid)."""
    import numpy as np

    from wann.analysis.plots import _input_names
    from wann.draw import input_grid_shape
    from wann.genome import Genome
    from wann.tasks import task_from_spec

    data = load(ROOT / STUDY)
    task = task_from_spec(next(t["task"] for t in data.meta["tasks"] if t["label"] == "digits"))
    g = Genome.initial(task.n_inputs, task.n_outputs, np.random.default_rng(0), 0.5)
    names = _input_names(data, "digits", g)
    assert names == list(task.input_names) and input_grid_shape(names, g.n_inputs) == (8, 8)
    assert _input_names(data, "nope", g) is None
    assert _input_names(data, "swingup", g) is None  # another task's inputs do not fit this genome
