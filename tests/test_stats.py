"""Tests for wann.analysis.stats, checked against SciPy on fixed small samples."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from wann.analysis import pairwise as pw
from wann.analysis import stats as st

_RNG = np.random.default_rng(3)
A5 = _RNG.normal(0.0, 1.0, 5)
B7 = _RNG.normal(0.8, 2.0, 7)
C10 = _RNG.normal(-0.3, 0.5, 10)
# samples with ties (rounded to integers, shared values across groups)
T7 = np.round(_RNG.normal(2.0, 2.0, 7))
T10 = np.round(_RNG.normal(1.0, 2.0, 10))

PAIRS = [(A5, B7), (B7, C10), (A5, C10), (T7, T10), (C10, A5)]


def test_samples_have_ties():
    assert np.unique(np.r_[T7, T10]).size < T7.size + T10.size


@pytest.mark.parametrize("a,b", PAIRS)
def test_welch_matches_scipy(a, b):
    ref = sps.ttest_ind(a, b, equal_var=False)
    got = st.welch(a, b)
    assert got["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert got["df"] == pytest.approx(ref.df, rel=1e-12)


@pytest.mark.parametrize("a,b", PAIRS)
def test_mann_whitney_matches_scipy_auto(a, b):
    ref = sps.mannwhitneyu(a, b, alternative="two-sided")  # "auto": exact at n <= 8 without ties
    got = st.mann_whitney(a, b)
    assert got["u"] == ref.statistic
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize("a,b", [(A5, B7), (B7, C10), (A5, C10[:4])])
def test_mann_whitney_exact_matches_scipy(a, b):
    ref = sps.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    got = st.mann_whitney(a, b, method="exact")
    assert got["u"] == ref.statistic
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_mann_whitney_is_exact_at_five_seeds():
    # complete separation of 5 vs 5: exact p = 2 / C(10, 5) = 0.0079 (the normal approximation says 0.0122)
    got = st.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert got["u"] == 0.0
    assert got["p"] == pytest.approx(2 / 252, rel=1e-12)
    assert got["p"] == sps.mannwhitneyu([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], method="exact").pvalue
    assert pw.mwu_min_p(5, 5) == pytest.approx(got["p"])
    asym = st.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], method="asymptotic")["p"]
    assert asym == pytest.approx(0.0122, abs=1e-4)


@pytest.mark.parametrize("a,b", [(A5, C10[:5]), (B7, T7), (C10, T10)])
def test_paired_t_matches_scipy(a, b):
    ref = sps.ttest_rel(a, b)
    got = st.paired_t(a, b)
    assert got["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert got["df"] == ref.df


def test_wilcoxon_matches_scipy_and_all_zero():
    ref = sps.wilcoxon(C10 - T10, zero_method="wilcox")
    got = st.wilcoxon_signed_rank(C10, T10)
    assert got["w"] == ref.statistic
    assert got["p"] == pytest.approx(ref.pvalue)
    assert st.wilcoxon_signed_rank(A5, A5) == {"w": 0.0, "p": 1.0}


@pytest.mark.parametrize("x", [A5, B7, C10, T7, T10, np.arange(4.0), np.arange(11.0) ** 2])
def test_iqm_matches_trim_mean(x):
    assert st.iqm(x) == pytest.approx(sps.trim_mean(x, 0.25), rel=1e-12)


@pytest.mark.parametrize("a,b", PAIRS)
def test_a12_equals_u_over_n1n2(a, b):
    u = sps.mannwhitneyu(a, b, method="asymptotic").statistic
    assert st.a12(a, b) == pytest.approx(u / (len(a) * len(b)), rel=1e-12)
    assert st.a12(a, b) + st.a12(b, a) == pytest.approx(1.0)


@pytest.mark.parametrize("x", [A5, B7, C10])
def test_bootstrap_ci_bca_equals_scipy_with_the_same_seed(x):
    ref = sps.bootstrap((x,), np.mean, method="BCa", n_resamples=9_999, rng=np.random.default_rng(1))
    assert st.bootstrap_ci(x, seed=1) == (ref.confidence_interval.low, ref.confidence_interval.high)
    # the IQM statistic the report uses (values equal to sps.trim_mean(., 0.25) up to rounding)
    iqm_ref = sps.bootstrap((x,), st._trim_mean_rows, method="BCa", rng=np.random.default_rng(4))
    assert st.bootstrap_ci(x, stat=st._trim_mean_rows, seed=4) == tuple(iqm_ref.confidence_interval)
    np.testing.assert_allclose(st._trim_mean_rows(np.stack([x, x[::-1]])), sps.trim_mean(x, 0.25), rtol=1e-12)
    assert st.bootstrap_ci(x, n_boot=2_000, seed=5) != st.bootstrap_ci(x, n_boot=2_000, seed=6)


def test_bootstrap_ci_small_and_degenerate_samples():
    assert all(math.isnan(v) for v in st.bootstrap_ci([]))
    assert all(math.isnan(v) for v in st.bootstrap_ci([2.5]))  # one run: no interval
    assert all(math.isnan(v) for v in st.bootstrap_ci([np.nan, 2.5, np.nan]))
    assert st.bootstrap_ci([3.0, 3.0, 3.0, 3.0]) == (3.0, 3.0)  # zero variance: zero width
    # n = 2: the t-interval of the mean
    lo, hi = st.bootstrap_ci([1.0, 2.0])
    ref = sps.t.interval(0.95, 1, loc=1.5, scale=sps.sem([1.0, 2.0]))
    assert (lo, hi) == pytest.approx(ref)
    assert st.bootstrap_ci(np.r_[A5, np.nan], seed=2) == st.bootstrap_ci(A5, seed=2)
    with pytest.raises(ValueError):
        st.bootstrap_ci(A5, level=1.0)


def test_mean_ci_rule():
    # below T_BELOW seeds: the Student-t interval, exactly scipy's
    ref = sps.t.interval(0.95, A5.size - 1, loc=A5.mean(), scale=sps.sem(A5))
    assert st.mean_ci(A5) == pytest.approx(ref, rel=1e-12)
    big = np.random.default_rng(7).normal(size=st.T_BELOW)
    bca = sps.bootstrap((big,), np.mean, method="BCa", n_resamples=9_999, rng=np.random.default_rng(0))
    assert st.mean_ci(big) == (bca.confidence_interval.low, bca.confidence_interval.high)
    assert all(math.isnan(v) for v in st.mean_ci([1.0]))
    assert st.mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_holm_hand_values_and_monotone():
    adj = st.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adj, [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    p = np.array([0.2, 0.001, 0.04, 0.5, 0.01, 0.03, 0.9])
    adj = st.holm(p)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0)
    assert np.all(adj >= p) and np.all(adj <= 1.0)
    assert st.holm([0.6, 0.7])[1] == 1.0


def test_holm_nan_passes_through_and_not_counted():
    adj = st.holm([0.01, np.nan, 0.04])
    assert math.isnan(adj[1])
    np.testing.assert_allclose(adj[[0, 2]], [0.02, 0.04])
    assert np.all(np.isnan(st.holm([np.nan, np.nan])))
    assert st.holm([]).shape == (0,)


def test_holm_within_groups():
    rows = [
        {"task": "x", "welch_p": 0.01},
        {"task": "y", "welch_p": 0.01},
        {"task": "x", "welch_p": 0.04},
        {"task": "x", "welch_p": float("nan")},
        {"task": "y"},
    ]
    out = st.holm_within(rows)
    assert out is rows
    assert [r["welch_p_holm"] for r in out[:3]] == pytest.approx([0.02, 0.01, 0.04])
    assert math.isnan(out[3]["welch_p_holm"]) and math.isnan(out[4]["welch_p_holm"])
    assert rows[0]["welch_p_holm"] == pytest.approx(0.02)  # updated in place


def test_cohens_d_hand_value_and_degenerate():
    # means 2 and 5; variances 1 and 1 (ddof=1) -> pooled SD 1 -> d = -3
    assert st.cohens_d([1, 2, 3], [4, 5, 6]) == pytest.approx(-3.0)
    # unequal sizes: ss_a = 2, ss_b = 9 + 1 + 1 + 9 = 20, pooled^2 = 22 / 5
    assert st.cohens_d([1, 2, 3], [2, 4, 6, 8]) == pytest.approx((2 - 5) / math.sqrt(4.4))
    assert st.cohens_d([1, 1, 1], [1, 1]) == 0.0
    assert st.cohens_d([2, 2], [1, 1, 1]) == math.inf
    assert st.cohens_d([0, 0], [1, 1]) == -math.inf
    assert math.isnan(st.cohens_d([], [1, 2]))


def test_summarize_basic_rl_and_degenerate():
    s = st.summarize(np.r_[C10, np.nan], rl=True)
    assert s["n"] == 10
    assert s["mean"] == pytest.approx(C10.mean())
    assert s["sd"] == pytest.approx(C10.std(ddof=1))
    assert s["median"] == pytest.approx(np.median(C10))
    assert s["ci_low"] < s["mean"] < s["ci_high"]
    assert s["iqm"] == pytest.approx(sps.trim_mean(C10, 0.25))
    assert s["iqm_ci_low"] <= s["iqm"] <= s["iqm_ci_high"]
    assert "iqm" not in st.summarize(C10)
    assert (s["ci_low"], s["ci_high"]) == st.mean_ci(C10)
    one = st.summarize([4.0], rl=True)
    assert one["n"] == 1 and one["sd"] == 0.0 and math.isnan(one["ci_low"]) and math.isnan(one["ci_high"])
    assert one["iqm"] == 4.0
    empty = st.summarize([np.nan], rl=True)
    assert empty["n"] == 0
    assert all(math.isnan(v) for k, v in empty.items() if k != "n")


def test_degenerate_tests_never_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarnings either
        const = st.welch([1, 1, 1], [1, 1])
        assert math.isnan(const["p"]) and math.isnan(const["t"])
        diff = st.welch([1, 1, 1], [2, 2])
        assert diff["p"] == 0.0 and diff["t"] == -math.inf
        assert math.isnan(st.welch([1.0], [1, 2, 3])["p"])
        assert math.isnan(st.welch([], [])["p"])
        assert st.mann_whitney([1, 1], [1, 1, 1])["p"] == 1.0
        assert math.isnan(st.mann_whitney([], [1])["p"])
        assert math.isnan(st.paired_t([1, 2], [1, 2])["p"])
        assert st.paired_t([2, 3, 4], [1, 2, 3])["p"] == 0.0
        assert math.isnan(st.paired_t([1.0], [2.0])["p"])
        assert math.isnan(st.a12([], [1.0]))
        assert pw.tost([1, 1, 1], [1, 1], margin=0.5)["p"] == 0.0
        assert pw.tost([1, 1, 1], [2, 2], margin=0.5)["p"] == 1.0
        assert math.isnan(pw.tost([1.0], [1, 2], margin=0.5)["p"])
        st.bootstrap_ci([1.0, 1.0, 2.0])
        st.summarize([1.0, 1.0], rl=True)
        pw.compare([1.0], [2.0])
        pw.compare([], [])
        pw.compare([3, 3, 3], [3, 3, 3], paired=True)
        pw.compare([np.nan, 1.0, 2.0], [0.5, np.nan, 1.0], paired=True)


def test_compare_keys_values_and_paired_length_check():
    row = pw.compare(A5, B7)
    expected = {"n_a", "n_b", "mean_a", "mean_b", "diff", "welch_t", "welch_p", "mwu_u", "mwu_p", "cohens_d", "a12"}
    assert set(row) == expected
    assert all(type(v) in (float, int) for v in row.values())
    json.dumps(row)
    assert row["diff"] == pytest.approx(A5.mean() - B7.mean())
    assert row["welch_p"] == pytest.approx(sps.ttest_ind(A5, B7, equal_var=False).pvalue)
    prow = pw.compare(A5, C10[:5], paired=True)
    assert set(prow) == expected | {"paired_t", "paired_p", "wilcoxon_p"}
    assert prow["paired_p"] == pytest.approx(sps.ttest_rel(A5, C10[:5]).pvalue)
    assert prow["wilcoxon_p"] == pytest.approx(sps.wilcoxon(A5, C10[:5]).pvalue)
    assert all(type(v) in (float, int) for v in prow.values())
    with pytest.raises(ValueError):
        pw.compare(A5, B7, paired=True)
    mrow = pw.compare(A5, B7, margin=1.0)
    assert set(mrow) == expected | {"tost_p"} and mrow["tost_p"] == pw.tost(A5, B7, 1.0)["p"]
    assert pw.compare(A5, C10[:5], paired=True, margin=1.0)["tost_p"] == pw.tost(A5, C10[:5], 1.0, paired=True)["p"]


# --------------------------------------------------------------------------- TOST


def test_tost_is_two_one_sided_scipy_tests():
    m = 1.5
    got = pw.tost(A5, B7, m)
    lo = sps.ttest_ind(A5, B7 - m, equal_var=False, alternative="greater").pvalue
    hi = sps.ttest_ind(A5, B7 + m, equal_var=False, alternative="less").pvalue
    assert got["p_lower"] == pytest.approx(lo, rel=1e-12) and got["p_upper"] == pytest.approx(hi, rel=1e-12)
    assert got["p"] == max(got["p_lower"], got["p_upper"])
    b = C10[:5]
    pg = pw.tost(A5, b, m, paired=True)
    assert pg["p_lower"] == pytest.approx(sps.ttest_rel(A5, b - m, alternative="greater").pvalue, rel=1e-12)
    assert pg["p_upper"] == pytest.approx(sps.ttest_rel(A5, b + m, alternative="less").pvalue, rel=1e-12)
    # p < alpha exactly when the 90 % CI of the difference lies inside the margin
    ci = sps.ttest_ind(A5, B7, equal_var=False).confidence_interval(0.90)
    assert (got["p"] < 0.05) == (-m < ci.low and ci.high < m)


def test_tost_equivalent_when_close_not_when_far():
    rng = np.random.default_rng(11)
    a, b = rng.normal(10.0, 1.0, 10), rng.normal(10.1, 1.0, 10)
    assert pw.tost(a, b, margin=2.0)["p"] < 0.05  # close together, generous margin
    assert pw.tost(a, b + 10.0, margin=2.0)["p"] > 0.5  # far apart
    assert pw.tost(a, b, margin=0.01)["p"] > 0.05  # close, but a margin far below the noise: undecided
    with pytest.raises(ValueError):
        pw.tost(a, b, margin=0.0)


# --------------------------------------------------------------------------- power


def test_min_detectable_d_reaches_the_power_and_knows_the_textbook_value():
    d = pw.min_detectable_d(5, 5)
    assert d == pytest.approx(2.024, abs=1e-3)  # 5 vs 5, alpha 0.05, 80 %: d ~ 2.02 (G*Power)
    assert pw.min_detectable_d(64, 64) == pytest.approx(0.50, abs=0.01)  # Cohen's n = 64 per group for d = 0.5
    strict = pw.min_detectable_d(5, 5, m=13)
    assert strict > d
    df, nc = 8, strict * math.sqrt(2.5)
    crit = sps.t.ppf(1 - 0.05 / 13 / 2, df)
    assert sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc) == pytest.approx(0.8, abs=1e-8)
    assert math.isnan(pw.min_detectable_d(1, 1))


# --------------------------------------------------------------------------- verdicts


def _row(**kw):
    row = {
        "diff": 1.0,
        "p_holm": 0.5,
        "tost_p_holm": 0.5,
        "margin": 25.0,
        "seeds": 5,
        "seeds_a_ahead": 3,
        "seeds_b_ahead": 2,
    }
    row.update(kw)
    return row


def test_verdict_words():
    from wann.analysis.comparisons import INCONCLUSIVE, verdict, verdict_kind

    assert verdict(_row(p_holm=0.01, diff=3.0)) == "A better"
    assert verdict(_row(p_holm=0.01, diff=-3.0)) == "B better"
    assert verdict(_row(tost_p_holm=0.01)) == "equivalent within ±25"
    assert verdict_kind(_row(tost_p_holm=0.01)) == "equivalent"
    assert verdict(_row()) == INCONCLUSIVE == "inconclusive (n too small to decide)"
    # every seed favours one side, but the test cannot decide: said so, never "no clear difference"
    assert verdict(_row(seeds_a_ahead=0, seeds_b_ahead=5, diff=-2.0)) == INCONCLUSIVE + "; all 5 seeds favour B"
    assert verdict(_row(seeds_a_ahead=5, seeds_b_ahead=0)) == INCONCLUSIVE + "; all 5 seeds favour A"
    # no p-value (n < 2, no margin): inconclusive, never an equivalence claim
    assert verdict(_row(p_holm=math.nan, tost_p_holm=math.nan)) == INCONCLUSIVE
    assert verdict(_row(tost_p_holm=0.01, margin=math.nan)) == INCONCLUSIVE
    # significant and inside the margin: the difference is real but small
    assert verdict(_row(p_holm=0.01, tost_p_holm=0.01)) == "A better, by less than the ±25 margin"
    # the difference test comes first
    assert verdict_kind(_row(p_holm=0.01, diff=-1.0, tost_p_holm=0.01)) == "B better"


def test_verdicts_of_a_study_from_the_statistics():
    """`comparisons` + `verdict` on constructed samples: far apart -> better, close with a
    generous margin -> equivalent, 5 seeds all on one side but noisy -> inconclusive, said so."""
    from wann.analysis import comparisons as cm

    rows = []
    far = pw.compare([1, 2, 3, 2, 1], [21, 22, 23, 22, 21], margin=2.0)
    close = pw.compare([10.0, 10.2, 9.9, 10.1, 10.0], [10.1, 10.0, 10.0, 10.2, 9.9], margin=2.0)
    noisy = pw.compare([1.0, 5.0, 9.0, 13.0, 30.0], [2.0, 6.0, 10.0, 14.0, 31.0], margin=2.0)  # B ahead on each seed
    for c, a_ahead in ((far, 0), (close, 2), (noisy, 0)):
        c.update(task="t", margin=2.0, seeds=5, seeds_a_ahead=a_ahead, seeds_b_ahead=5 - a_ahead)
        c["p"] = c["welch_p"]
        rows.append(c)
    st.holm_within(rows, key="task", p="p", out="p_holm")
    st.holm_within(rows, key="task", p="tost_p", out="tost_p_holm")
    assert [cm.verdict(r) for r in rows] == [
        "B better",
        "equivalent within ±2",
        "inconclusive (n too small to decide); all 5 seeds favour B",
    ]


# --------------------------------------------------------------------------- the gap measure


def _study(task_name: str, kind: str, scores: dict[tuple[str, str], list[float]]):
    import pandas as pd

    from wann.analysis.data import StudyData

    rows = [
        {"task": "t", "method": m, "size": size, "seed": i, "score": v, "final": True}
        for (m, size), vals in scores.items()
        for i, v in enumerate(vals)
    ]
    meta = {"tasks": [{"label": "t", "task": {"name": task_name}, "kind": kind, "dense": [[10]]}]}
    return StudyData(Path("."), meta, pd.DataFrame(rows), {})


def test_gap_measure_uses_the_ceiling_or_the_best_trained_counterpart():
    from wann.analysis.tables import gap_closed, gap_text

    scores = {
        ("wann_random_individual", "-"): [100.0, 100.0],
        ("wann_best_shared", "-"): [300.0, 300.0],
        ("dense", "10"): [200.0, 200.0],  # an under-trained dense net must not be the reference
        ("lottery_ticket", "2x"): [500.0, 500.0],
    }
    g = gap_closed(_study("wann/CartPoleSwingUp-v0", "rl", scores), "t")  # no ceiling: the best trained
    assert g["status"] is None and g["reference"] == 500.0 and "lottery ticket" in g["reference_label"]
    assert g["fractions"]["wann_best_shared"] == pytest.approx(0.5)
    g = gap_closed(_study("CartPole-v1", "rl", scores), "t")  # CartPole-v1: its ceiling, 500
    assert g["reference"] == 500.0 and "ceiling" in g["reference_label"]
    cls = {("wann_random_individual", "-"): [0.1, 0.1], ("wann_best_shared", "-"): [0.55, 0.55]}
    g = gap_closed(_study("digits", "classify", cls), "t")
    assert g["reference"] == 1.0 and g["fractions"]["wann_best_shared"] == pytest.approx(0.5)
    assert gap_text(0.5) == "50 %"


def test_gap_measure_is_none_when_the_reference_is_not_above_the_baseline():
    from wann.analysis.tables import gap_closed, gap_text

    for top in (90.0, 100.0, 120.0):  # below, at, and within the ±46.6 margin above the baseline
        scores = {
            ("wann_random_individual", "-"): [100.0, 100.0],
            ("wann_best_shared", "-"): [300.0, 280.0],
            ("dense", "10"): [top, top],
        }
        g = gap_closed(_study("wann/CartPoleSwingUp-v0", "rl", scores), "t")
        assert g["fractions"] == {} and g["status"].startswith("n/a: reference not above the random-weight baseline")
    g = gap_closed(_study("wann/CartPoleSwingUp-v0", "rl", {("wann_best_shared", "-"): [1.0]}), "t")
    assert g["fractions"] == {} and g["status"].startswith("n/a")
    for v in (None, math.nan, math.inf, -math.inf):
        assert gap_text(v) is None
    assert gap_text(-14.86) == "below -100 %" and gap_text(3.0) == "above 200 %"
    for v in np.linspace(-1.0, 2.0, 31):
        assert "nan" not in gap_text(float(v)) and gap_text(float(v)).endswith(" %")
