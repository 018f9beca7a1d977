"""The report's numbers per task, computed from `StudyData`: one summary row per (method, size)
across seeds, the landscape measures per method, and how much of the random-to-dense gap each
WANN variant closes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from wann.analysis import stats
from wann.analysis.data import StudyData, dense0, size_key
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY, RL

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
    at its first width)."""
    out = []
    for doc in data.cells.values():
        rows = doc.get("rows") or []
        if not rows or rows[0]["task"] != task:
            continue
        ls = (doc.get("landscape") or {}).get(method)
        if ls is None:
            continue
        r = next((r for r in rows if r["method"] == method), None)
        if r is None:
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


def gap_closed(data: StudyData, task: str) -> dict[str, float]:
    """How much of the way from random weights (on the champion's topology) to the trained
    dense net each method gets: (score - floor) / (dense - floor), means over seeds."""
    f = data.final[data.final["task"] == task]
    floor = f[f["method"] == "wann_random_individual"]["score"].mean()
    top = f[(f["method"] == "dense") & (f["size"] == dense0(data, task))]["score"].mean()
    out = {"floor": float(floor), "dense": float(top)}
    if not (np.isfinite(floor) and np.isfinite(top)) or top == floor:
        return out
    for m in (
        "wann_random_shared",
        "wann_six_values",
        "wann_best_shared",
        "wann_ensemble",
        "wann_tuned",
        "wann_retrained",
        "pruned_shared_signed",
    ):
        g = f[f["method"] == m]
        if m == "pruned_shared_signed":
            g = g[g["size"] == "1x"]
        if not g.empty:
            out[m] = float((g["score"].mean() - floor) / (top - floor))
    return out
