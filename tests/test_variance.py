"""The variance split of a fixed structure (`wann.analysis.claims.variance_components` /
`variance_split`): hand values of the one-way random-effects ANOVA, the truth recovered from
synthetic studies (structure variance 10x the initialisation variance -> supported; the reverse
-> refuted), the evaluation-noise share from the test set, and the power statements behind the
claims' inconclusive verdicts (against G*Power's values and a simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from synthetic_study import row, task_meta, write_study

from wann.analysis import claims as cl
from wann.analysis import pairwise as pw


def test_anova_hand_values():
    y = np.array([[1.0, 3.0], [5.0, 7.0]])
    # group means 2 and 6, grand mean 4: MSB = 2 (4 + 4) / 1 = 16, MSW = 4 / 2 = 2, between = (16 - 2) / 2 = 7
    v = cl.variance_components(y, eval_var=0.5)
    assert (v["between"], v["within"], v["total"]) == pytest.approx((7.0, 2.0, 9.0))
    assert v["structure"] == pytest.approx(7 / 9) and v["init"] == pytest.approx(2 / 9)
    assert v["eval_share"] == pytest.approx(0.5 / 9) and v["init_only"] == pytest.approx(1.5 / 9)
    assert v["diff"] == pytest.approx(5 / 9)
    assert cl.variance_components(y, eval_var=5.0)["eval"] == 2.0  # at most the whole within variance
    # no spread between the groups' means beyond the within noise: the between part is 0, not negative
    flat = cl.variance_components(np.array([[0.0, 2.0], [2.0, 0.0]]))
    assert flat["between"] == 0.0 and flat["structure"] == 0.0 and flat["diff"] == -1.0
    assert math.isnan(cl.variance_components(np.ones((1, 3)))["diff"])  # one structure: no split
    assert math.isnan(cl.variance_components(np.ones((4, 1)))["diff"])  # one initialisation: no split


def test_anova_recovers_the_components_at_large_k():
    rng = np.random.default_rng(0)
    k, r = 2000, 4
    y = rng.normal(0.0, math.sqrt(10.0), (k, 1)) + rng.normal(0.0, 1.0, (k, r))
    v = cl.variance_components(y)
    assert v["between"] == pytest.approx(10.0, rel=0.1) and v["within"] == pytest.approx(1.0, rel=0.05)
    # the vectorised statistic the bootstrap resamples is the same number
    assert cl._share_diff(y) == pytest.approx(v["diff"])
    assert cl._share_diff(np.stack([y, y[::-1]])) == pytest.approx([v["diff"]] * 2)


def _structures(tmp_path, sd_structure: float, sd_init: float, k: int = 20, r: int = 4, seed: int = 1, **kw):
    rng = np.random.default_rng(seed)
    seeds = list(range(k))
    rows = []
    for s in seeds:
        mu = 300.0 + rng.normal(0.0, sd_structure)
        for rep in range(r):
            v = "-" if rep == 0 else f"-+r{rep}"
            rows.append(row("swingup", "wann_retrained", s, mu + rng.normal(0.0, sd_init), v, **kw))
    claim = {"id": "structure-matters", "text": "Structure over init", "test": "variance", "a": "wann_retrained/-"}
    return write_study(tmp_path / "s", rows, [task_meta("swingup")], seeds, claims=[claim])


def test_structure_ten_times_init_is_supported(tmp_path):
    data = _structures(tmp_path, math.sqrt(10.0) * 10, 10.0)
    (r,) = cl.evaluate(data)
    assert r["test"] == "variance" and r["k"] == 20 and r["r"] == 4
    assert r["verdict"] == cl.SUPPORTED and r["ci_low"] > 0
    assert r["ci_low"] <= r["diff"] <= r["ci_high"]
    assert cl.structures(data, "swingup") == ["wann_retrained/-"]


def test_init_ten_times_structure_is_refuted(tmp_path):
    data = _structures(tmp_path, 10.0, math.sqrt(10.0) * 10)
    (r,) = cl.evaluate(data)
    assert r["verdict"] == cl.REFUTED and r["ci_high"] < 0


def test_equal_parts_are_inconclusive_and_the_ci_is_reproducible(tmp_path):
    data = _structures(tmp_path, 10.0, 10.0, k=6, r=2, seed=3)
    (r,) = cl.evaluate(data)
    assert r["verdict"] == cl.INCONCLUSIVE and r["ci_low"] < 0 < r["ci_high"]
    again = cl.variance_split(data, "swingup", "wann_retrained/-")
    assert (again["ci_low"], again["ci_high"]) == (r["ci_low"], r["ci_high"])


def test_evaluation_noise_share_from_the_test_set(tmp_path):
    # RL: score_sd^2 / score_n = 10^2 / 100 = 1 per score; the within variance is ~ 4^2
    data = _structures(tmp_path, 20.0, 4.0, score_sd=10.0, score_n=100)
    v = cl.variance_split(data, "swingup", "wann_retrained/-")
    assert v["eval"] == pytest.approx(1.0)
    assert v["eval_share"] == pytest.approx(1.0 / v["total"])
    assert v["structure"] + v["init_only"] + v["eval_share"] == pytest.approx(1.0)
    # classification: p (1 - p) / n_test
    seeds = [0, 1, 2]
    rows = [
        row("digits", "random_sparse", s, p, v, "classify", score_n=200)
        for s, ps in zip(seeds, ([0.8, 0.82], [0.9, 0.88], [0.7, 0.71]))
        for p, v in zip(ps, ("1x", "1x+r1"))
    ]
    data = write_study(tmp_path / "c", rows, [task_meta("digits", "classify")], seeds)
    v = cl.variance_split(data, "digits", "random_sparse/1x")
    ps = np.array([0.8, 0.82, 0.9, 0.88, 0.7, 0.71])
    assert v["eval"] == pytest.approx(min((ps * (1 - ps) / 200).mean(), v["within"]))


def test_a_seed_missing_a_replicate_is_left_out(tmp_path):
    seeds = [0, 1, 2, 3]
    rows = [
        row("swingup", "snip", s, 10.0 * s + rep, "1x" if rep == 0 else f"1x+r{rep}") for s in seeds for rep in (0, 1)
    ]
    rows = [r for r in rows if r["cell"] != "swingup/snip/1x+r1/s3"]
    rows.append(row("swingup", "snip", 0, 99.0, "1x+he"))  # another init scheme is not a replicate
    data = write_study(tmp_path / "s", rows, [task_meta("swingup")], seeds)
    v = cl.variance_split(data, "swingup", "snip/1x")
    assert (v["k"], v["r"]) == (3, 2)
    assert v["within"] == pytest.approx(0.5)  # each seed's two values differ by 1


# --------------------------------------------------------------------------- power


def test_min_detectable_dz_knows_gpower_and_reaches_the_power():
    # G*Power, paired t: d_z = 0.5 at alpha 0.05 and 80 % power needs 34 pairs two-sided, 27 one-sided
    two = pw.min_detectable_dz(34, sided=2)
    one = pw.min_detectable_dz(27, sided=1)
    assert 0.48 < two < 0.5 and 0.48 < one < 0.5
    assert pw.min_detectable_dz(33, sided=2) > 0.5 and pw.min_detectable_dz(26, sided=1) > 0.5
    n, m = 15, 3
    dz = pw.min_detectable_dz(n, m=m, sided=1)
    crit = sps.t.ppf(1 - 0.05 / m, n - 1)
    assert sps.nct.sf(crit, n - 1, dz * math.sqrt(n)) == pytest.approx(0.8, abs=1e-8)
    assert dz > pw.min_detectable_dz(n, sided=1)  # Holm's strictest step asks for more
    assert math.isnan(pw.min_detectable_dz(1))


def test_tost_detectable_margin_has_its_power_in_a_simulation():
    rng = np.random.default_rng(2)
    for n in (8, 15, 20):
        mg = pw.tost_detectable_margin(n, sd=2.0)
        d = rng.normal(0.0, 2.0, (20_000, n))
        mean, se = d.mean(1), d.std(1, ddof=1) / math.sqrt(n)
        crit = sps.t.ppf(0.95, n - 1)
        power = np.mean(((mean + mg) / se > crit) & ((mean - mg) / se < -crit))
        assert power == pytest.approx(0.8, abs=0.02), n
    assert pw.tost_detectable_margin(15, sd=2.0, m=2) > pw.tost_detectable_margin(15, sd=2.0)
    assert math.isnan(pw.tost_detectable_margin(1, 1.0))
