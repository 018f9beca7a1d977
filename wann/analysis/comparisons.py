"""The pre-registered comparisons (A vs B, per task and size): Welch / Mann-Whitney / paired
tests, effect sizes, seed-by-seed counts, Holm correction within each task, an equivalence test
(TOST) at a margin fixed before the run, and the verdict.

Equivalence margins (the rule, fixed with the comparisons, before any run): a difference smaller
than the margin is too small to matter.

- RL: 5 % of the task's score range, ``MARGIN_FRACTION * (high - low)`` of `SCORE_RANGE`:
  CartPole-v1 0..500 (its ceiling) -> ±25; swing-up 0..932 (the best score the WANN paper
  reports, tuned weights 932 +- 6) -> ±46.6; BipedalWalker-v3 -100 (a fall) .. 332 (the paper's
  best) -> ±21.6; Pendulum-v1 -1500 .. -150 -> ±67.5. Pendulum's returns are negative costs
  (200 steps of -(angle^2 + 0.1 speed^2 + 0.001 torque^2), at most -16.3 a step): -1500 is
  about what a policy that never swings the pendulum up scores over random starts (a random or
  zero-torque policy scores about -1200 .. -1500 on average; the worst possible, about -3250,
  is never met), and -150 about the best a controller reaches (good swing-up controllers score
  -140 .. -150 on average: a start hanging down costs that much before the pendulum is up). An
  RL task not in the table has no margin, so no equivalence claim.
- Classification: ±0.02 test accuracy (`CLASSIFY_MARGIN`), on every classification task.

Verdict of a comparison, exactly one of (`verdict`):

- "A better" / "B better": the test of record (paired t for rows sharing a parent run, else
  Welch) has Holm-adjusted p < 0.05 within the task (", by less than the ±m margin" added when
  TOST also puts the difference inside the margin);
- "equivalent within ±m": otherwise, when TOST at the margin m has Holm-adjusted p < 0.05 (the
  90 % CI of the difference lies inside ±m);
- "inconclusive (n too small to decide)": neither; when every seed favours one side the verdict
  says so.
"""

from __future__ import annotations

import math
from typing import Any

from wann.analysis import pairwise, stats
from wann.analysis.data import StudyData, dense0, size_key, tasks
from wann.baselines.methods import CLASSIFY

#: the pre-registered comparisons: (name, A, B, size of A, size of B, paired)
#: size None = the method's only size; "1x" etc. per sized method; "dense0" = the parent width
COMPARISONS = (
    ("best shared weight vs small dense", "wann_best_shared", "small_dense", None, "1x", False),
    ("tuned WANN vs dense", "wann_tuned", "dense", None, "dense0", False),
    ("pruned vs random sparse", "pruned_magnitude", "random_sparse", "*", "*", False),
    ("ticket vs pruned", "lottery_ticket", "pruned_magnitude", "*", "*", True),
    ("ticket vs its random-init control", "lottery_ticket", "ticket_random_init", "*", "*", True),
    ("late rewinding vs rewinding to init", "ticket_late_rewind", "lottery_ticket", "*", "*", True),
    ("pruned vs its dense parent", "pruned_magnitude", "dense", "*", "dense0", True),
    (
        "pruned with one shared weight vs best shared weight",
        "pruned_shared_signed",
        "wann_best_shared",
        "1x",
        None,
        False,
    ),
    (
        "pruned with one shared weight, biases trained, vs best shared weight",
        "pruned_shared_signed_bias_trained",
        "wann_best_shared",
        "1x",
        None,
        False,
    ),
    ("WANN topology retrained vs random sparse", "wann_retrained", "random_sparse", None, "1x", False),
)

ALPHA = 0.05
SWINGUP = "wann/CartPoleSwingUp-v0"
_ALIASES = {"swingup": SWINGUP, "CartPoleSwingUp": SWINGUP, "CartPoleSwingUp-v0": SWINGUP}

#: an RL task's score range for its equivalence margin: (lowest, highest) score
SCORE_RANGE = {
    "CartPole-v1": (0.0, 500.0),
    SWINGUP: (0.0, 932.0),
    "BipedalWalker-v3": (-100.0, 332.0),
    "Pendulum-v1": (-1500.0, -150.0),
}
#: the margin of an RL task as a fraction of its score range
MARGIN_FRACTION = 0.05
#: the margin of a classification task, in test accuracy
CLASSIFY_MARGIN = 0.02
#: a task's attainable maximum score, the gap measure's reference where it exists
#: (classification: accuracy 1.0)
CEILING = {"CartPole-v1": 500.0}

VERDICT_A, VERDICT_B = "A better", "B better"
INCONCLUSIVE = "inconclusive (n too small to decide)"


def _task_cfg(data: StudyData, task: str) -> dict[str, Any]:
    return next(t for t in data.meta["tasks"] if t["label"] == task)


def _task_name(cfg: dict[str, Any]) -> str:
    name = str((cfg.get("task") or {}).get("name", ""))
    return _ALIASES.get(name, name)


def margin(data: StudyData, task: str) -> float | None:
    """The task's equivalence margin in its score unit (see the module docstring), or None
    for an RL task without a stated score range."""
    cfg = _task_cfg(data, task)
    if cfg["kind"] == CLASSIFY:
        return CLASSIFY_MARGIN
    rng = SCORE_RANGE.get(_task_name(cfg))
    return None if rng is None else MARGIN_FRACTION * (rng[1] - rng[0])


def ceiling(data: StudyData, task: str) -> float | None:
    """The task's attainable maximum score (CartPole-v1 500, classification 1.0), or None."""
    cfg = _task_cfg(data, task)
    if cfg["kind"] == CLASSIFY:
        return 1.0
    return CEILING.get(_task_name(cfg))


def margin_rule(data: StudyData, task: str) -> str:
    """How the task's margin was set, for the report."""
    m = margin(data, task)
    cfg = _task_cfg(data, task)
    if m is None:
        return f"{task}: no stated score range, no equivalence test"
    if cfg["kind"] == CLASSIFY:
        return f"{task}: ±{m:g} test accuracy"
    lo, hi = SCORE_RANGE[_task_name(cfg)]
    return f"{task}: ±{m:g} ({100 * MARGIN_FRACTION:g} % of the score range {lo:g}..{hi:g})"


def _scores_by_seed(f, method: str, size: str | None) -> dict[int, float]:
    g = f[f["method"] == method]
    if size is not None:
        g = g[g["size"] == size]
    return dict(zip(g["seed"].astype(int), g["score"].astype(float)))


def comparisons(data: StudyData) -> list[dict[str, Any]]:
    rows = []
    for task in tasks(data):
        f = data.final[data.final["task"] == task]
        d0 = dense0(data, task)
        m = margin(data, task)
        sizes = sorted({s for s in f["size"] if s.endswith("x")}, key=size_key)
        for name, a, b, sa, sb, paired in COMPARISONS:
            for sz in sizes if "*" in (sa, sb) else [None]:
                ka = sz if sa == "*" else sa
                kb = d0 if sb == "dense0" else (sz if sb == "*" else sb)
                xa, xb = _scores_by_seed(f, a, ka), _scores_by_seed(f, b, kb)
                if not xa or not xb:
                    continue
                if paired:
                    common = sorted(set(xa) & set(xb))
                    va, vb = [xa[s] for s in common], [xb[s] for s in common]
                else:
                    va, vb = list(xa.values()), list(xb.values())
                c = pairwise.compare(va, vb, paired=paired and len(va) >= 2, margin=m)
                c["margin"] = math.nan if m is None else m
                c.setdefault("tost_p", math.nan)
                if data.extended:  # a study with the axes: the spread behind the power statement
                    c["sd"] = _spread(va, vb, paired and len(va) >= 2)
                same = sorted(set(xa) & set(xb))  # seed by seed: each seed is one independent run
                c["seeds"] = len(same)
                c["seeds_a_ahead"] = sum(1 for k in same if xa[k] > xb[k])
                c["seeds_b_ahead"] = sum(1 for k in same if xa[k] < xb[k])
                rows.append(
                    {"task": task, "comparison": name, "size": sz or "", "a": a, "b": b, "paired": bool(paired), **c}
                )
    for r in rows:  # the test of record: paired when the rows share a parent run
        r["test"] = "paired t" if r["paired"] and "paired_p" in r else "Welch"
        r["p"] = r["paired_p"] if r["test"] == "paired t" else r["welch_p"]
    if data.extended:
        for r in rows:
            k = sum(1 for x in rows if x["task"] == r["task"])
            r.update(detectable(r, k))
    stats.holm_within(rows, key="task", p="p", out="p_holm")
    stats.holm_within(rows, key="task", p="mwu_p", out="mwu_p_holm")
    stats.holm_within(rows, key="task", p="tost_p", out="tost_p_holm")
    return rows


def _spread(va: list[float], vb: list[float], paired: bool) -> float:
    """The SD the test of record standardises by: of the paired differences, else pooled."""
    import numpy as np

    if paired:
        d = np.asarray(va, dtype=float) - np.asarray(vb, dtype=float)
        d = d[np.isfinite(d)]
        return float(d.std(ddof=1)) if d.size > 1 else math.nan
    x, y = np.asarray(va, dtype=float), np.asarray(vb, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size + y.size < 3 or x.size == 0 or y.size == 0:
        return math.nan
    ss = float(((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum())
    return math.sqrt(ss / (x.size + y.size - 2))


def detectable(c: dict[str, Any], m: int, alpha: float = ALPHA, power: float = 0.8) -> dict[str, float]:
    """The power statement of a comparison row: the smallest standardised effect its test of
    record detects with `power` at Holm's strictest step (alpha / m, m = the task's comparisons):
    ``detectable_d`` (paired rows: d_z of the two-sided paired t-test on the seed-matched pairs;
    else Cohen's d of the two-sided two-sample t-test), and ``detectable_diff`` = that times the
    row's ``sd`` (SD of the paired differences, else the pooled SD), in score units."""
    if c.get("paired") and "paired_p" in c:
        d = pairwise.min_detectable_dz(int(c["seeds"]), alpha, power, m, sided=2)
    else:
        d = pairwise.min_detectable_d(int(c["n_a"]), int(c["n_b"]), alpha, power, m)
    sd = c.get("sd", math.nan)
    return {"detectable_d": d, "detectable_diff": d * sd if _finite(sd) and _finite(d) else math.nan}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def verdict_kind(c: dict[str, Any], alpha: float = ALPHA) -> str:
    """The verdict's kind: "A better", "B better", "equivalent" or "inconclusive"."""
    p = c.get("p_holm")
    if _finite(p) and p < alpha:
        return VERDICT_A if c["diff"] > 0 else VERDICT_B
    q = c.get("tost_p_holm")
    if _finite(q) and q < alpha and _finite(c.get("margin")):
        return "equivalent"
    return "inconclusive"


def one_sided(c: dict[str, Any]) -> str | None:
    """ "A" or "B" when every one of the (at least two) seed-matched runs favours that side."""
    n = c.get("seeds", 0)
    if n >= 2 and c.get("seeds_a_ahead") == n:
        return "A"
    if n >= 2 and c.get("seeds_b_ahead") == n:
        return "B"
    return None


def verdict(c: dict[str, Any], alpha: float = ALPHA) -> str:
    """The comparison's verdict in words: "A better" / "B better" (Holm-adjusted p of the test
    of record < alpha), "equivalent within ±m" (Holm-adjusted TOST p < alpha at the task's margin
    m), else "inconclusive (n too small to decide)", followed by "; all n seeds favour A" when
    every seed-matched run does. A significant difference that TOST also finds inside the margin
    reads "A better, by less than the ±m margin"."""
    kind = verdict_kind(c, alpha)
    if kind == "equivalent":
        return f"equivalent within ±{c['margin']:.3g}"
    if kind != "inconclusive":
        q = c.get("tost_p_holm")
        small = _finite(q) and q < alpha and _finite(c.get("margin"))
        return kind + (f", by less than the ±{c['margin']:.3g} margin" if small else "")
    side = one_sided(c)
    return INCONCLUSIVE + (f"; all {c['seeds']} seeds favour {side}" if side else "")
