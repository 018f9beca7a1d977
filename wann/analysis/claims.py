"""The pre-registered claims of a study (study.json ``"claims"``, the study file's ``[[claims]]``
tables, fixed before the run) tested on its results, one verdict per task: `evaluate(data)`.

A claim has an ``id``, a ``text``, a ``test`` and its arms; an arm is ``"method/variant"``, the
variant as in the results table's `variant` column (``"-"`` for an unsized method; ``"dense0"``,
alone or as the start of a variant such as ``"dense0+uniform2"``, is the task's first dense
width). An arm's scores are its final rows, one per seed: RL mean test return, classification
test accuracy. A claim is tested on every task where its arms have rows.

Tests (all paired by seed: a seed's A and B share the seed's champion and parent runs, and every
score is measured on the same fixed test set; only seeds with both arms count):

- ``greater`` (A > B): one-sided paired t-test (``ttest_rel(a, b, alternative="greater")``),
  with the one-sided Wilcoxon signed-rank test beside it; the two-sided paired t-test for the
  other direction; TOST at the margin for "too small to matter".
- ``equivalent`` (``|A - B| < margin``): paired TOST at the margin (the claim's ``margin``, else
  the task's pre-registered rule, `comparisons.margin`); a difference outside the margin is
  tested by the two one-sided tests of ``diff > margin`` and ``diff < -margin`` (``p_out``, the
  smaller of their p-values times 2, at most 1).
- ``variance`` (between-structure variance share > between-initialisation share): ``a`` names one
  or more fixed-structure arms (several separated by spaces or commas, or a list), each
  tested on its own (one row per arm); see `variance.variance_split`.

Holm's correction: within a task, over its family of greater and equivalent claims (``m`` of them
that have at least two pairs), separately for each of the three p-values a claim carries: the
support p (greater: one-sided p of A > B; equivalent: TOST p), the refutation p (greater:
two-sided paired p; equivalent: ``p_out``) and the TOST p. A variance claim is decided by its
bootstrap interval and is not in the family.

Verdicts (exactly one per claim and task; alpha = 0.05):

- greater: "supported" when the Holm-adjusted one-sided p < alpha; else "refuted" when the mean
  difference is negative and the Holm-adjusted two-sided p < alpha; else "equivalent" when the
  Holm-adjusted TOST p < alpha (the difference is inside the margin); else "inconclusive".
- equivalent: "supported" when the Holm-adjusted TOST p < alpha; else "refuted" when the
  Holm-adjusted ``p_out`` < alpha (significantly outside the margin); else "inconclusive".
- variance: "supported" when the 95 % bootstrap CI of (structure share - initialisation share)
  lies above 0, "refuted" when it lies below 0, else "inconclusive".

Power (what an inconclusive verdict could have detected): greater, the smallest d_z (mean / SD
of the paired differences) the one-sided paired t-test detects with 80 % power at alpha / m
(Holm's strictest step), and that times the SD of the differences in score units; equivalent,
the smallest margin a paired TOST at alpha / m shows with 80 % power when the true difference is
0 (`pairwise.tost_detectable_margin`).

The arms live in `arms` (`parse_arm`, `arm_label`, `arm_scores`) and the variance split in
`variance`; their names are importable from here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats as _sps

from wann.analysis import pairwise, stats
from wann.analysis.arms import arm_label, arm_scores, parse_arm
from wann.analysis.comparisons import ALPHA, margin
from wann.analysis.data import StudyData, tasks
from wann.analysis.variance import N_BOOT as N_BOOT
from wann.analysis.variance import _share_diff as _share_diff
from wann.analysis.variance import structures, variance_arms, variance_components, variance_split

__all__ = [
    "GREATER",
    "EQUIVALENT",
    "VARIANCE",
    "SUPPORTED",
    "REFUTED",
    "EQUIVALENT_VERDICT",
    "INCONCLUSIVE",
    "POWER",
    "parse_arm",
    "variance_arms",
    "arm_label",
    "arm_scores",
    "paired_claim",
    "evaluate",
    "variance_components",
    "variance_split",
    "structures",
    "answer_lines",
]

GREATER, EQUIVALENT, VARIANCE = "greater", "equivalent", "variance"
SUPPORTED, REFUTED, EQUIVALENT_VERDICT, INCONCLUSIVE = "supported", "refuted", "equivalent", "inconclusive"
#: the power at which the detectable effects are stated
POWER = 0.8

_NAN = float("nan")


# --------------------------------------------------------------------------- paired tests


def _one_sided_greater(d: np.ndarray) -> float:
    """p of the one-sided paired t-test of mean(d) > 0 (degenerate: constant d gives 0 when
    positive, 1 otherwise)."""
    if d.size < 2:
        return _NAN
    if np.all(d == d[0]):
        return 0.0 if d[0] > 0 else 1.0
    return float(stats._quiet(_sps.ttest_1samp, d, 0.0, alternative="greater").pvalue)


def _wilcoxon_greater(d: np.ndarray) -> float:
    """p of the one-sided Wilcoxon signed-rank test of d > 0 (zero differences dropped; all
    zero gives 1)."""
    if d.size == 0:
        return _NAN
    if np.all(d == 0.0):
        return 1.0
    try:
        return float(stats._quiet(_sps.wilcoxon, d, zero_method="wilcox", alternative="greater").pvalue)
    except ValueError:
        return _NAN


def _outside(d: np.ndarray, m: float) -> float:
    """p that the mean of d lies outside ±m: twice the smaller p of the one-sided tests of
    mean(d) > m and mean(d) < -m, at most 1 (constant d: 0 when |d| > m, else 1)."""
    if d.size < 2:
        return _NAN
    if np.all(d == d[0]):
        return 0.0 if abs(d[0]) > m else 1.0
    hi = float(stats._quiet(_sps.ttest_1samp, d, m, alternative="greater").pvalue)
    lo = float(stats._quiet(_sps.ttest_1samp, d, -m, alternative="less").pvalue)
    return min(1.0, 2.0 * min(hi, lo))


def paired_claim(a: Any, b: Any, test: str, margin_: float | None) -> dict[str, Any]:
    """Every number of a greater / equivalent claim on one task, from seed-matched scores.

    a, b: shape ``(n,)``, the same seeds in the same order, score units. Returns ``n``,
    ``mean_a``, ``mean_b``, ``diff`` (mean of a - b), ``ci_low``/``ci_high`` (95 % CI of the mean
    difference, `stats.mean_ci`: the t-interval below `stats.T_BELOW` pairs), ``sd_diff``,
    ``d_z`` (diff / sd_diff), ``cohens_d`` (pooled, unpaired), ``a12``, ``p_greater``
    (one-sided paired t, A > B), ``p_two`` (two-sided paired t), ``wilcoxon_p`` (one-sided,
    A > B), ``margin``, ``tost_p`` (paired TOST; NaN without a margin), ``p_out`` (difference
    outside ±margin), and the raw ``p_support`` / ``p_refute`` the verdict uses (see the module
    docstring). Fewer than 2 pairs: NaN tests.
    """
    x, y = stats._clean_pairs(a, b)
    d = x - y
    n = int(d.size)
    row: dict[str, Any] = {
        "n": n,
        "mean_a": float(x.mean()) if n else _NAN,
        "mean_b": float(y.mean()) if n else _NAN,
        "diff": float(d.mean()) if n else _NAN,
        "margin": _NAN if margin_ is None else float(margin_),
    }
    lo, hi = stats.mean_ci(d)
    sd = float(d.std(ddof=1)) if n > 1 else _NAN
    dz = _NAN
    if n > 1:
        dz = row["diff"] / sd if sd > 0 else (0.0 if row["diff"] == 0 else math.copysign(math.inf, row["diff"]))
    row.update(
        ci_low=lo,
        ci_high=hi,
        sd_diff=sd,
        d_z=dz,
        cohens_d=stats.cohens_d(x, y),
        a12=stats.a12(x, y),
        p_greater=_one_sided_greater(d),
        p_two=stats.paired_t(x, y)["p"],
        wilcoxon_p=_wilcoxon_greater(d),
    )
    has_margin = margin_ is not None and math.isfinite(margin_) and margin_ > 0
    row["tost_p"] = pairwise.tost(x, y, margin_, paired=True)["p"] if has_margin and n >= 2 else _NAN
    row["p_out"] = _outside(d, margin_) if has_margin else _NAN
    if test == GREATER:
        row["p_support"], row["p_refute"] = row["p_greater"], row["p_two"]
    else:
        row["p_support"], row["p_refute"] = row["tost_p"], row["p_out"]
    return row


def _verdict(r: dict[str, Any], alpha: float) -> tuple[str, str]:
    """(verdict, why) of a greater / equivalent row with its Holm-adjusted p-values."""

    def sig(k: str) -> bool:
        v = r.get(k)
        return isinstance(v, float) and math.isfinite(v) and v < alpha

    if r["n"] < 2:
        return INCONCLUSIVE, "fewer than 2 seed-matched pairs"
    if r["test"] == EQUIVALENT and not math.isfinite(r["margin"]):
        return INCONCLUSIVE, "no equivalence margin for this task"
    if r["test"] == GREATER:
        if sig("p_support_holm"):
            small = sig("tost_p_holm")
            return SUPPORTED, "A > B" + (f", by less than the ±{r['margin']:.3g} margin" if small else "")
        if r["diff"] < 0 and sig("p_refute_holm"):
            return REFUTED, "B > A"
        if sig("tost_p_holm"):
            return EQUIVALENT_VERDICT, f"|A - B| < {r['margin']:.3g}"
        return INCONCLUSIVE, _power_words(r)
    if sig("p_support_holm"):
        return SUPPORTED, f"|A - B| < {r['margin']:.3g}"
    if sig("p_refute_holm"):
        return REFUTED, f"|A - B| > {r['margin']:.3g}"
    return INCONCLUSIVE, _power_words(r)


def _power_words(r: dict[str, Any]) -> str:
    if r["test"] == GREATER:
        dz, dd = r.get("detectable_dz", _NAN), r.get("detectable_diff", _NAN)
        if not math.isfinite(dz):
            return "no power statement"
        return f"could detect d_z >= {dz:.2g}, a mean difference of {dd:.3g}, with {100 * POWER:.0f} % power"
    mm = r.get("detectable_margin", _NAN)
    if not math.isfinite(mm):
        return "no power statement"
    return f"could show equivalence only within ±{mm:.3g}, with {100 * POWER:.0f} % power at a true difference of 0"


# --------------------------------------------------------------------------- evaluation


def evaluate(data: StudyData, alpha: float = ALPHA) -> list[dict[str, Any]]:
    """Every claim of the study tested on every task where its arms exist: one row per (claim,
    task) (a variance claim: per arm), in the claims' order, then the tasks'. Keys: ``claim``
    (id), ``text``, ``test``, ``task``, ``a``, ``b``, the numbers of `paired_claim` or
    `variance_split`, ``m`` (the family size), the Holm-adjusted ``p_support_holm``,
    ``p_refute_holm``, ``tost_p_holm``, the power (``detectable_dz`` / ``detectable_diff`` or
    ``detectable_margin``), ``verdict`` and ``why`` (the verdict's reason in words)."""
    rows: list[dict[str, Any]] = []
    for task in tasks(data):
        fam: list[dict[str, Any]] = []
        for c in data.claims:
            test = c.get("test", GREATER)
            base = {"claim": str(c.get("id", "")), "text": str(c.get("text", "")), "test": test, "task": task}
            if test == VARIANCE:
                for spec in variance_arms(c.get("a", "")):
                    v = variance_split(data, task, spec)
                    if v["k"] == 0:
                        continue
                    r = {**base, "a": spec, "b": "", **v}
                    lo, hi = r["ci_low"], r["ci_high"]
                    if math.isfinite(lo) and lo > 0:
                        r["verdict"], r["why"] = SUPPORTED, "structure share > within share (init + noise)"
                    elif math.isfinite(hi) and hi < 0:
                        r["verdict"], r["why"] = REFUTED, "within share (init + noise) > structure share"
                        noise = r.get("eval_share", math.nan) / r["init"] if r.get("init", 0) > 0 else math.nan
                        if math.isfinite(noise) and noise >= 0.5:
                            r["why"] += f", {noise:.0%} of it the test set's sampling noise"
                    else:
                        r["verdict"] = INCONCLUSIVE
                        r["why"] = (
                            f"the CI includes 0, {r['k']} seeds x {r['r']} initialisations"
                            if math.isfinite(lo)
                            else f"too few seeds or initialisations, {r['k']} x {r['r']}"
                        )
                    rows.append(r)
                continue
            a, b = str(c.get("a", "")), str(c.get("b", ""))
            xa, xb = arm_scores(data, task, a), arm_scores(data, task, b)
            if not xa or not xb:
                continue
            common = sorted(set(xa) & set(xb))
            mg = c.get("margin")
            mg = float(mg) if mg is not None else margin(data, task)
            r = {**base, "a": a, "b": b, **paired_claim([xa[s] for s in common], [xb[s] for s in common], test, mg)}
            fam.append(r)
            rows.append(r)
        tested = [r for r in fam if r["n"] >= 2]
        m = len(tested)
        for key in ("p_support", "p_refute", "tost_p"):
            adj = stats.holm([r[key] for r in tested])
            for r, v in zip(tested, adj):
                r[key + "_holm"] = float(v)
        for r in fam:
            r["m"] = m
            for key in ("p_support", "p_refute", "tost_p"):
                r.setdefault(key + "_holm", _NAN)
            n = r["n"]
            if r["test"] == GREATER:
                dz = pairwise.min_detectable_dz(n, alpha, POWER, max(m, 1), sided=1)
                r["detectable_dz"] = dz
                r["detectable_diff"] = dz * r["sd_diff"] if math.isfinite(r["sd_diff"]) else _NAN
            else:
                r["detectable_margin"] = pairwise.tost_detectable_margin(n, r["sd_diff"], alpha, POWER, max(m, 1))
            r["verdict"], r["why"] = _verdict(r, alpha)
    order = {str(c.get("id", "")): i for i, c in enumerate(data.claims)}
    task_order = {t: i for i, t in enumerate(tasks(data))}
    rows.sort(key=lambda r: (order.get(r["claim"], 0), task_order[r["task"]]))
    return rows


# --------------------------------------------------------------------------- the answer


def _where(rows: list[dict[str, Any]], verdict: str) -> list[str]:
    return [r["task"] + (f" ({r['a']})" if r["test"] == VARIANCE else "") for r in rows if r["verdict"] == verdict]


def answer_lines(data: StudyData, rows: list[dict[str, Any]]) -> list[str]:
    """The founding question answered from the verdicts: one line per claim (where it is
    supported, refuted, equivalent or undecided, with what the study could have detected), one
    on structure versus initialisation where a variance claim was tested, then what the
    comparison matches and what it does not."""
    out: list[str] = []
    if not rows:
        return out
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_claim.setdefault(r["claim"], []).append(r)
    total = {k: sum(1 for r in rows if r["verdict"] == k) for k in (SUPPORTED, REFUTED, EQUIVALENT_VERDICT)}
    out.append(
        f"Of {len(rows)} claim-task tests, {total[SUPPORTED]} support their claim, {total[REFUTED]} refute it, "
        f"{total[EQUIVALENT_VERDICT]} find the two arms equivalent within the margin and "
        f"{len(rows) - sum(total.values())} cannot decide."
    )
    for cid, rs in by_claim.items():
        first = rs[0]
        parts = []
        for verdict, words in (
            (SUPPORTED, "supported on"),
            (REFUTED, "refuted on"),
            (EQUIVALENT_VERDICT, "equivalent within the margin on"),
        ):
            if w := _where(rs, verdict):
                parts.append(f"{words} {', '.join(w)}")
        undecided = [r for r in rs if r["verdict"] == INCONCLUSIVE]
        if undecided:
            parts.append(
                "undecided on "
                + "; ".join(
                    f"{r['task']}{' ' + r['a'] if r['test'] == VARIANCE else ''} ({r['why']})" for r in undecided
                )
            )
        if first["test"] == VARIANCE:
            arms = ", ".join(sorted({arm_label(r["a"]) for r in rs}))
            what = f"structure explains more variance than initialisation ({arms})"
        else:
            what = f"A = {arm_label(first['a'])}, B = {arm_label(first['b'])}"
        out.append(f"**{first['text']}** (`{cid}`, {first['test']}; {what}): " + "; ".join(parts) + ".")
    var = [r for r in rows if r["test"] == VARIANCE and math.isfinite(r.get("structure", _NAN))]
    if var:
        parts = [
            f"{r['task']} {arm_label(r['a'])}: structure {100 * r['structure']:.0f} %, "
            + (
                f"initialisation {100 * r['init_only']:.0f} %, evaluation noise {100 * r['eval_share']:.0f} %"
                if math.isfinite(r["eval_share"])
                else f"initialisation (evaluation noise included) {100 * r['init']:.0f} %"
            )
            for r in var
        ]
        out.append(
            "Where the score's spread comes from, for a fixed structure (shares of the variance across seeds and "
            "re-drawn initial weights; the claim compares the structure share with the other two together): "
            + "; ".join(parts)
            + "."
        )
    has_half = (data.full["variant"] == "half").any()
    out.append(
        "What is matched: every comparison is paired by seed (a seed's arms share its WANN champion and its "
        "dense parent) and every score is measured on the same fixed test episodes or test split; trained arms "
        "get the same training budget (episodes or epochs; a pruned net trains its full budget after pruning); "
        "sized arms have the champion's connection count (1x). What is not matched: the WANN search's compute "
        "(the score-versus-compute plots put it on the same axis"
        + (", with a search at half the budget" if has_half else "")
        + "), the dense parents' training before pruning (counted there too) and the dense nets' larger "
        "size. An inconclusive verdict is not evidence of no difference: the detectable effect is stated "
        "beside it."
    )
    return out
