"""The report's numbers per task, computed from `StudyData`: one summary row per (method, size)
across seeds, the landscape measures per method, and how much of the gap between random weights
and a well-trained reference (the task's ceiling, else the best trained counterpart) each WANN
variant closes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from wann.analysis import stats
from wann.analysis.comparisons import ceiling, margin
from wann.analysis.data import StudyData, dense0, is_base, size_key
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY, RL, TRAINED

#: the methods whose landscapes (profile, robustness, slice) the report shows, in its order
LANDSCAPE_METHODS = (
    "wann_best_shared",
    "wann_tuned",
    "dense",
    "small_dense",
    "pruned_magnitude",
    "lottery_ticket",
    "random_sparse",
    "neat",
)


def method_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    """One summary per (method, size) of a task: statistics across seeds of the final scores."""
    f = data.final[data.final["task"] == task]
    rl = data.task_kind(task) == RL
    out = []
    for m in [m for m in methods.ORDER if m in set(f["method"])]:
        fm = f[f["method"] == m]
        for size in sorted(set(fm["size"]), key=size_key):
            g = fm[fm["size"] == size]
            s = stats.summarize(g["score"].to_numpy(), rl=rl)
            out.append(
                {
                    "method": m,
                    "size": size,
                    **s,
                    "connections": float(g["connections"].median()),
                    "hidden_nodes": float(g["hidden_nodes"].median()),
                    "inputs_used": float(g["inputs_used"].median()),
                    "flops_per_step": float(g["flops_per_step"].median()),
                    "latency_us": float(g["latency_us"].median()),
                    "episodes": float(g["work"].mean()),
                    "cpu_s": float(g["cpu_s"].mean() + g["parent_cpu_s"].mean()),
                    "search_cpu_s": float(g["search_cpu_s"].mean()),
                }
            )
    return out


def landscapes(data: StudyData, task: str, method: str, size: str | None = "1x") -> list[dict]:
    """The landscape documents of `method` on `task`, one per seed (sized methods at `size`, dense
    at its first width; base cells only: no init-scheme, replicate, timed or half-search variant)."""
    out = []
    for doc in data.cells.values():
        rows = doc.get("rows") or []
        if not rows or rows[0]["task"] != task:
            continue
        ls = (doc.get("landscape") or {}).get(method)
        if ls is None:
            continue
        r = next((r for r in rows if r["method"] == method), None)
        if r is None or not is_base(r.get("variant", r["size"])):  # a variant cell: not the base study's
            continue
        if size and r["size"].endswith("x") and r["size"] != size:
            continue
        if method == "dense" and r["size"] != dense0(data, task):
            continue
        out.append(ls)
    return out


def landscape_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    out = []
    for m in LANDSCAPE_METHODS:
        ls = landscapes(data, task, m)
        if not ls:
            continue

        def mean(get, ls=ls):
            vals = [get(x) for x in ls]
            vals = [v for v in vals if v is not None and np.isfinite(v)]
            return float(np.mean(vals)) if vals else math.nan

        row = {
            "method": m,
            "n": len(ls),
            "profile_argmax": mean(lambda x: x["profile"]["summary"]["argmax"]),
            "profile_peak_fraction": mean(lambda x: x["profile"]["summary"]["peak_fraction"]),
            "s_0.1": mean(lambda x: _at(x["robustness"], 0.1)),
            "s_0.5": mean(lambda x: _at(x["robustness"], 0.5)),
            "slice_drop_half": mean(lambda x: x["slice"]["summary"]["drop_half"]),
        }
        if data.task_kind(task) == CLASSIFY:
            row["sam"] = mean(lambda x: x.get("sam", {}).get("sharpness"))
            row["hessian_top"] = mean(lambda x: x.get("hessian_top"))
        out.append(row)
    return out


def _at(rob: dict, sigma: float):
    for s, v in zip(rob["sigma"], rob["s"]):
        if abs(s - sigma) < 1e-9:
            return v
    return None


#: the WANN variants (and the structure probe) whose share of the gap the summary reports
GAP_METHODS = (
    "wann_random_shared",
    "wann_six_values",
    "wann_best_shared",
    "wann_ensemble",
    "wann_tuned",
    "wann_retrained",
    "pruned_shared_signed",
)


def gap_closed(data: StudyData, task: str) -> dict[str, Any]:
    """How much of the way from random weights on the champion's topology (the floor) to a
    well-trained reference each WANN variant gets: ``(mean score - floor) / (reference - floor)``,
    means over seeds.

    The reference is the task's ceiling where it has one (CartPole-v1 500, classification
    accuracy 1.0; `comparisons.ceiling`), else the best mean final score of any trained method
    (role "trained", any size) on the task. Returns ``floor``, ``reference``, ``reference_label``
    (e.g. "the task's ceiling, 500" or "the best trained counterpart, dense, trained 10: mean
    861"), ``fractions`` (method -> float) and ``status`` (None, or why ``fractions`` is empty:
    the reference is not finite or not above the floor by more than the task's equivalence
    margin, a gap so small that its percentages mean nothing).
    """
    f = data.final[data.final["task"] == task]
    floor = float(f[f["method"] == "wann_random_individual"]["score"].mean())
    top = ceiling(data, task)
    if top is not None:
        label = "perfect test accuracy, 1.0" if data.task_kind(task) == CLASSIFY else f"the task's ceiling, {top:g}"
    else:
        trained = f[f["method"].map(lambda m: getattr(methods.REGISTRY.get(m), "role", None) == TRAINED)]
        means = trained.groupby(["method", "size"])["score"].mean().dropna()
        if means.empty:
            top, label = math.nan, "no trained counterpart"
        else:
            (m, size), top = means.idxmax(), float(means.max())
            sized = "" if size == "-" else " " + size
            label = f"the best trained counterpart, {methods.get(m).label}{sized}: mean {top:.3g}"
    out: dict[str, Any] = {"floor": floor, "reference": float(top), "reference_label": label, "fractions": {}}
    m = margin(data, task)
    if not (math.isfinite(floor) and math.isfinite(top)):
        out["status"] = "n/a: no random-weight baseline or no reference score"
    elif top - floor <= (m or 0.0):
        out["status"] = "n/a: reference not above the random-weight baseline" + (
            f" by more than the ±{m:g} margin" if m else ""
        )
    else:
        out["status"] = None
        for name in GAP_METHODS:
            g = f[f["method"] == name]
            if name == "pruned_shared_signed":
                g = g[g["size"] == "1x"]
            v = float(g["score"].mean()) if not g.empty else math.nan
            if math.isfinite(v):
                out["fractions"][name] = (v - floor) / (top - floor)
    return out


def gap_text(fraction: float | None) -> str | None:
    """A gap fraction as a percentage for the summary, shown within -100 % .. 200 % (beyond:
    "below -100 %" / "above 200 %"); None for None or a value that is not finite."""
    if fraction is None or not math.isfinite(fraction):
        return None
    if fraction < -1.0:
        return "below -100 %"
    if fraction > 2.0:
        return "above 200 %"
    return f"{100 * fraction:.0f} %"
