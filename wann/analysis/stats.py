"""Statistics across seeds for comparing search methods.

A *seed* is one independent training/search run; each function takes the per-seed
results of a method as a 1-D array-like of floats (shape ``(n,)``, same unit as the
measured score, e.g. mean episode return or test accuracy). Samples are small
(n = 3..20), so every function is written to cope with degenerate input (n = 0 or 1,
constant samples, NaNs) by returning NaN / a documented limit value instead of
raising.

NaN policy: unpaired functions drop NaNs from each sample independently; paired
functions drop every pair in which either value is NaN.

The tests are implemented from their formulas; SciPy is only used for distribution
tail functions (``t.sf``, ``norm.sf``) and for the Wilcoxon signed-rank test.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import stats as _sps

__all__ = [
    "bootstrap_ci",
    "iqm",
    "summarize",
    "welch",
    "mann_whitney",
    "paired_t",
    "wilcoxon_signed_rank",
    "cohens_d",
    "a12",
    "holm",
    "compare",
    "holm_within",
]

_NAN = float("nan")


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
    s = np.sort(np.moveaxis(samples, axis, -1), axis=-1)
    n = s.shape[-1]
    cut = int(0.25 * n)
    return s[..., cut : n - cut].mean(axis=-1)


def _rank_average(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based) of ``x`` and the sizes of its tie groups."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    # start index of each run of equal values
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    counts = np.diff(np.r_[starts, xs.size])
    # average rank of a run starting at 0-based s with length c is s + (c + 1) / 2
    run_rank = starts + (counts + 1) / 2.0
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, counts)
    return ranks, counts


def _t_two_sided(t: float, df: float) -> float:
    return float(min(1.0, 2.0 * _sps.t.sf(abs(t), df)))


# --------------------------------------------------------------------------- summaries


def bootstrap_ci(
    x: Any,
    stat: Callable[..., Any] = np.mean,
    level: float = 0.95,
    n_boot: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``stat(x)``.

    Args:
        x: per-seed values, shape ``(n,)``; NaNs are removed first.
        stat: statistic; called as ``stat(samples, axis=1)`` on the ``(n_boot, n)``
            resample matrix when it accepts ``axis`` (numpy reductions do), otherwise
            once per row.
        level: two-sided coverage, e.g. 0.95.
        n_boot: number of bootstrap resamples.
        seed: seed of the ``numpy.random.default_rng`` drawing the resample indices;
            the same seed gives the same interval.

    Returns:
        ``(low, high)`` in the unit of ``x``. ``(x0, x0)`` when n == 1 and
        ``(nan, nan)`` when n == 0.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    data = _clean(x)
    n = data.size
    if n == 0:
        return _NAN, _NAN
    if n == 1:
        v = float(stat(data))
        return v, v
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(int(n_boot), n))
    samples = data[idx]
    try:
        boot = np.asarray(stat(samples, axis=1), dtype=np.float64)
        if boot.shape != (samples.shape[0],):
            raise TypeError("statistic did not reduce along axis 1")
    except TypeError:
        boot = np.array([stat(row) for row in samples], dtype=np.float64)
    alpha = 1.0 - level
    lo, hi = np.percentile(boot, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(lo), float(hi)


def iqm(x: Any) -> float:
    """Interquartile mean: mean of the middle 50 % of the sorted values.

    Same definition as ``scipy.stats.trim_mean(x, 0.25)``: ``int(0.25 * n)`` values
    are cut from each end. ``x`` has shape ``(n,)``; NaNs are dropped; empty -> NaN.
    """
    data = _clean(x)
    if data.size == 0:
        return _NAN
    return float(_trim_mean_rows(data))


def summarize(x: Any, rl: bool = False) -> dict[str, float | int]:
    """Descriptive summary of per-seed values ``x`` (shape ``(n,)``).

    Returns a dict with ``n`` (int), ``mean``, ``sd`` (ddof=1; 0.0 when n == 1),
    ``median``, ``ci_low``/``ci_high`` (95 % percentile bootstrap CI of the mean) and,
    when ``rl`` is true, ``iqm`` with its bootstrap CI ``iqm_ci_low``/``iqm_ci_high``
    (the robust aggregate recommended for RL returns). NaNs are dropped; an empty
    sample gives n = 0 and NaN everywhere else.
    """
    data = _clean(x)
    n = int(data.size)
    out: dict[str, float | int] = {"n": n}
    if n == 0:
        out.update(mean=_NAN, sd=_NAN, median=_NAN, ci_low=_NAN, ci_high=_NAN)
        if rl:
            out.update(iqm=_NAN, iqm_ci_low=_NAN, iqm_ci_high=_NAN)
        return out
    lo, hi = bootstrap_ci(data)
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
    """Welch's unequal-variance two-sample t-test, two-sided.

    ``t = (mean_a - mean_b) / sqrt(va/na + vb/nb)`` (ddof=1 variances), degrees of
    freedom by Welch–Satterthwaite, ``p = 2 * t.sf(|t|, df)``. Equals
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``.

    Degenerate cases never raise: n < 2 on either side, or both samples constant with
    equal means, give ``t = df = p = nan``; both constant with different means give
    ``t = ±inf``, ``p = 0`` and ``df = na + nb - 2``.
    """
    x, y = _clean(a), _clean(b)
    na, nb = x.size, y.size
    if na < 2 or nb < 2:
        return {"t": _NAN, "df": _NAN, "p": _NAN}
    diff = float(x.mean() - y.mean())
    va, vb = float(x.var(ddof=1)), float(y.var(ddof=1))
    sa, sb = va / na, vb / nb
    se2 = sa + sb
    if se2 == 0.0:
        if diff == 0.0:
            return {"t": _NAN, "df": _NAN, "p": _NAN}
        return {"t": math.copysign(math.inf, diff), "df": float(na + nb - 2), "p": 0.0}
    t = diff / math.sqrt(se2)
    df = se2**2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
    return {"t": float(t), "df": float(df), "p": _t_two_sided(t, df)}


def _mwu_exact_sf(u: float, n1: int, n2: int) -> float:
    """P(U >= u) under H0 with no ties, by counting arrangements."""
    # counts[i][j] = number of orderings of i x's and j y's for each U value;
    # recurrence f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u)
    size = n1 * n2 + 1
    prev = [np.zeros(size) for _ in range(n2 + 1)]
    for j in range(n2 + 1):
        prev[j][0] = 1.0  # i = 0: U is always 0
    for _i in range(1, n1 + 1):
        cur = [np.zeros(size) for _ in range(n2 + 1)]
        cur[0][0] = 1.0  # j = 0: U is always 0
        for j in range(1, n2 + 1):
            c = cur[j - 1].copy()
            c[j:] += prev[j][: size - j]
            cur[j] = c
        prev = cur
    dist = prev[n2]
    k = int(math.ceil(u - 1e-9))
    return float(dist[k:].sum() / dist.sum())


def mann_whitney(a: Any, b: Any, exact: bool = False) -> dict[str, float]:
    """Two-sided Mann–Whitney U test; ``u`` is the U statistic of sample ``a``.

    ``U_a = R_a - na (na + 1) / 2`` with average ranks for ties. By default the
    p-value is the normal approximation with tie correction and continuity
    correction, identical to ``scipy.stats.mannwhitneyu(a, b,
    alternative='two-sided', method='asymptotic', use_continuity=True)``:
    ``z = (max(U_a, U_b) - na nb / 2 - 0.5) / sigma``, ``p = min(1, 2 * norm.sf(z))``
    with ``sigma^2 = na nb / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1)))``.

    With ``exact=True`` and no ties the exact null distribution is used instead
    (``p = min(1, 2 P(U >= max(U_a, U_b)))``, as scipy's ``method='exact'``); with
    ties it falls back to the asymptotic p-value. Empty input gives NaN; all values
    identical gives ``p = 1``.
    """
    x, y = _clean(a), _clean(b)
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        return {"u": _NAN, "p": _NAN}
    ranks, ties = _rank_average(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    u_big = max(u1, n1 * n2 - u1)
    if exact and np.all(ties == 1):
        return {"u": u1, "p": min(1.0, 2.0 * _mwu_exact_sf(u_big, n1, n2))}
    n = n1 + n2
    tie_term = float(np.sum(ties.astype(np.float64) ** 3 - ties))
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0.0:
        return {"u": u1, "p": 1.0}
    z = (u_big - n1 * n2 / 2.0 - 0.5) / math.sqrt(var)
    p = 2.0 * float(_sps.norm.sf(z))
    return {"u": u1, "p": float(min(1.0, max(0.0, p)))}


def paired_t(a: Any, b: Any) -> dict[str, float]:
    """Paired t-test on ``d = a - b`` (seed-matched samples of equal length).

    ``t = mean(d) / (sd(d) / sqrt(n))`` with ddof=1, ``df = n - 1``, two-sided p;
    equals ``scipy.stats.ttest_rel(a, b)``. Pairs containing a NaN are dropped.
    n < 2 or all differences equal to zero give NaN; constant non-zero differences
    give ``t = ±inf``, ``p = 0``. Raises ``ValueError`` for unequal lengths.
    """
    x, y = _clean_pairs(a, b)
    d = x - y
    n = d.size
    if n < 2:
        return {"t": _NAN, "df": _NAN, "p": _NAN}
    md = float(d.mean())
    sd = float(d.std(ddof=1))
    df = float(n - 1)
    if sd == 0.0:
        if md == 0.0:
            return {"t": _NAN, "df": df, "p": _NAN}
        return {"t": math.copysign(math.inf, md), "df": df, "p": 0.0}
    t = md / (sd / math.sqrt(n))
    return {"t": float(t), "df": df, "p": _t_two_sided(t, df)}


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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = _sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
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

    In [0, 1]; 0.5 means no stochastic difference. Equals ``U_a / (na nb)``.
    NaN when either sample is empty.
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
    through as NaN and do not count towards m.
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


# --------------------------------------------------------------------------- reporting


def compare(a: Any, b: Any, paired: bool = False) -> dict[str, float | int]:
    """Everything one pairwise comparison of method A against method B reports.

    Keys: ``n_a``, ``n_b`` (ints), ``mean_a``, ``mean_b``, ``diff`` (mean_a -
    mean_b), ``welch_t``, ``welch_p``, ``mwu_u``, ``mwu_p`` (asymptotic),
    ``cohens_d``, ``a12``; with ``paired=True`` also ``paired_t``, ``paired_p`` and
    ``wilcoxon_p`` (computed on complete pairs; ``a`` and ``b`` must have equal
    lengths, else ``ValueError``). All values are plain Python numbers (NaN/inf
    possible in degenerate cases).
    """
    if paired:
        _clean_pairs(a, b)  # length check before anything else
    x, y = _clean(a), _clean(b)
    w = welch(x, y)
    u = mann_whitney(x, y)
    row: dict[str, float | int] = {
        "n_a": int(x.size),
        "n_b": int(y.size),
        "mean_a": float(x.mean()) if x.size else _NAN,
        "mean_b": float(y.mean()) if y.size else _NAN,
    }
    row["diff"] = float(row["mean_a"] - row["mean_b"])
    row.update(
        welch_t=w["t"],
        welch_p=w["p"],
        mwu_u=u["u"],
        mwu_p=u["p"],
        cohens_d=cohens_d(x, y),
        a12=a12(x, y),
    )
    if paired:
        pt = paired_t(a, b)
        row.update(paired_t=pt["t"], paired_p=pt["p"], wilcoxon_p=wilcoxon_signed_rank(a, b)["p"])
    return row


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
