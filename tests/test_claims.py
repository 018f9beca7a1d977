"""The pre-registered claims (`wann.analysis.claims`) on synthetic studies whose truth is known:
a clear A > B is supported, the reverse refuted, identical arms equivalent, too few seeds
inconclusive with a power statement; Holm within each task; the study axes' columns filled for
an older table and only base rows in the old tables; and the report of a study with claims and
axes, end to end."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps
from synthetic_study import arms, row, task_meta, write_study

from wann.analysis import claims as cl
from wann.analysis import stats
from wann.analysis.data import is_base, load

ROOT = Path(__file__).resolve().parents[1]
SEEDS = list(range(15))


def _study(tmp_path, scores: dict, claims: list[dict], kind: str = "rl", seeds=SEEDS):
    task = "swingup" if kind == "rl" else "digits"
    return write_study(tmp_path / "s", arms(task, kind, seeds, scores), [task_meta(task, kind)], seeds, claims=claims)


GREATER = {"id": "a-beats-b", "text": "A beats B", "test": "greater", "a": "wann_tuned/-", "b": "dense/dense0"}
EQUIV = {"id": "a-like-b", "text": "A is as good as B", "test": "equivalent", "a": "wann_tuned/-", "b": "dense/dense0"}


def test_clear_difference_is_supported_and_matches_scipy(tmp_path):
    rng = np.random.default_rng(14)
    b = rng.normal(500.0, 30.0, 15)
    a = b + rng.normal(60.0, 20.0, 15)  # paired: A = B + 60 (3 SD of the differences)
    data = _study(tmp_path, {"wann_tuned/-": a, "dense/32-32": b}, [GREATER])
    (r,) = cl.evaluate(data)
    assert r["verdict"] == cl.SUPPORTED and r["task"] == "swingup" and r["n"] == 15
    assert r["p_greater"] == pytest.approx(sps.ttest_rel(a, b, alternative="greater").pvalue, rel=1e-10)
    assert r["wilcoxon_p"] == pytest.approx(sps.wilcoxon(a - b, alternative="greater").pvalue, rel=1e-10)
    assert r["diff"] == pytest.approx((a - b).mean())
    ref = sps.t.interval(0.95, 14, loc=(a - b).mean(), scale=sps.sem(a - b))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(ref)  # the t-interval at 15 pairs
    assert r["d_z"] == pytest.approx((a - b).mean() / (a - b).std(ddof=1))
    assert r["m"] == 1 and r["p_support_holm"] == pytest.approx(r["p_greater"])


def test_reverse_difference_is_refuted(tmp_path):
    rng = np.random.default_rng(14)
    b = rng.normal(500.0, 30.0, 15)
    a = b - rng.normal(60.0, 20.0, 15)
    data = _study(tmp_path, {"wann_tuned/-": a, "dense/32-32": b}, [GREATER, EQUIV])
    rows = cl.evaluate(data)
    assert [r["verdict"] for r in rows] == [cl.REFUTED, cl.REFUTED]  # B > A; and far outside ±46.6
    assert rows[0]["why"] == "B > A"
    assert rows[1]["p_out"] < 0.05 and rows[1]["margin"] == pytest.approx(46.6)


def test_identical_arms_are_equivalent(tmp_path):
    rng = np.random.default_rng(14)
    b = rng.normal(500.0, 30.0, 15)
    a = b + rng.normal(0.0, 2.0, 15)  # the same up to noise far inside the ±46.6 margin
    data = _study(tmp_path, {"wann_tuned/-": a, "dense/32-32": b}, [GREATER, EQUIV])
    g, e = cl.evaluate(data)
    assert g["verdict"] == cl.EQUIVALENT_VERDICT  # a greater claim inside the margin
    assert e["verdict"] == cl.SUPPORTED
    assert e["tost_p"] == pytest.approx(
        max(
            sps.ttest_rel(a, b - 46.6, alternative="greater").pvalue,
            sps.ttest_rel(a, b + 46.6, alternative="less").pvalue,
        )
    )
    # Holm over the family of two claims, each p-value separately
    for key in ("p_support", "p_refute", "tost_p"):
        np.testing.assert_allclose([g[key + "_holm"], e[key + "_holm"]], stats.holm([g[key], e[key]]))
    assert g["m"] == e["m"] == 2


def test_a_claim_margin_overrides_the_task_rule_and_noise_is_inconclusive(tmp_path):
    rng = np.random.default_rng(14)
    b = rng.normal(500.0, 30.0, 15)
    a = b + rng.normal(5.0, 150.0, 15)  # a small effect in a lot of noise (SE ~ 40 > the margin)
    tight = dict(EQUIV, margin=1.0)
    data = _study(tmp_path, {"wann_tuned/-": a, "dense/32-32": b}, [GREATER, tight])
    g, e = cl.evaluate(data)
    assert g["verdict"] == cl.INCONCLUSIVE and e["verdict"] == cl.INCONCLUSIVE
    assert e["margin"] == 1.0
    # the power statement: the d_z a one-sided paired t-test at alpha / 2 finds with 80 % power
    assert g["detectable_dz"] == pytest.approx(cl.pairwise.min_detectable_dz(15, 0.05, 0.8, 2, sided=1))
    assert g["detectable_diff"] == pytest.approx(g["detectable_dz"] * (a - b).std(ddof=1))
    assert g["why"].startswith("could detect d_z >= ")
    assert e["why"].startswith("could show equivalence only within ±")


def test_classification_margin_and_missing_arm(tmp_path):
    rng = np.random.default_rng(14)
    b = rng.normal(0.90, 0.01, 15)
    a = b + rng.normal(0.0, 0.002, 15)
    other = {"id": "x", "text": "absent", "test": "greater", "a": "snip/1x", "b": "dense/dense0"}
    data = _study(tmp_path, {"wann_tuned/-": a, "dense/32-32": b}, [EQUIV, other], kind="classify")
    rows = cl.evaluate(data)
    assert [r["claim"] for r in rows] == ["a-like-b"]  # snip has no rows: no test
    assert rows[0]["margin"] == 0.02 and rows[0]["verdict"] == cl.SUPPORTED


def test_pairing_uses_only_seeds_with_both_arms(tmp_path):
    rows = arms("swingup", "rl", SEEDS, {"wann_tuned/-": np.arange(15.0) + 100}) + arms(
        "swingup", "rl", SEEDS[:10], {"dense/32-32": np.arange(10.0)}
    )
    data = write_study(tmp_path / "s", rows, [task_meta("swingup")], SEEDS, claims=[GREATER])
    (r,) = cl.evaluate(data)
    assert r["n"] == 10 and r["diff"] == pytest.approx(100.0)
    assert r["verdict"] == cl.SUPPORTED  # constant difference: p = 0


def test_parse_arm_and_dense0(tmp_path):
    assert cl.parse_arm("wann_retrained/-") == ("wann_retrained", "-")
    assert cl.parse_arm("dense") == ("dense", "-")
    assert cl.variance_arms("wann_retrained/- random_sparse/1x") == ["wann_retrained/-", "random_sparse/1x"]
    assert cl.variance_arms(["a/-", "b/1x"]) == ["a/-", "b/1x"]
    data = _study(tmp_path, {"dense/32-32+uniform2": [1.0, 2.0], "dense/32-32": [0.0, 1.0]}, [], seeds=[0, 1])
    assert cl.arm_scores(data, "swingup", "dense/dense0+uniform2") == {0: 1.0, 1: 2.0}
    assert cl.arm_scores(data, "swingup", "dense/dense0") == {0: 0.0, 1: 1.0}
    assert "dense, trained [32-32]" == cl.arm_label("dense/32-32")


def test_older_table_gets_the_axes_and_base_rows_only(tmp_path):
    old = load(ROOT / "experiments/results/study-small")
    assert not old.extended and old.claims == []
    assert (old.full["variant"] == old.full["size"]).all() and (old.full["init"] == "default").all()
    assert (old.full["rep"] == 0).all() and old.full["prune_at"].isna().all()
    assert len(old.df) == len(old.full)
    seeds = [0, 1]
    rows = [row("swingup", "random_sparse", s, 1.0, v) for s in seeds for v in ("1x", "1x+r1", "1x+he", "1x@0.5")]
    rows += [row("swingup", "wann_best_shared", s, 2.0, v) for s in seeds for v in ("-", "half")]
    data = write_study(tmp_path / "s", rows, [task_meta("swingup")], seeds)
    assert data.extended
    assert sorted(set(data.df["variant"])) == ["-", "1x"] and len(data.full) == 12
    assert all(is_base(v) for v in data.final["variant"])
    assert not any(is_base(v) for v in ("1x+r1", "1x+he", "1x@0.5", "half", "32-32+uniform2"))


def _full_study(tmp_path):
    """Two tasks with every axis: claims, init schemes, replicates, prune times, the half search."""
    seeds = list(range(8))
    rng = np.random.default_rng(5)
    rows = []
    for task, kind, scale, base in (("swingup", "rl", 40.0, 400.0), ("digits", "classify", 0.02, 0.85)):
        structure = rng.normal(0.0, scale, len(seeds))

        def add(m, v, mean, sd=scale / 3, struct=None, task=task, kind=kind, base=base):
            for i, s in enumerate(seeds):
                y = base + mean + (0.0 if struct is None else struct[i]) + rng.normal(0.0, sd)
                rows.append(row(task, m, s, min(y, 1.0) if kind == "classify" else y, v, kind))

        add("wann_random_individual", "-", -3 * scale)
        for v, f in (("-", 1.0), ("half", 0.8)):
            add("wann_best_shared", v, f * scale)
            add("wann_random_shared", v, f * 0.5 * scale)
        add("wann_tuned", "-", 2 * scale)
        add("pruned_magnitude", "1x", 2 * scale)
        for init, shift in (("", 0.0), ("+he", 0.1), ("+uniform2", -1.0)):
            add("dense", "32-32" + init, 2.5 * scale + shift * scale)
            for rep in ("", "+r1", "+r2") if not init else ("",):  # replicates of the base scheme
                add("wann_retrained", "-" + init + rep, 1.5 * scale + shift * scale, struct=structure)
                add("random_sparse", "1x" + init + rep, 1.0 * scale + shift * scale, struct=structure / 3)
                add("snip", "1x" + init + rep, 1.2 * scale + shift * scale, struct=structure / 3)
        for t in (0.1, 0.25, 0.5, 1.0):
            add("pruned_at", f"1x@{t:g}", (1.0 + t) * scale)
            add("pruned_at_rewind", f"1x@{t:g}", (1.2 + 0.5 * t) * scale)
    claims = [
        {"id": "structure-alone", "text": "The structure alone beats random weights", "test": "greater",
         "a": "wann_best_shared/-", "b": "wann_random_individual/-"},
        {"id": "retrained-vs-dense", "text": "The WANN topology trains as well as dense", "test": "equivalent",
         "a": "wann_retrained/-", "b": "dense/dense0"},
        {"id": "structure-variance", "text": "Structure matters more than initialisation", "test": "variance",
         "a": "wann_retrained/- random_sparse/1x"},
    ]  # fmt: skip
    tasks = [task_meta("swingup"), task_meta("digits", "classify")]
    return write_study(
        tmp_path / "study",
        rows,
        tasks,
        seeds,
        claims=claims,
        inits=["default", "he", "uniform2"],
        replicates=3,
        prune_times=[0.1, 0.25, 0.5, 1.0],
    )


def test_report_with_claims_and_axes(tmp_path):
    from wann.analysis.report import write_report

    data = _full_study(tmp_path)
    md_path = write_report(data.run_dir, tmp_path / "rep")
    md = md_path.read_text()
    heads = re.findall(r"^#+ .*$", md, re.M)
    assert heads[1] == "## Claims (pre-registered)"  # first, after the header
    assert heads[2].startswith("## The answer to the founding question")
    for section in ("### Time in training", "### Initialisation", "### Score versus total compute", "### Variance"):
        assert md.count(section) == 2, section  # both tasks
    assert not re.search(r"\bnan\b", md, re.IGNORECASE)
    out = md_path.parent
    names = {p.name for p in out.glob("*.png")}
    for task in ("swingup", "digits"):
        for kind in ("prune-time", "inits", "compute", "variance"):
            assert f"{task}-{kind}.png" in names
    assert "claims.png" in names
    for png in out.glob("*.png"):
        assert png.stat().st_size > 5000 and png.name in md
    rows = cl.evaluate(data)
    assert {r["claim"] for r in rows} == {"structure-alone", "retrained-vs-dense", "structure-variance"}
    by = {(r["claim"], r["task"], r["a"]): r for r in rows}
    assert by[("structure-alone", "swingup", "wann_best_shared/-")]["verdict"] == cl.SUPPORTED
    # a large structure effect against the seeds' noise: the WANN topology's variance is mostly structure
    assert by[("structure-variance", "swingup", "wann_retrained/-")]["verdict"] == cl.SUPPORTED
    assert "supported on swingup" in md and "What is matched" in md
    html = (out / "report.html").read_text()
    assert "<h2>Claims (pre-registered)</h2>" in html and html.count("data:image/png;base64,") == len(names)
    assert math.isfinite(by[("retrained-vs-dense", "digits", "wann_retrained/-")]["margin"])


def test_pendulum_margin_and_the_comparisons_power_statement(tmp_path):
    from wann.analysis.comparisons import comparisons, margin, margin_rule
    from wann.analysis.pairwise import min_detectable_d

    seeds = list(range(6))
    rng = np.random.default_rng(9)
    rows = arms(
        "pendulum",
        "rl",
        seeds,
        {"wann_tuned/-": rng.normal(-300, 40, 6), "dense/32-32": rng.normal(-250, 40, 6)},
    )
    data = write_study(tmp_path / "s", rows, [task_meta("pendulum", spec={"name": "Pendulum-v1"})], seeds)
    assert margin(data, "pendulum") == pytest.approx(0.05 * 1350)  # -1500 .. -150
    assert margin_rule(data, "pendulum") == "pendulum: ±67.5 (5 % of the score range -1500..-150)"
    (c,) = comparisons(data)  # tuned WANN vs dense, the only pair present
    assert c["detectable_d"] == pytest.approx(min_detectable_d(6, 6, m=1))
    assert c["detectable_diff"] == pytest.approx(c["detectable_d"] * c["sd"])
    old = comparisons(load(ROOT / "experiments/results/study-small"))
    assert "detectable_d" not in old[0] and "sd" not in old[0]  # the committed comparisons.json keeps its keys


def test_axes_read_the_variant_not_the_init_column(tmp_path):
    """A study whose base scheme is He: base rows carry 'he' (or, for a method without schemes,
    'default') in the init column; the sections select by variant all the same."""
    from wann.analysis import axes

    seeds = [0, 1, 2]
    rows = [row("swingup", "dense", s, 10.0 + s, "32-32", init="he") for s in seeds]
    rows += [row("swingup", "dense", s, 5.0 + s, "32-32+uniform2") for s in seeds]
    rows += [row("swingup", "dense", s, 0.0, "32-32+r1", init="he") for s in seeds]  # not an init row
    rows += [row("swingup", "wann_best_shared", s, 7.0, v) for s in seeds for v in ("-", "half")]
    rows += [row("swingup", "random_sparse", s, 3.0, "1x", init="he") for s in seeds]
    rows += [row("swingup", "pruned_at", s, 4.0 + t, f"1x@{t:g}", init="he") for s in seeds for t in (0.5, 1.0)]
    rows += [row("swingup", "pruned_at", s, 99.0, "1x+uniform2@0.5") for s in seeds]  # another scheme: left out
    data = write_study(tmp_path / "s", rows, [task_meta("swingup")], seeds, inits=["he", "uniform2"])
    inits = axes.init_rows(data, "swingup")
    assert [(r["method"], r["init"], r["mean"]) for r in inits] == [("dense", "he", 11.0), ("dense", "uniform2", 6.0)]
    comp = {(r["method"], r["variant"]) for r in axes.compute_rows(data, "swingup")}
    assert comp == {
        ("dense", "32-32"),
        ("wann_best_shared", "-"),
        ("wann_best_shared", "half"),
        ("random_sparse", "1x"),
    }
    times = [(r["method"], r["t"], r["mean"]) for r in axes.prune_time_rows(data, "swingup")]
    assert times == [("random_sparse", 0.0, 3.0), ("pruned_at", 0.5, 4.5), ("pruned_at", 1.0, 5.0)]
