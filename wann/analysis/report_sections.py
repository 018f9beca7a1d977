"""The report's sections beyond the per-task tables, each written into a `render.Doc`: the
pre-registered claims with the answer to the founding question (`claims_section`), the list of
methods and variants (`glossary_section`), a task's sections of the study's axes
(`axes_sections`: time in training, initialisation, score versus total compute, the variance
split) and the rows of "What changed" (`what_changed`); with the table cells they share
(`ci_cell`, `p_cell`). `report` assembles the document from them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from wann.analysis import axes, claims, variance
from wann.analysis.comparisons import comparisons, verdict
from wann.analysis.data import StudyData
from wann.analysis.plots import plot_claims, plot_compute, plot_inits, plot_prune_times, plot_variance
from wann.analysis.render import Doc, fmt
from wann.baselines import methods

__all__ = ["ci_cell", "p_cell", "what_changed", "claims_section", "glossary_section", "axes_sections"]


def ci_cell(low: float, high: float) -> str:
    """A confidence interval as a table cell; "n/a" when there is none (a single seed)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    return f"{fmt(low)} .. {fmt(high)}"


def what_changed(data: StudyData, previous: StudyData) -> list[list[Any]]:
    """Rows (comparison, task, size, earlier mean difference and verdict, this run's) for every
    pre-registered comparison both runs have, by this version's statistics."""
    key = lambda c: (c["task"], c["comparison"], c.get("size", ""))  # noqa: E731
    before = {key(c): c for c in comparisons(previous)}
    rows = []
    for c in comparisons(data):
        b = before.get(key(c))
        if b is not None:
            rows.append(
                [
                    c["comparison"],
                    c["task"],
                    c.get("size") or "-",
                    fmt(b["diff"]),
                    verdict(b),
                    fmt(c["diff"]),
                    verdict(c),
                ]
            )
    return rows


def p_cell(v: float) -> str:
    return fmt(v) if isinstance(v, float) and math.isfinite(v) else "n/a"


def claims_section(doc: Doc, data: StudyData, rows: list[dict[str, Any]], folder: Path) -> None:
    """The pre-registered claims: their verdict per task with the numbers, the forest plot and the
    plain-language answer to the founding question."""
    doc.h(2, "Claims (pre-registered)")
    doc.p(
        "Each claim was written into the study file before the run; it is tested on every task where both of "
        "its arms have rows, paired by seed. A difference is A minus B in the task's score unit (RL: mean test "
        "return; classification: test accuracy), its 95 % CI the t-interval of the mean paired difference; d_z "
        "= mean / SD of the paired differences. *greater*: one-sided paired t-test (Wilcoxon beside it); "
        "*equivalent*: paired TOST at the claim's margin or the task's pre-registered one; *variance*: "
        "one-way random-effects ANOVA of fixed structures (seeds) x re-drawn initial weights (replicates), "
        "95 % bootstrap CI over seeds of the structure share minus the initialisation share. Holm's correction "
        "within each task's family of greater and equivalent claims (m). Verdicts: *supported* (Holm p < 0.05; "
        "variance: CI above 0), *refuted* (greater: B > A with two-sided Holm p < 0.05; equivalent: "
        "significantly outside the margin; variance: CI below 0), *equivalent* (a greater claim whose "
        "difference TOST puts inside the margin), else *inconclusive*, with what it could have detected "
        "(80 % power at alpha / m)."
    )
    labels = methods.labels()
    used = sorted({claims.parse_arm(r[k])[0] for r in rows for k in ("a", "b") if r[k]} & set(labels))
    doc.ul([f"`{m}`: {labels[m]}" for m in used])
    table = []
    for r in rows:
        if r["test"] == claims.VARIANCE:
            table.append(
                [
                    r["claim"],
                    r["task"],
                    r["test"],
                    r["a"],
                    "",
                    f"{r['k']} x {r['r']}",
                    r["diff"],
                    ci_cell(r["ci_low"], r["ci_high"]),
                    "",
                    "",
                    "",
                    f"structure {fmt(r['structure'])}, within {fmt(r['init'])}",
                    r["verdict"],
                    r["why"],
                ]
            )
            continue
        power = (
            f"d_z {fmt(r['detectable_dz'])} ({fmt(r['detectable_diff'])})"
            if r["test"] == claims.GREATER
            else f"±{fmt(r['detectable_margin'])}"
        )
        table.append(
            [
                r["claim"],
                r["task"],
                r["test"] + (f" (±{fmt(r['margin'])})" if math.isfinite(r["margin"]) else ""),
                r["a"],
                r["b"],
                r["n"],
                r["diff"],
                ci_cell(r["ci_low"], r["ci_high"]),
                r["d_z"],
                r["a12"],
                f"{p_cell(r['p_support_holm'])} (m = {r['m']})",
                power,
                r["verdict"],
                r["why"],
            ]
        )
    doc.table(
        [
            "claim",
            "task",
            "test",
            "A",
            "B",
            "n",
            "diff A - B",
            "95 % CI",
            "d_z",
            "A12",
            "p (Holm)",
            "detectable at 80 %",
            "verdict",
            "why",
        ],
        table,
    )
    doc.p(
        "p (Holm): greater, the one-sided paired t-test; equivalent, the TOST. detectable at 80 %: greater, the "
        "smallest d_z (and mean difference) the one-sided test finds with 80 % power at Holm's strictest step; "
        "equivalent, the smallest margin a TOST shows with 80 % power when the true difference is 0. Variance "
        "rows: n = seeds x initialisations, diff = the share difference (its CI by the bootstrap over seeds)."
    )
    doc.img(plot_claims(rows, folder / "claims.png"), "The claims: paired differences per task, coloured by verdict")
    doc.h(2, "The answer to the founding question: how much is structure, how much is weights?")
    doc.ul(claims.answer_lines(data, rows))


def glossary_section(doc: Doc, data: StudyData) -> None:
    """Every method of the study with its label, and the variant names."""
    present = set(data.full["method"])
    doc.h(2, "Methods and variants")
    doc.ul(
        [f"`{m.name}`: {m.label}" for m in methods.METHODS if m.name in present]
        + [
            "Variants: the size (`1x` = the champion's connection count, `0.5x`, a dense width such as `32-32`, "
            "`-` unsized), then `+scheme` for an init scheme other than the base one (this study's base: "
            f"`{data.base_init}`; `default`: each method's own init; `he`: He normal N(0, 2 / "
            "fan-in), biases 0; `uniform2`: U(-2, 2), the WANN's shared-weight range), `+rK` for the K-th "
            "re-draw of a fixed structure's initial weights, `@t` for a net pruned after fraction t of its "
            "parent's training; `half` is the assessment of the WANN search run at half the budget."
        ]
    )


def axes_sections(doc: Doc, data: StudyData, task: str, folder: Path) -> None:
    """Per task, the sections of a study's axes, each only when the data has it: time in training,
    initialisation, score versus total compute, the variance split."""
    rows = axes.prune_time_rows(data, task)
    if rows:
        doc.h(3, "Time in training")
        refs = axes.prune_time_refs(data, task)
        doc.table(
            ["method", "pruned after", "n", "mean", "SD", "95 % CI"],
            [
                [
                    methods.get(r["method"]).label,
                    f"{100 * r['t']:g} %",
                    r["n"],
                    r["mean"],
                    r["sd"],
                    ci_cell(r["ci_low"], r["ci_high"]),
                ]
                for r in rows
            ],
        )
        p = plot_prune_times(data, task, rows, refs, folder / f"{task}-prune-time.png")
        doc.img(
            p,
            f"{task}: score versus the time of pruning (size 1x): at 0 % the mask is chosen at initialisation "
            "(random, SNIP); later, by weight magnitude after that share of the dense parent's training, then "
            "fine-tuned from the parent's weights or rewound to its initial weights; every pruned net trains its "
            "full budget after pruning",
        )
    rows = axes.init_rows(data, task)
    if rows:
        doc.h(3, "Initialisation")
        doc.table(
            ["method", "size", "init", "n", "mean", "SD", "95 % CI"],
            [
                [
                    methods.get(r["method"]).label,
                    r["size"],
                    r["init"],
                    r["n"],
                    r["mean"],
                    r["sd"],
                    ci_cell(r["ci_low"], r["ci_high"]),
                ]
                for r in rows
            ],
        )
        p = plot_inits(data, task, rows, folder / f"{task}-inits.png")
        doc.img(
            p,
            f"{task}: final score per init scheme (default: each method's own; he: N(0, 2 / fan-in); uniform2: "
            f"U(-2, 2)); for the WANN topology also its shared-weight solution tuned ({axes.SHARED_INIT})",
        )
    if data.extended:
        rows = axes.compute_rows(data, task)
        if rows:
            unit = axes.compute_unit(data, task)
            doc.h(3, "Score versus total compute")
            doc.table(
                ["method", "variant", f"total {unit}", "n", "mean", "95 % CI"],
                [
                    [
                        methods.get(r["method"]).label,
                        r["variant"],
                        r["compute"],
                        r["n"],
                        r["mean"],
                        ci_cell(r["ci_low"], r["ci_high"]),
                    ]
                    for r in rows
                ],
            )
            p = plot_compute(data, task, rows, unit, folder / f"{task}-compute.png")
            doc.img(
                p,
                f"{task}: final score against total {unit}, the parents' training and (WANN rows) the search "
                "included; the WANN rows at the full and the half search budget are joined by a line",
            )
    splits = [variance.variance_split(data, task, s) for s in variance.structures(data, task)]
    splits = [s for s in splits if math.isfinite(s.get("total", math.nan))]
    if splits:
        doc.h(3, "Variance: structure versus initialisation")
        doc.table(
            [
                "structure",
                "seeds x inits",
                "total variance",
                "structure share",
                "within share (initialisation + evaluation noise)",
                "of it evaluation noise",
                "structure - within (95 % CI)",
            ],
            [
                [
                    methods.get(s["arm"].split("/")[0]).label,
                    f"{s['k']} x {s['r']}",
                    s["total"],
                    s["structure"],
                    s["init"],
                    s["eval_share"],
                    f"{fmt(s['diff'])} ({ci_cell(s['ci_low'], s['ci_high'])})",
                ]
                for s in splits
            ],
        )
        p = plot_variance(data, task, splits, folder / f"{task}-variance.png")
        doc.img(
            p,
            f"{task}: shares of the final score's variance: between structures (seeds), between re-drawn "
            "initial weights of one structure, and the part of the latter that is the test set's sampling noise "
            "(RL: score SD^2 / test episodes; classification: p (1 - p) / test examples)",
        )
