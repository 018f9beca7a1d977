"""`wann report` on the committed study (`experiments/results/study-small`): the regenerated
report is the committed one, the comparisons keep their Holm correction, and folders that are not
a report are refused. Reads the study; writes only into tmp_path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from wann.analysis.comparisons import comparisons, verdict
from wann.analysis.data import load
from wann.analysis.report import REPORT_FILES, write_report
from wann.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
STUDY = "experiments/results/study-small"  # relative: the report names the folder it was made from
COMMITTED = ROOT / STUDY / "report"


def test_regenerated_report_is_the_committed_one(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    md = write_report(STUDY, tmp_path / "rep")
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
        assert verdict(c) in ("A better", "B better", "no clear difference", "undecided")
    assert json.loads((COMMITTED / "comparisons.json").read_text())[0].keys() == comps[0].keys()


def test_report_of_a_folder_without_a_study(tmp_path):
    with pytest.raises(ConfigError, match="no study"):
        write_report(tmp_path)


def test_report_into_a_folder_that_is_not_a_report(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a wann report"):
        write_report(ROOT / STUDY, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert "report.md" in REPORT_FILES
