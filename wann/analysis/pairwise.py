"""One pairwise comparison of two methods' per-seed samples, and what the design can detect.

Built on the tests and effect sizes of `wann.analysis.stats` (same input convention: 1-D
array-likes of per-seed floats, shape ``(n,)``, in the unit of the measured score, e.g. mean
episode return or test accuracy; same NaN and degenerate-input policy):
- the equivalence test (TOST, `tost`): is ``|mean_a - mean_b|`` below a margin fixed in advance
  (in score units)?
- power: the smallest Cohen's d a two-sample t-test with ``na`` and ``nb`` seeds detects
  (`min_detectable_d`, unitless), the smallest standardised mean difference d_z a paired t-test on
  ``n`` seed-matched pairs detects (`min_detectable_dz`, one- or two-sided), the smallest margin a
  paired TOST shows with that power when the true difference is 0 (`tost_detectable_margin`, in
  score units), and the smallest exact Mann-Whitney p-value those sample sizes allow (`mwu_min_p`);
- `compare`: every number one comparison row of the report carries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize as _spo
from scipy import stats as _sps

from wann.analysis.stats import (
    _NAN,
    _clean,
    _clean_pairs,
    _quiet,
    a12,
    cohens_d,
    mann_whitney,
    paired_t,
    welch,
    wilcoxon_signed_rank,
)

__all__ = ["mwu_min_p", "tost", "min_detectable_d", "min_detectable_dz", "tost_detectable_margin", "compare"]


# --------------------------------------------------------------------------- power


def mwu_min_p(na: int, nb: int) -> float:
    """The smallest two-sided exact Mann–Whitney p-value with ``na`` and ``nb`` values:
    ``2 / C(na + nb, na)`` (complete separation); 5 vs 5 gives 2 / 252 = 0.0079."""
    if na < 1 or nb < 1:
        return _NAN
    return min(1.0, 2.0 / math.comb(na + nb, na))


def _power_t(d: float, na: int, nb: int, alpha: float) -> float:
    """Power of the two-sided two-sample t-test (pooled, df = na + nb - 2) at effect d."""
    df = na + nb - 2
    nc = d * math.sqrt(na * nb / (na + nb))
    crit = float(_sps.t.ppf(1.0 - alpha / 2.0, df))
    return float(_sps.nct.sf(crit, df, nc) + _sps.nct.cdf(-crit, df, nc))


def min_detectable_d(na: int, nb: int, alpha: float = 0.05, power: float = 0.8, m: int = 1) -> float:
    """The smallest effect |d| (Cohen's d) a two-sided two-sample t-test with ``na`` and
    ``nb`` runs detects with probability ``power`` at level ``alpha / m``.

    ``m`` is the number of comparisons under Holm's correction: its strictest step
    tests the smallest p-value at ``alpha / m`` (``m = 1``: its most lenient step).
    Computed from the noncentral t distribution (noncentrality ``d sqrt(na nb / (na +
    nb))``, df ``na + nb - 2``). NaN when ``na + nb < 3``.
    """
    if na < 1 or nb < 1 or na + nb < 3:
        return _NAN
    level = alpha / max(1, int(m))

    def short(d: float) -> float:  # > 0 while d is too small to reach `power`
        pw = _power_t(d, na, nb, level)
        return power - (pw if math.isfinite(pw) else 1.0)

    hi = 1.0
    while short(hi) > 0.0 and hi < 1e3:
        hi *= 2.0
    return float(_spo.brentq(short, 0.0, hi, xtol=1e-10))


def _power_paired(dz: float, n: int, level: float, sided: int) -> float:
    """Power of the paired t-test on ``n`` pairs (df = n - 1, noncentrality dz sqrt(n)) at
    level ``level``: one-sided (``sided=1``, H1 mean difference > 0) or two-sided."""
    df, nc = n - 1, dz * math.sqrt(n)
    if sided == 1:
        return float(_sps.nct.sf(float(_sps.t.ppf(1.0 - level, df)), df, nc))
    crit = float(_sps.t.ppf(1.0 - level / 2.0, df))
    return float(_sps.nct.sf(crit, df, nc) + _sps.nct.cdf(-crit, df, nc))


def min_detectable_dz(n: int, alpha: float = 0.05, power: float = 0.8, m: int = 1, sided: int = 1) -> float:
    """The smallest standardised paired effect ``d_z = mean(a - b) / SD(a - b)`` a paired t-test
    on ``n`` seed-matched pairs detects with probability ``power`` at level ``alpha / m``
    (Holm's strictest step over ``m`` tests), one-sided (``sided=1``) or two-sided (``2``).

    Unitless; times the SD of the paired differences it is the detectable mean difference in
    score units. From the noncentral t distribution (df ``n - 1``, noncentrality
    ``d_z sqrt(n)``). NaN for ``n < 2``.
    """
    if n < 2:
        return _NAN
    if sided not in (1, 2):
        raise ValueError(f"sided must be 1 or 2, got {sided}")
    level = alpha / max(1, int(m))

    def short(d: float) -> float:
        pw = _power_paired(d, n, level, sided)
        return power - (pw if math.isfinite(pw) else 1.0)

    hi = 1.0
    while short(hi) > 0.0 and hi < 1e4:
        hi *= 2.0
    return float(_spo.brentq(short, 0.0, hi, xtol=1e-10))


def tost_detectable_margin(n: int, sd: float, alpha: float = 0.05, power: float = 0.8, m: int = 1) -> float:
    """The smallest equivalence margin (in the unit of ``sd``, the SD of the paired
    differences) a paired TOST on ``n`` pairs at level ``alpha / m`` shows with probability
    ``power`` when the true mean difference is 0.

    The usual approximation ``(t_{1 - alpha/m, n-1} + t_{1 - (1 - power)/2, n-1}) sd / sqrt(n)``
    (both one-sided tests must reject; at a true difference of 0 each fails with probability
    (1 - power) / 2). NaN for ``n < 2`` or an SD that is not finite.
    """
    if n < 2 or not math.isfinite(sd):
        return _NAN
    level = alpha / max(1, int(m))
    df = n - 1
    q = float(_sps.t.ppf(1.0 - level, df)) + float(_sps.t.ppf(1.0 - (1.0 - power) / 2.0, df))
    return q * float(sd) / math.sqrt(n)


# --------------------------------------------------------------------------- equivalence


def tost(a: Any, b: Any, margin: float, paired: bool = False) -> dict[str, float]:
    """Two one-sided tests (TOST) for equivalence of the means within ``±margin``.

    ``margin`` (> 0) is in the unit of the scores and must be fixed before the data
    are seen. H0: ``|mean_a - mean_b| >= margin``; rejected when both one-sided tests
    reject: ``p_lower`` of H0 ``diff <= -margin`` (``ttest_ind(a, b - margin,
    alternative="greater")``, Welch) and ``p_upper`` of H0 ``diff >= +margin``
    (``ttest_ind(a, b + margin, alternative="less")``); with ``paired=True`` the same
    with ``ttest_rel`` on seed-matched pairs. ``p = max(p_lower, p_upper)``; p < alpha
    is the same as the ``1 - 2 alpha`` CI of the difference lying inside ``±margin``.

    Returns ``{"diff", "p_lower", "p_upper", "p"}``. n < 2 on a side gives NaN p's;
    zero variance gives p = 0 when ``|diff| < margin`` and p = 1 otherwise.
    """
    if not (margin > 0 and math.isfinite(margin)):
        raise ValueError(f"margin must be a positive number, got {margin}")
    if paired:
        x, y = _clean_pairs(a, b)
    else:
        x, y = _clean(a), _clean(b)
    if x.size < 2 or y.size < 2:
        return {"diff": _NAN, "p_lower": _NAN, "p_upper": _NAN, "p": _NAN}
    diff = float(x.mean() - y.mean())
    spread = np.var(x - y, ddof=1) if paired else x.var(ddof=1) + y.var(ddof=1)
    if spread == 0.0:
        lo, hi = float(diff <= -margin), float(diff >= margin)
    else:
        test = _sps.ttest_rel if paired else (lambda u, v, **k: _sps.ttest_ind(u, v, equal_var=False, **k))
        lo = float(_quiet(test, x, y - margin, alternative="greater").pvalue)
        hi = float(_quiet(test, x, y + margin, alternative="less").pvalue)
    return {"diff": diff, "p_lower": lo, "p_upper": hi, "p": max(lo, hi)}


# --------------------------------------------------------------------------- reporting


def compare(a: Any, b: Any, paired: bool = False, margin: float | None = None) -> dict[str, float | int]:
    """Everything one pairwise comparison of method A against method B reports.

    Keys: ``n_a``, ``n_b`` (ints), ``mean_a``, ``mean_b``, ``diff`` (mean_a -
    mean_b), ``welch_t``, ``welch_p``, ``mwu_u``, ``mwu_p`` (SciPy's ``"auto"``:
    exact at small n without ties), ``cohens_d``, ``a12``; with ``paired=True`` also
    ``paired_t``, ``paired_p`` and ``wilcoxon_p`` (computed on complete pairs; ``a`` and
    ``b`` must have equal lengths, else ``ValueError``); with a ``margin`` also
    ``tost_p`` (:func:`tost` at that margin, paired when ``paired``). All values are
    plain Python numbers (NaN/inf possible in degenerate cases).
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
    if margin is not None:
        row["tost_p"] = tost(a, b, margin, paired=paired)["p"] if paired else tost(x, y, margin)["p"]
    return row
