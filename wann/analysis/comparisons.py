"""The pre-registered comparisons (A vs B, per task and size): Welch / Mann-Whitney / paired
tests, effect sizes, seed-by-seed counts, Holm correction within each task, and the verdict."""

from __future__ import annotations

import math
from typing import Any

from wann.analysis import stats
from wann.analysis.data import StudyData, dense0, size_key, tasks

#: the pre-registered comparisons: (name, A, B, size of A, size of B, paired)
#: size None = the method's only size; "1x" etc. per sized method; "dense0" = the parent width
COMPARISONS = (
    ("best shared weight vs small dense", "wann_best_shared", "small_dense", None, "1x", False),
    ("tuned WANN vs dense", "wann_tuned", "dense", None, "dense0", False),
    ("pruned vs random sparse", "pruned_magnitude", "random_sparse", "*", "*", False),
    ("ticket vs pruned", "lottery_ticket", "pruned_magnitude", "*", "*", True),
    ("pruned vs its dense parent", "pruned_magnitude", "dense", "*", "dense0", True),
    (
        "pruned with one shared weight vs best shared weight",
        "pruned_shared_signed",
        "wann_best_shared",
        "1x",
        None,
        False,
    ),
    ("WANN topology retrained vs random sparse", "wann_retrained", "random_sparse", None, "1x", False),
)


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
                c = stats.compare(va, vb, paired=paired and len(va) >= 2)
                same = sorted(set(xa) & set(xb))  # seed by seed: each seed is one independent run
                c["seeds"] = len(same)
                c["seeds_a_ahead"] = sum(1 for k in same if xa[k] > xb[k])
                rows.append(
                    {"task": task, "comparison": name, "size": sz or "", "a": a, "b": b, "paired": bool(paired), **c}
                )
    for r in rows:  # the test of record: paired when the rows share a parent run
        r["test"] = "paired t" if r["paired"] and "paired_p" in r else "Welch"
        r["p"] = r["paired_p"] if r["test"] == "paired t" else r["welch_p"]
    stats.holm_within(rows, key="task", p="p", out="p_holm")
    stats.holm_within(rows, key="task", p="mwu_p", out="mwu_p_holm")
    return rows


def verdict(c: dict[str, Any], alpha: float = 0.05) -> str:
    """'A better' / 'B better' when the test of record (paired t for rows sharing a parent run,
    else Welch) is significant after Holm correction within the task."""
    p = c.get("p_holm")
    if not (isinstance(p, float) and math.isfinite(p)):
        return "undecided"
    if p < alpha:
        return "A better" if c["diff"] > 0 else "B better"
    return "no clear difference"
