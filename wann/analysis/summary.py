"""The report's plain-language summary: per task, how much of the gap between random weights and a
well-trained reference the WANN structure closes; per pre-registered comparison, where A or B was
better, where they were equivalent within the margin and where the study cannot tell; what the
design can detect; which networks lose least under weight noise; and tuned WANN versus dense along
the training budget."""

from __future__ import annotations

from typing import Any

import numpy as np

from wann.analysis import pairwise
from wann.analysis.comparisons import ALPHA, VERDICT_A, VERDICT_B, margin_rule, one_sided, verdict_kind
from wann.analysis.data import StudyData, dense0, tasks
from wann.analysis.render import fmt
from wann.analysis.tables import gap_text, landscape_rows
from wann.baselines import methods


def gap_line(task: str, g: dict[str, Any]) -> str | None:
    """The summary's line on how much of the gap the WANN structure closes (`tables.gap_closed`),
    None when the study has no WANN row on the task."""
    if g.get("status"):
        return f"**{task}**: share of the random-to-trained gap closed by the WANN structure: {g['status']}."
    fr = g["fractions"]
    best = gap_text(fr.get("wann_best_shared"))
    if best is None:
        return None
    rest = [
        f"{what} {txt}"
        for key, what in (
            ("wann_tuned", "tuning its weights closes"),
            ("wann_retrained", "training the same topology from random weights"),
        )
        if (txt := gap_text(fr.get(key)))
    ]
    return (
        f"**{task}**: with one shared weight and no training, the WANN structure closes {best} of the gap "
        f"between random weights on the same topology ({g['floor']:.3g}) and a well-trained reference "
        f"({g['reference_label']})" + ("; " + ", ".join(rest) if rest else "") + "."
    )


def power_text(data: StudyData, comps: list[dict]) -> str | None:
    """What the design can detect: the smallest |d| found with 80 % power after Holm, from the
    seed count and the number of comparisons per task."""
    n = len(data.meta["seeds"])
    per_task = sorted({sum(1 for c in comps if c["task"] == t) for t in tasks(data)} - {0})
    if n < 2 or not per_task:
        return None
    k = per_task[-1]
    strict = pairwise.min_detectable_d(n, n, alpha=ALPHA, power=0.8, m=k)
    lenient = pairwise.min_detectable_d(n, n, alpha=ALPHA, power=0.8, m=1)
    ks = f"{per_task[0]} to {k}" if len(per_task) > 1 else str(k)
    floor = pairwise.mwu_min_p(n, n)
    return (
        f"Power: with {n} seeds per arm and {ks} comparisons per task, a two-sided t-test detects with 80 % power "
        f"only effects of |d| >= {strict:.2g} at Holm's strictest step (alpha / {k}) and |d| >= {lenient:.2g} at "
        f'its most lenient (alpha = {ALPHA:g}); smaller effects come out "inconclusive", which is not '
        f'"equivalent". The exact Mann-Whitney p cannot fall below {floor:.2g} with {n} vs {n} runs'
        + (f", so after Holm over {k} comparisons it cannot reach {ALPHA:g}" if floor * k >= ALPHA else "")
        + "; it is shown as a rank-based check, not as the test of record."
    )


def summary_lines(data: StudyData, comps: list[dict], gaps: dict[str, dict]) -> list[str]:
    lines = []
    labels = methods.labels()
    for task in tasks(data):
        if line := gap_line(task, gaps[task]):
            lines.append(line)
    by_name: dict[str, list[dict]] = {}
    for c in comps:
        by_name.setdefault(c["comparison"], []).append(c)
    for name, cs in by_name.items():
        tally: dict[str, list[str]] = {VERDICT_A: [], VERDICT_B: [], "equivalent": [], "inconclusive": []}
        sided: dict[str, list[str]] = {"A": [], "B": []}
        for c in cs:
            where = f"{c['task']}{' ' + c['size'] if c['size'] else ''}"
            kind = verdict_kind(c)
            tally[kind].append(where + (f" (±{c['margin']:.3g})" if kind == "equivalent" else ""))
            if kind == "inconclusive" and (side := one_sided(c)):
                sided[side].append(where)
        a, b = labels.get(cs[0]["a"], cs[0]["a"]), labels.get(cs[0]["b"], cs[0]["b"])
        parts = []
        if tally[VERDICT_A]:
            parts.append(f"*{a}* better in {', '.join(tally[VERDICT_A])}")
        if tally[VERDICT_B]:
            parts.append(f"*{b}* better in {', '.join(tally[VERDICT_B])}")
        if tally["equivalent"]:
            parts.append(f"equivalent within the margin in {', '.join(tally['equivalent'])}")
        if tally["inconclusive"]:
            note = [f"every seed favours {side} in {', '.join(w)}" for side, w in sided.items() if w]
            parts.append(
                f"inconclusive in {', '.join(tally['inconclusive'])}" + (f" ({'; '.join(note)})" if note else "")
            )
        counts = {k: len(v) for k, v in tally.items()}
        if counts[VERDICT_A] == len(cs):
            held = "A better everywhere it was tested"
        elif counts[VERDICT_B] == len(cs):
            held = "B better everywhere it was tested"
        elif counts["equivalent"] == len(cs):
            held = "equivalent everywhere it was tested"
        elif counts["inconclusive"] == len(cs):
            held = "inconclusive everywhere"
        elif counts[VERDICT_A] + counts[VERDICT_B] == 0:
            held = "no difference shown anywhere"
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
    margins = ", ".join(margin_rule(data, t) for t in tasks(data))
    lines.append(
        'Verdicts: "A better" / "B better" when the Holm-corrected p (within the task) of Welch\'s t-test, or '
        'of the paired t-test for rows that share a parent run, is below 0.05; "equivalent within ±m" when the '
        "two one-sided tests (TOST) at the margin m fixed before the run have Holm-corrected p below 0.05 "
        f"({margins}); "
        'otherwise "inconclusive" (what the design can detect is under Method). A12 and Cohen\'s d are in the '
        "tables."
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
