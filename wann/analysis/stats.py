"""Statistics across seeds for comparing search methods.

A *seed* is one independent training/search run; each function takes the per-seed
results of a method as a 1-D array-like of floats (shape ``(n,)``, same unit as the
measured score, e.g. mean episode return or test accuracy). Samples are small
(n = 3..20), so every function copes with degenerate input (n = 0 or 1, constant
samples, NaNs) by returning NaN / a documented limit value instead of raising; the
report prints such values as "n/a", never as a number.

NaN policy: unpaired functions drop NaNs from each sample independently; paired
functions drop every pair in which either value is NaN.

The tests are SciPy's own (``scipy.stats.ttest_ind(equal_var=False)``, ``ttest_rel``,
``mannwhitneyu`` with its ``"auto"`` method, exact for small samples without ties,
``wilcoxon``, ``bootstrap(method="BCa")``); this module adds the degenerate-case rules,
the effect sizes (Cohen's d, Vargha-Delaney A12), the interquartile mean and Holm's
correction (SciPy has none). The equivalence test (TOST), the power calculation and the
comparison row built from all of these live in `wann.analysis.pairwise`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import stats as _sps

__all__ = [
    "T_BELOW",
    "bootstrap_ci",
    "mean_ci",
    "iqm",
    "summarize",
    "welch",
    "mann_whitney",
    "paired_t",
    "wilcoxon_signed_rank",
    "cohens_d",
    "a12",
    "holm",
    "holm_within",
]

_NAN = float("nan")

#: `mean_ci` uses the t-interval below this many seeds and BCa from it on: a BCa interval
#: of the mean under-covers at the seed counts a study has (nominal 95 %; 400 normal
#: samples at n = 5: BCa 83 %, t 94 %; 800 samples each, 2,000 resamples: n = 10 BCa 91 %,
#: t 96 %; n = 15 BCa 93 %, t 96 %; n = 20 BCa 91 %, t 94 %; n = 30 BCa 94 %, t 95 %;
#: n = 40 BCa 94 %, t 95 %; exponential samples, n = 15..30: BCa 91-92 %, t 92-93 %), so
#: the t-interval is the rule up to 40 seeds.
T_BELOW = 40


# --------------------------------------------------------------------------- helpers


def _clean(x: Any) -> np.ndarray:
    """``x`` as a flat float64 array with NaNs removed, shape ``(n,)``."""
    arr = np.asarray(x, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def _clean_pairs(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equal-length samples with every pair containing a NaN removed.

    Raises ``ValueError`` when the lengths differ.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired samples need equal lengths, got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def _trim_mean_rows(samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean along ``axis`` (vectorised ``trim_mean(., 0.25)``)."""
    s = np.sort(np.moveaxis(np.asarray(samples), axis, -1), axis=-1)
    n = s.shape[-1]
    cut = int(0.25 * n)
    return s[..., cut : n - cut].mean(axis=-1)


def _quiet(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """``fn(*args, **kw)`` with SciPy's small-sample warnings silenced (the callers
    handle the degenerate cases those warnings are about)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _t_interval(data: np.ndarray, level: float) -> tuple[float, float]:
    """Student-t interval of the mean (n >= 2, SD > 0)."""
    n = data.size
    half = float(_sps.t.ppf(0.5 + level / 2.0, n - 1)) * float(data.std(ddof=1)) / math.sqrt(n)
    m = float(data.mean())
    return m - half, m + half


# --------------------------------------------------------------------------- summaries


def bootstrap_ci(
    x: Any,
    stat: Callable[..., Any] = np.mean,
    level: float = 0.95,
    n_boot: int = 9_999,
    seed: int = 0,
    method: str = "BCa",
) -> tuple[float, float]:
    """Bootstrap confidence interval of ``stat(x)`` by ``scipy.stats.bootstrap``.

    Args:
        x: per-seed values, shape ``(n,)``; NaNs are removed first.
        stat: statistic, called by SciPy as ``stat(samples, axis=-1)`` (it must be
            vectorised: numpy reductions are).
        level: two-sided coverage, e.g. 0.95.
        n_boot: number of bootstrap resamples.
        seed: seed of the ``numpy.random.default_rng`` handed to SciPy; the same seed
            gives the same interval, equal to ``scipy.stats.bootstrap((x,), stat,
            method=method, n_resamples=n_boot, rng=default_rng(seed))``.
        method: ``"BCa"`` (bias-corrected and accelerated), ``"percentile"`` or
            ``"basic"``.

    Returns:
        ``(low, high)`` in the unit of ``x``. Rules for small samples: n == 0 or
        n == 1 gives ``(nan, nan)`` (no interval from one run); a constant sample gives
        the zero-width ``(x0, x0)``; n == 2, or a BCa result that is not finite
        (degenerate jackknife), falls back to the t-interval when ``stat`` is
        ``np.mean`` and to the percentile interval otherwise.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    data = _clean(x)
    n = data.size
    if n < 2:
        return _NAN, _NAN
    if np.all(data == data[0]):
        v = float(stat(data))
        return v, v
    if n >= 3:
        res = _quiet(
            _sps.bootstrap,
            (data,),
            stat,
            vectorized=True,
            n_resamples=int(n_boot),
            confidence_level=level,
            method=method,
            rng=np.random.default_rng(seed),
        )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
    if stat is np.mean:
        return _t_interval(data, level)
    if method == "percentile":
        return _NAN, _NAN
    return bootstrap_ci(data, stat, level, n_boot, seed, method="percentile")


def mean_ci(x: Any, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Confidence interval of the mean of ``x`` (shape ``(n,)``, NaNs dropped).

    The rule: the Student-t interval for ``2 <= n < T_BELOW`` (bootstrap intervals
    under-cover at the seed counts of a study: see `T_BELOW`), the BCa bootstrap (:func:`bootstrap_ci`, 9,999
    resamples) from ``T_BELOW`` seeds on. ``(nan, nan)`` for n < 2; ``(x0, x0)`` for a
    constant sample.
    """
    data = _clean(x)
    if data.size < 2:
        return _NAN, _NAN
    if np.all(data == data[0]):
        return float(data[0]), float(data[0])
    if data.size < T_BELOW:
        return _t_interval(data, level)
    return bootstrap_ci(data, level=level, seed=seed)


def iqm(x: Any) -> float:
    """Interquartile mean: mean of the middle 50 % of the sorted values.

    Same definition as ``scipy.stats.trim_mean(x, 0.25)``: ``int(0.25 * n)`` values
    are cut from each end. ``x`` has shape ``(n,)``; NaNs are dropped; empty -> NaN.
    """
    data = _clean(x)
    if data.size == 0:
        return _NAN
    return float(_sps.trim_mean(data, 0.25))


def summarize(x: Any, rl: bool = False) -> dict[str, float | int]:
    """Descriptive summary of per-seed values ``x`` (shape ``(n,)``).

    Returns a dict with ``n`` (int), ``mean``, ``sd`` (ddof=1; 0.0 when n == 1),
    ``median``, ``ci_low``/``ci_high`` (95 % CI of the mean, :func:`mean_ci`; NaN for
    n < 2) and, when ``rl`` is true, ``iqm`` with its 95 % BCa bootstrap CI
    ``iqm_ci_low``/``iqm_ci_high`` (the robust aggregate recommended for RL returns).
    NaNs are dropped; an empty sample gives n = 0 and NaN everywhere else.
    """
    data = _clean(x)
    n = int(data.size)
    out: dict[str, float | int] = {"n": n}
    if n == 0:
        out.update(mean=_NAN, sd=_NAN, median=_NAN, ci_low=_NAN, ci_high=_NAN)
        if rl:
            out.update(iqm=_NAN, iqm_ci_low=_NAN, iqm_ci_high=_NAN)
        return out
    lo, hi = mean_ci(data)
    out.update(
        mean=float(data.mean()),
        sd=float(data.std(ddof=1)) if n > 1 else 0.0,
        median=float(np.median(data)),
        ci_low=lo,
        ci_high=hi,
    )
    if rl:
        ilo, ihi = bootstrap_ci(data, stat=_trim_mean_rows)
        out.update(iqm=iqm(data), iqm_ci_low=ilo, iqm_ci_high=ihi)
    return out


# --------------------------------------------------------------------------- tests


def welch(a: Any, b: Any) -> dict[str, float]:
    """Welch's unequal-variance two-sample t-test, two-sided:
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``.

    Degenerate cases never raise: n < 2 on either side, or both samples constant with
    equal means, give ``t = df = p = nan``; both constant with different means give
    ``t = ±inf``, ``p = 0`` and ``df = na + nb - 2``.
    """
    x, y = _clean(a), _clean(b)
    na, nb = x.size, y.size
    if na < 2 or nb < 2:
        return {"t": _NAN, "df": _NAN, "p": _NAN}
    if x.var(ddof=1) + y.var(ddof=1) == 0.0:
        diff = float(x.mean() - y.mean())
        if diff == 0.0:
            return {"t": _NAN, "df": _NAN, "p": _NAN}
        return {"t": math.copysign(math.inf, diff), "df": float(na + nb - 2), "p": 0.0}
    r = _quiet(_sps.ttest_ind, x, y, equal_var=False)
    return {"t": float(r.statistic), "df": float(r.df), "p": float(r.pvalue)}


def mann_whitney(a: Any, b: Any, method: str = "auto") -> dict[str, float]:
    """Two-sided Mann–Whitney U test: ``scipy.stats.mannwhitneyu(a, b,
    alternative="two-sided", method=method)``; ``u`` is the U statistic of sample ``a``.

    SciPy's ``"auto"`` uses the exact null distribution when both samples have at most
    8 values and there are no ties (5 vs 5 seeds: exact), else the normal
    approximation with tie and continuity correction. Empty input gives NaN; all
    values identical gives ``p = 1``.
    """
    x, y = _clean(a), _clean(b)
    if x.size == 0 or y.size == 0:
        return {"u": _NAN, "p": _NAN}
    if np.all(np.r_[x, y] == x[0]):
        return {"u": x.size * y.size / 2.0, "p": 1.0}
    r = _quiet(_sps.mannwhitneyu, x, y, alternative="two-sided", method=method)
    return {"u": float(r.statistic), "p": float(r.pvalue)}


def paired_t(a: Any, b: Any) -> dict[str, float]:
    """Paired t-test on ``d = a - b`` (seed-matched samples of equal length):
    ``scipy.stats.ttest_rel(a, b)``, two-sided.

    Pairs containing a NaN are dropped. n < 2 or all differences equal to zero give
    NaN; constant non-zero differences give ``t = ±inf``, ``p = 0``. Raises
    ``ValueError`` for unequal lengths.
    """
    x, y = _clean_pairs(a, b)
    d = x - y
    n = d.size
    if n < 2:
        return {"t": _NAN, "df": _NAN, "p": _NAN}
    df = float(n - 1)
    if np.all(d == d[0]):
        if d[0] == 0.0:
            return {"t": _NAN, "df": df, "p": _NAN}
        return {"t": math.copysign(math.inf, float(d[0])), "df": df, "p": 0.0}
    r = _quiet(_sps.ttest_rel, x, y)
    return {"t": float(r.statistic), "df": float(r.df), "p": float(r.pvalue)}


def wilcoxon_signed_rank(a: Any, b: Any) -> dict[str, float]:
    """Wilcoxon signed-rank test on ``a - b`` (two-sided, zero differences dropped).

    Wraps ``scipy.stats.wilcoxon(a - b, zero_method='wilcox')``; ``w`` is scipy's
    statistic (the smaller of the positive- and negative-rank sums). All differences
    zero gives ``w = 0, p = 1.0``; no complete pairs gives NaN. Pairs containing a
    NaN are dropped; raises ``ValueError`` for unequal lengths.
    """
    x, y = _clean_pairs(a, b)
    d = x - y
    if d.size == 0:
        return {"w": _NAN, "p": _NAN}
    if np.all(d == 0.0):
        return {"w": 0.0, "p": 1.0}
    try:
        res = _quiet(_sps.wilcoxon, d, zero_method="wilcox", alternative="two-sided")
    except ValueError:
        return {"w": _NAN, "p": _NAN}
    return {"w": float(res.statistic), "p": float(res.pvalue)}


# --------------------------------------------------------------------------- effect sizes


def cohens_d(a: Any, b: Any) -> float:
    """Cohen's d: ``(mean_a - mean_b) / pooled SD`` (ddof=1 pooled variance).

    ``pooled^2 = ((na - 1) va + (nb - 1) vb) / (na + nb - 2)``. When the pooled SD
    is 0 the result is 0.0 for equal means and ``±inf`` otherwise. NaN when either
    sample is empty or ``na + nb < 3`` (pooled SD undefined).
    """
    x, y = _clean(a), _clean(b)
    na, nb = x.size, y.size
    if na == 0 or nb == 0 or na + nb < 3:
        return _NAN
    diff = float(x.mean() - y.mean())
    ssa = float(((x - x.mean()) ** 2).sum())
    ssb = float(((y - y.mean()) ** 2).sum())
    pooled = math.sqrt((ssa + ssb) / (na + nb - 2))
    if pooled == 0.0:
        return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / pooled


def a12(a: Any, b: Any) -> float:
    """Vargha–Delaney A12 = P(A > B) + 0.5 P(A = B) over all (na, nb) pairs.

    In [0, 1]; 0.5 means no stochastic difference; 0 or 1: every run of one side is
    above every run of the other. Equals ``U_a / (na nb)``. NaN when either sample is
    empty.
    """
    x, y = _clean(a), _clean(b)
    if x.size == 0 or y.size == 0:
        return _NAN
    gt = np.count_nonzero(x[:, None] > y[None, :])
    eq = np.count_nonzero(x[:, None] == y[None, :])
    return float((gt + 0.5 * eq) / (x.size * y.size))


# --------------------------------------------------------------------------- multiple testing


def holm(pvalues: Any) -> np.ndarray:
    """Holm–Bonferroni step-down adjusted p-values, shape ``(m,)`` like the input.

    Sorted ascending, the k-th (0-based) p-value becomes ``(m - k) p_(k)``, then a
    running maximum keeps the order monotone and values are capped at 1. NaNs pass
    through as NaN and do not count towards m. (SciPy has Benjamini–Hochberg,
    ``false_discovery_control``, but not Holm.)
    """
    p = np.asarray(pvalues, dtype=np.float64).ravel()
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="mergesort")]
    adj = p[order] * (m - np.arange(m))
    adj = np.minimum(np.maximum.accumulate(adj), 1.0)
    out[order] = adj
    return out


def holm_within(
    rows: Iterable[dict[str, Any]],
    key: str = "task",
    p: str = "welch_p",
    out: str = "welch_p_holm",
) -> list[dict[str, Any]]:
    """Add Holm-adjusted p-values, adjusted separately within each ``key`` group.

    ``rows`` are comparison dicts (e.g. from :func:`compare` plus a ``task`` field);
    each gets ``row[out] = holm(group p-values)`` for its group of rows sharing
    ``row.get(key)``. Missing or NaN ``row[p]`` stays NaN and is not counted. The
    dicts are updated in place and the same list is returned (an iterable that is not
    a list is collected into a new list).
    """
    if not isinstance(rows, list):
        rows = list(rows)
    groups: dict[Any, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row.get(key), []).append(i)
    for idx in groups.values():
        vals = [rows[i].get(p, _NAN) for i in idx]
        vals = [_NAN if v is None else float(v) for v in vals]
        for i, v in zip(idx, holm(vals)):
            rows[i][out] = float(v)
    return rows
