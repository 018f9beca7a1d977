"""Tests for wann.analysis.stats, checked against SciPy on fixed small samples."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

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
def test_mann_whitney_matches_scipy_asymptotic(a, b):
    ref = sps.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=True)
    got = st.mann_whitney(a, b)
    assert got["u"] == ref.statistic
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-10)


@pytest.mark.parametrize("a,b", [(A5, B7), (B7, C10), (A5, C10[:4])])
def test_mann_whitney_exact_matches_scipy(a, b):
    ref = sps.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    got = st.mann_whitney(a, b, exact=True)
    assert got["u"] == ref.statistic
    assert got["p"] == pytest.approx(ref.pvalue, rel=1e-10)


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


def test_bootstrap_ci_close_to_scipy_and_deterministic():
    ours = st.bootstrap_ci(B7, n_boot=20_000, seed=1)
    ref = sps.bootstrap((B7,), np.mean, method="percentile", n_resamples=20_000, random_state=np.random.default_rng(2))
    lo, hi = ref.confidence_interval
    width = hi - lo
    assert ours[0] == pytest.approx(lo, abs=0.05 * width)
    assert ours[1] == pytest.approx(hi, abs=0.05 * width)
    assert st.bootstrap_ci(B7, n_boot=20_000, seed=1) == ours
    assert st.bootstrap_ci(B7, n_boot=2_000, seed=5) != st.bootstrap_ci(B7, n_boot=2_000, seed=6)


def test_bootstrap_ci_nan_single_empty_and_non_vectorised_stat():
    assert st.bootstrap_ci([2.5]) == (2.5, 2.5)
    assert st.bootstrap_ci([np.nan, 2.5, np.nan]) == (2.5, 2.5)
    assert all(math.isnan(v) for v in st.bootstrap_ci([]))
    with_nan = st.bootstrap_ci(np.r_[A5, np.nan], n_boot=500)
    assert with_nan == st.bootstrap_ci(A5, n_boot=500)
    # a statistic without an ``axis`` argument falls back to a per-row loop
    lo, hi = st.bootstrap_ci(A5, stat=lambda r: float(np.max(r)), n_boot=300)
    assert A5.min() <= lo <= hi <= A5.max()


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
    one = st.summarize([4.0], rl=True)
    assert one["n"] == 1 and one["sd"] == 0.0 and one["ci_low"] == one["ci_high"] == 4.0
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
        st.compare([1.0], [2.0])
        st.compare([], [])
        st.compare([3, 3, 3], [3, 3, 3], paired=True)
        st.compare([np.nan, 1.0, 2.0], [0.5, np.nan, 1.0], paired=True)


def test_compare_keys_values_and_paired_length_check():
    row = st.compare(A5, B7)
    expected = {"n_a", "n_b", "mean_a", "mean_b", "diff", "welch_t", "welch_p", "mwu_u", "mwu_p", "cohens_d", "a12"}
    assert set(row) == expected
    assert all(type(v) in (float, int) for v in row.values())
    json.dumps(row)
    assert row["diff"] == pytest.approx(A5.mean() - B7.mean())
    assert row["welch_p"] == pytest.approx(sps.ttest_ind(A5, B7, equal_var=False).pvalue)
    prow = st.compare(A5, C10[:5], paired=True)
    assert set(prow) == expected | {"paired_t", "paired_p", "wilcoxon_p"}
    assert prow["paired_p"] == pytest.approx(sps.ttest_rel(A5, C10[:5]).pvalue)
    assert prow["wilcoxon_p"] == pytest.approx(sps.wilcoxon(A5, C10[:5]).pvalue)
    assert all(type(v) in (float, int) for v in prow.values())
    with pytest.raises(ValueError):
        st.compare(A5, B7, paired=True)
