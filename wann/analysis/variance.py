"""The variance claim of a study (``test = "variance"``): for a fixed-structure arm, is more of
its final scores' variance between structures (seeds) than between initialisations (re-drawn
initial weights of one seed's structure)?

``a`` names one or more fixed-structure arms (several separated by spaces or commas, or a list:
`variance_arms`), each tested on its own. `variance_components` splits the scores of ``k``
structures x ``r`` initialisations by a one-way random-effects ANOVA, with the evaluation noise
of the finite test set as a part of the within variance; `variance_split` adds the 95 % bootstrap
CI over seeds of (structure share - initialisation share), which decides the claim (see
`claims`); `structures` lists a task's replicated fixed-structure arms.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from scipy import stats as _sps

from wann.analysis import stats
from wann.analysis.arms import parse_arm, resolve_variant
from wann.analysis.data import StudyData
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY

__all__ = ["N_BOOT", "variance_arms", "variance_components", "variance_split", "structures"]

#: bootstrap resamples of the variance claim's interval
N_BOOT = 9_999

_NAN = float("nan")
_REP = re.compile(r"\+r(\d+)$")


def variance_arms(a: Any) -> list[str]:
    """The arms a variance claim's ``a`` names: a list, or one string of arms separated by
    spaces or commas."""
    if isinstance(a, (list, tuple)):
        return [str(x).strip() for x in a if str(x).strip()]
    return [x for x in re.split(r"[\s,]+", str(a)) if x]


def variance_components(y: Any, eval_var: float = _NAN) -> dict[str, float]:
    """One-way random-effects ANOVA of scores ``y`` of shape ``(k, r)``: k structures (seeds) as
    groups, r initialisations (replicates) of each.

    ``MSB = r sum_i (mean_i - mean)^2 / (k - 1)``, ``MSW = sum_ij (y_ij - mean_i)^2 / (k (r - 1))``;
    ``sigma_within^2 = MSW``, ``sigma_between^2 = max(0, (MSB - MSW) / r)``, total = their sum
    (score units squared). ``eval_var``: the sampling variance of one score from its finite test
    set (RL ``score_sd^2 / score_n``, classification ``p (1 - p) / n_test``), counted as the
    evaluation-noise part of the within variance (at most all of it).

    Returns ``between``, ``within``, ``total``, ``eval`` (variances), the shares ``structure``
    (between / total), ``init`` (within / total, evaluation noise included: the share the claim
    compares), ``init_only`` ((within - eval) / total), ``eval_share`` (eval / total) and ``diff``
    (structure - init). NaN shares when k < 2, r < 2 or total = 0.
    """
    y = np.asarray(y, dtype=np.float64)
    nan = dict.fromkeys(
        ("between", "within", "total", "eval", "structure", "init", "init_only", "eval_share", "diff"), _NAN
    )
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] < 2 or not np.all(np.isfinite(y)):
        return nan
    k, r = y.shape
    gm = y.mean(axis=1)
    msb = r * float(((gm - y.mean()) ** 2).sum()) / (k - 1)
    msw = float(((y - gm[:, None]) ** 2).sum()) / (k * (r - 1))
    between = max(0.0, (msb - msw) / r)
    total = between + msw
    ev = min(float(eval_var), msw) if math.isfinite(eval_var) else _NAN
    out = dict(nan, between=between, within=msw, total=total, eval=ev)
    if total > 0:
        out.update(
            structure=between / total,
            init=msw / total,
            init_only=(msw - ev) / total if math.isfinite(ev) else _NAN,
            eval_share=ev / total if math.isfinite(ev) else _NAN,
            diff=(between - msw) / total,
        )
    return out


def _share_diff(y: np.ndarray) -> np.ndarray:
    """(structure share - init share) of ``y[..., k, r]``, vectorised over leading axes."""
    k, r = y.shape[-2:]
    gm = y.mean(axis=-1)
    msb = r * ((gm - gm.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1) / (k - 1)
    msw = ((y - gm[..., None]) ** 2).sum(axis=(-2, -1)) / (k * (r - 1))
    between = np.maximum(0.0, (msb - msw) / r)
    total = between + msw
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (between - msw) / np.where(total > 0, total, 1.0), np.nan)


def _structure_matrix(data: StudyData, task: str, spec: str):
    """(seeds, reps, y of shape (k, r), eval_var) of a fixed-structure arm: its final rows of the
    base variant and its replicates (``variant + "+r{rep}"``), seeds with every rep."""
    m, v = parse_arm(spec)
    base = resolve_variant(data, task, v)
    f = data.full_final
    g = f[(f["task"] == task) & (f["method"] == m)]
    keep = g["variant"].map(lambda s: s == base or (s.startswith(base) and bool(_REP.fullmatch(s[len(base) :]))))
    g = g[keep.astype(bool)]
    if g.empty:
        return [], [], np.zeros((0, 0)), _NAN
    table = g.pivot_table(index="seed", columns="rep", values="score", aggfunc="first")
    table = table.dropna(axis=1, how="all").dropna(axis=0, how="any")
    y = table.to_numpy(dtype=np.float64)
    seeds = [int(s) for s in table.index]
    reps = [int(r) for r in table.columns]
    used = g[g["seed"].isin(seeds) & g["rep"].isin(reps)]
    p = used["score"].to_numpy(dtype=np.float64)
    n = used["score_n"].to_numpy(dtype=np.float64)
    if data.task_kind(task) == CLASSIFY:
        ev = p * (1.0 - p) / n
    else:
        ev = used["score_sd"].to_numpy(dtype=np.float64) ** 2 / n
    ev = ev[np.isfinite(ev)]
    return seeds, reps, y, float(ev.mean()) if ev.size else _NAN


def variance_split(data: StudyData, task: str, spec: str, level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    """The variance of a fixed-structure arm's final scores split into structure (between
    seeds), initialisation (between replicates of one seed's structure) and evaluation noise,
    with a bootstrap CI over seeds of (structure share - initialisation share).

    The arm's rows: its base variant (rep 0) and the replicates ``variant + "+r{rep}"`` (reps
    1..R-1 re-draw only the initial weights; the mask, the training randomness and the test
    episodes stay those of the seed); seeds missing a replicate are left out. Components by
    `variance_components`. The CI: seeds resampled with replacement (each with all its reps),
    ``N_BOOT`` resamples, BCa (``scipy.stats.bootstrap``), the percentile interval where BCa is
    not finite. Returns the components plus ``arm``, ``k`` (seeds), ``r`` (reps), ``ci_low``,
    ``ci_high``.

    Evaluation noise is estimated as if each score had its own independent test episodes (test
    examples); every score is measured on the same fixed test set, so only the network-by-episode
    part of that noise varies between networks, and the estimate is an upper bound on the
    evaluation noise inside the within variance. The claim compares the structure share with the
    whole within share (evaluation noise included), which does not favour the structure.
    """
    seeds, reps, y, ev = _structure_matrix(data, task, spec)
    out: dict[str, Any] = {"arm": spec, "k": len(seeds), "r": len(reps), **variance_components(y, ev)}
    out["ci_low"] = out["ci_high"] = _NAN
    if len(seeds) < 3 or len(reps) < 2 or not math.isfinite(out["diff"]):
        return out

    def stat(idx, axis=-1):
        i = np.moveaxis(np.asarray(idx), axis, -1).astype(int)
        return _share_diff(y[i])

    vals = stat(np.arange(len(seeds)))
    if not np.isfinite(vals):
        return out
    for method in ("BCa", "percentile"):
        try:
            res = stats._quiet(
                _sps.bootstrap,
                (np.arange(len(seeds)),),
                stat,
                vectorized=True,
                n_resamples=N_BOOT,
                confidence_level=level,
                method=method,
                rng=np.random.default_rng(seed),
            )
        except (ValueError, FloatingPointError):
            continue
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            out["ci_low"], out["ci_high"] = lo, hi
            out["ci_method"] = method
            break
    return out


def structures(data: StudyData, task: str) -> list[str]:
    """The fixed-structure arms of a task that have replicates (registry ``replicated``
    methods; sized ones at their base variant ``1x``), as ``"method/variant"``."""
    f = data.full_final[data.full_final["task"] == task]
    out = []
    for m in methods.METHODS:
        if not m.replicated:
            continue
        g = f[(f["method"] == m.name) & (f["rep"] > 0)]
        if g.empty:
            continue
        base = "1x" if m.sized else "-"
        if g["variant"].str.startswith(base + "+r").any():
            out.append(f"{m.name}/{base}")
    return out
