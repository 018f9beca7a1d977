"""The report's plain-language summary: per task, how much of the random-to-dense gap the WANN
structure closes; per pre-registered comparison, where A or B was better; which networks lose least
under weight noise; and tuned WANN versus dense along the training budget."""

from __future__ import annotations

import math

import numpy as np

from wann.analysis.comparisons import verdict
from wann.analysis.data import StudyData, dense0, tasks
from wann.analysis.render import fmt
from wann.analysis.tables import landscape_rows
from wann.baselines import methods


def summary_lines(data: StudyData, comps: list[dict], gaps: dict[str, dict]) -> list[str]:
    lines = []
    n_seeds = len(data.meta["seeds"])
    labels = methods.labels()
    for task in tasks(data):
        g = gaps[task]
        if "wann_best_shared" in g:
            lines.append(
                f"**{task}**: with one shared weight and no training, the WANN structure closes "
                f"{100 * g['wann_best_shared']:.0f} % of the gap between random weights on the same topology "
                f"({g['floor']:.3g}) and the trained dense net ({g['dense']:.3g}); tuning its weights closes "
                f"{100 * g.get('wann_tuned', math.nan):.0f} %, training the same topology from random weights "
                f"{100 * g.get('wann_retrained', math.nan):.0f} %."
            )
    by_name: dict[str, list[dict]] = {}
    for c in comps:
        by_name.setdefault(c["comparison"], []).append(c)
    for name, cs in by_name.items():
        tally = {"A better": [], "B better": [], "no clear difference": [], "undecided": []}
        for c in cs:
            tally[verdict(c)].append(f"{c['task']}{' ' + c['size'] if c['size'] else ''}")
        a, b = labels.get(cs[0]["a"], cs[0]["a"]), labels.get(cs[0]["b"], cs[0]["b"])
        parts = []
        if tally["A better"]:
            parts.append(f"*{a}* better in {', '.join(tally['A better'])}")
        if tally["B better"]:
            parts.append(f"*{b}* better in {', '.join(tally['B better'])}")
        if tally["no clear difference"]:
            parts.append(f"no clear difference in {', '.join(tally['no clear difference'])}")
        if len(tally["A better"]) == len(cs):
            held = "A better everywhere it was tested"
        elif len(tally["B better"]) == len(cs):
            held = "B better everywhere it was tested"
        elif len(tally["no clear difference"]) + len(tally["undecided"]) == len(cs):
            held = "no clear difference anywhere"
        else:
            held = "mixed across tasks and sizes"
        ahead = sum(1 for c in cs if c["a12"] > 0.5)
        seeds = sum(c["seeds"] for c in cs)
        seeds_ahead = sum(c["seeds_a_ahead"] for c in cs)
        lines.append(
            f"**{name}** (A = {a}, B = {b}; {held}): "
            + "; ".join(parts)
            + f". A ahead (A12 > 0.5) in {ahead} of {len(cs)} task/size pairs, and in {seeds_ahead} of {seeds} "
            "one-to-one seed comparisons (same task, size and seed)."
        )
    lines.append(
        f"Significance: Holm-corrected Welch p < 0.05 within each task (paired t-test for rows that share a "
        f"parent run); {n_seeds} seeds per cell, so only large effects can show. A12 and Cohen's d are in the tables."
    )
    return lines


def robustness_line(data: StudyData, task: str) -> str | None:
    """Which networks lose least / most under relative weight noise (S at sigma = 0.5)."""
    rows = [r for r in landscape_rows(data, task) if np.isfinite(r["s_0.5"])]
    if len(rows) < 2:
        return None
    rows.sort(key=lambda r: r["s_0.5"])
    parts = "; ".join(f"{methods.get(r['method']).label} {fmt(r['s_0.5'])}" for r in rows)
    return (
        f"**{task}** robustness, score lost under 50 % relative weight noise S(0.5), least to most: {parts} "
        "(absolute losses: a network that scores more also has more to lose)."
    )


def where_in_training(data: StudyData, task: str) -> str | None:
    """Tuned WANN vs dense at each checkpoint: where the structure's head start matters."""
    d = data.df[data.df["task"] == task]
    a = d[d["method"] == "wann_tuned"]
    b = d[(d["method"] == "dense") & (d["size"] == dense0(data, task))]
    if a.empty or b.empty:
        return None
    parts = []
    for fr in sorted(set(a["fraction"]) & set(b["fraction"])):
        ma, mb = a[a["fraction"] == fr]["score"].mean(), b[b["fraction"] == fr]["score"].mean()
        parts.append(f"{fr:.0%}: {ma:.3g} vs {mb:.3g}")
    return (
        f"tuned WANN vs dense ({dense0(data, task)}) at 10/25/50/100 % of the training budget (the WANN's "
        "search not counted): " + ", ".join(parts)
    )
