"""`wann report RUN_DIR`: a study's results folder -> `report/report.md`, a self-contained
`report/report.html` (images inlined) and the PNG plots beside them.

The report answers the study's question from the tidy table (`results.parquet`) and the cells'
documents (landscapes, champions): per-task tables (mean +- SD, 95 % CI of the mean, IQM for RL,
structure and budget columns), the pre-registered comparisons with Welch / Mann-Whitney / paired
tests, effect sizes, Holm correction within each task, TOST equivalence at a pre-registered margin
and a verdict (better / equivalent / inconclusive), score-versus-budget curves, size sweeps,
shared-weight profiles, robustness curves S(sigma), filter-normalised slices, classification
sharpness, drawings of the champions, and a plain-language summary of what held.

A study planned with the axes of issue 14 (its table has the `variant` column) gets more, each
part only where its data exist: first, after the header, the pre-registered claims of study.json
with a verdict per task (`claims`), a forest plot and the founding question answered from the
verdicts; a list of the methods and variants; a power column in the comparisons; and per task
score versus prune time, score per init scheme, score versus total compute (the WANN search at
both budgets) and the variance split of the fixed structures (`axes`, `variance.variance_split`).
Every other table, comparison and plot reads only the base rows, so a study without the axes
reads as it did before them.

This module assembles the document and writes the folder; the parts live beside it:
`data` (loading), `tables`, `comparisons`, `claims`, `variance` and `axes` (the numbers), `plots`
(the figures), `report_sections` (the claims, axes and "What changed" sections), `summary` (the
plain-language lines) and `render` (Markdown / HTML).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from wann.analysis import claims, stats
from wann.analysis.comparisons import comparisons, verdict
from wann.analysis.data import StudyData, dense_label, load, tasks
from wann.analysis.plots import (
    draw_champions,
    plot_budget_curves,
    plot_final_scores,
    plot_landscapes,
    plot_size_sweep,
)
from wann.analysis.render import Doc, fmt
from wann.analysis.report_sections import axes_sections, ci_cell, claims_section, glossary_section, what_changed
from wann.analysis.summary import power_text, robustness_line, summary_lines, where_in_training
from wann.analysis.tables import gap_closed, landscape_rows, method_rows
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY, RL
from wann.errors import ConfigError
from wann.study.results import CELL_FORMAT as CURRENT_CELLS

__all__ = ["REPORT_FILES", "check_report_folder", "comparisons", "load", "write_report"]


def write_report(run_dir: str | Path, out: str | Path | None = None, compare_to: str | Path | None = None) -> Path:
    """Write report.md, report.html and the plots into `out` (default RUN_DIR/report): a new or
    empty folder, or one that holds an earlier report (its files are replaced). compare_to:
    another results folder of the same study grid (e.g. the run before a change of recipes); the
    report then ends with a "What changed" table of both runs' verdicts, by the same statistics."""
    from wann.files import FolderLock

    data = load(run_dir)
    previous = load(compare_to) if compare_to is not None else None
    folder = Path(out) if out else data.run_dir / "report"
    lock = FolderLock(folder, "out", command="wann report")
    lock.check_free(take_stale=True)
    check_report_folder(folder)
    lock.acquire(take_stale=True)
    try:
        check_report_folder(folder)
        return _write_report(data, folder, previous)
    finally:
        lock.release()


#: what a report folder holds (anything else means it is not one)
REPORT_FILES = ("report.md", "report.html", "comparisons.json")


def check_report_folder(folder: Path) -> None:
    from wann.files import check_writable_folder, visible_entries

    check_writable_folder(folder, "out")
    entries = visible_entries(folder)
    other = [e for e in entries if e not in REPORT_FILES and not e.endswith(".png")]
    if entries and ("report.md" not in entries or other):
        shown = ", ".join((other or entries)[:3])
        raise ConfigError(
            "out", f"{folder} holds files that are not a wann report ({shown}); give a new or empty folder"
        )


def _write_report(data: StudyData, folder: Path, previous: StudyData | None = None) -> Path:
    from wann.files import atomic_write_text

    doc = Doc(folder)
    labels = methods.labels()
    meta = data.meta
    task_labels = tasks(data)
    comps = comparisons(data)
    gaps = {t: gap_closed(data, t) for t in task_labels}
    n_cells = len(data.cells)
    cpu = sum(float(c.get("wall_s", 0.0)) for c in data.cells.values())

    doc.h(1, f"Study `{meta['name']}`: how much is structure, how much is weights?")
    src = Path(meta.get("source") or "STUDY.toml").name
    doc.p(
        f"Made by `wann compare {meta.get('source') or src} --out {data.run_dir}` then `wann report {data.run_dir}`. "
        f"{n_cells} cells, {len(meta['seeds'])} seeds ({', '.join(map(str, meta['seeds']))}), sizes "
        f"{', '.join(f'{s:g}x' for s in meta['sizes'])} of each seed's champion; "
        f"{cpu / 3600:.2f} cell-hours of compute. RL scores are mean returns over {meta['test_episodes']} fresh "
        "episodes (seeds never used in training); classification scores are test-split accuracies."
    )
    old = sorted({c.get("format") for c in data.cells.values()} - {CURRENT_CELLS})
    if old:
        doc.p(
            f"**Made by an earlier version of the recipes** (cells of format {', '.join(old)}, before the fair "
            "counterparts): its connection counts include dead edges, its pruned nets were pruned in three "
            "aggressive rounds, its lottery ticket retrained the final mask for the full budget at a larger step, "
            "its budgets were floored to whole CMA-ES generations, and on classification its tuned and retrained "
            "WANNs used CMA-ES. The method labels below name the current recipes; read the rows as the earlier "
            "ones. `wann compare` on this study recomputes every such cell with the current recipes."
        )
    claim_rows = claims.evaluate(data) if data.claims else []
    if claim_rows:
        claims_section(doc, data, claim_rows, folder)
    if data.extended:
        glossary_section(doc, data)
    doc.h(2, "Summary")
    doc.ul(summary_lines(data, comps, gaps) + [r for t in task_labels if (r := robustness_line(data, t))])
    for task in task_labels:
        w = where_in_training(data, task)
        if w:
            doc.p(f"*{task}*: {w}.")

    for task in task_labels:
        tcfg = next(t for t in meta["tasks"] if t["label"] == task)
        doc.h(2, f"{task} ({tcfg['task']['name']})")
        budget = (
            f"{tcfg['budget']:,} episodes per RL counterpart"
            if tcfg["kind"] == RL
            else f"{tcfg['epochs']} Adam epochs per trained counterpart (WANN tuned / retrained included), "
            f"{tcfg['budget']:,} evaluations for NEAT"
        )
        src = f"search `{Path(tcfg['search']).name}` per seed" if tcfg.get("search") else "a fixed champion"
        doc.p(f"Budget: {budget}; WANN: {src}; dense widths {', '.join(dense_label(h) for h in tcfg['dense'])}.")
        for m, why in (tcfg.get("left_out") or {}).items():
            doc.p(f"*{methods.get(m).label} left out of {task}:* {why}.")
        rows = method_rows(data, task)
        rl = tcfg["kind"] == RL
        head = (
            ["method", "size", "n", "mean", "SD", "95 % CI"]
            + (["IQM"] if rl else [])
            + [
                "conns",
                "hidden",
                "inputs",
                "FLOPs/step",
                "latency µs",
                "train episodes" if rl else "train examples",
                "train CPU-s",
                "search CPU-s",
            ]
        )
        doc.table(
            head,
            [
                [
                    labels[r["method"]],
                    r["size"],
                    r["n"],
                    r["mean"],
                    r["sd"],
                    ci_cell(r["ci_low"], r["ci_high"]),
                ]
                + ([r["iqm"]] if rl else [])
                + [
                    r["connections"],
                    r["hidden_nodes"],
                    r["inputs_used"],
                    r["flops_per_step"],
                    r["latency_us"],
                    r["episodes"],
                    r["cpu_s"],
                    r["search_cpu_s"],
                ]
                for r in rows
            ],
        )
        doc.p(
            "Structure columns are medians over seeds; budgets are means and include the parent's training "
            "(a pruned net's dense parent); the WANN search is reported apart (search CPU-s)."
        )
        tc = [c for c in comps if c["task"] == task]
        power_col = data.extended
        if tc:
            doc.h(3, "Pre-registered comparisons (A vs B)")
            doc.table(
                [
                    "comparison",
                    "size",
                    "mean A",
                    "mean B",
                    "A12",
                    "Cohen's d",
                    "Welch p",
                    "MWU p",
                    "paired p",
                    "test",
                    "p (Holm)",
                    "MWU p (Holm)",
                    "TOST p (Holm)",
                    "verdict",
                ]
                + (["detectable d (diff)"] if power_col else []),
                [
                    [
                        c["comparison"],
                        c["size"],
                        c["mean_a"],
                        c["mean_b"],
                        c["a12"],
                        c["cohens_d"],
                        c["welch_p"],
                        c["mwu_p"],
                        c.get("paired_p", math.nan) if c["paired"] else "",
                        c["test"],
                        c["p_holm"],
                        c["mwu_p_holm"],
                        c["tost_p_holm"],
                        verdict(c),
                    ]
                    + ([f"{fmt(c['detectable_d'])} ({fmt(c['detectable_diff'])})"] if power_col else [])
                    for c in tc
                ],
            )
            if power_col:
                doc.p(
                    "detectable d (diff): the smallest effect the test of record detects with 80 % power at Holm's "
                    f"strictest step (alpha / {len(tc)}) with these seeds: d_z for paired rows, Cohen's d "
                    "otherwise, and in brackets that times the SD of the paired differences (else the pooled SD), "
                    "in score units."
                )
        p1 = plot_budget_curves(data, task, folder / f"{task}-budget.png")
        doc.img(
            p1,
            f"{task}: score versus training budget (checkpoints at 10, 25, 50, 100 %). Pruned nets start "
            "after their dense parent's budget; their early checkpoints are in the first pruning rounds, "
            "before the final connection count is reached.",
        )
        p2 = plot_final_scores(data, task, folder / f"{task}-final.png")
        doc.img(p2, f"{task}: final score of every seed")
        p3 = plot_size_sweep(data, task, folder / f"{task}-sizes.png")
        doc.img(p3, f"{task}: score versus connection count")
        axes_sections(doc, data, task, folder)
        lrows = landscape_rows(data, task)
        if lrows:
            doc.h(3, "Landscapes")
            cls = tcfg["kind"] == CLASSIFY
            doc.table(
                ["method", "n", "profile argmax w", "profile width (fraction)", "S(0.1)", "S(0.5)", "slice drop at 0.5"]
                + (["SAM sharpness", "top Hessian eigenvalue"] if cls else []),
                [
                    [
                        labels[r["method"]],
                        r["n"],
                        r["profile_argmax"],
                        r["profile_peak_fraction"],
                        r["s_0.1"],
                        r["s_0.5"],
                        r["slice_drop_half"],
                    ]
                    + ([r["sam"], r["hessian_top"]] if cls else [])
                    for r in lrows
                ],
            )
            p4 = plot_landscapes(data, task, folder / f"{task}-landscape.png")
            doc.img(p4, f"{task}: shared-weight profiles, robustness and 1-D slices")
        for caption, p in draw_champions(data, task, folder):
            doc.img(p, f"{task} champion: {caption}")

    if previous is not None:
        doc.h(2, f"What changed since `{previous.run_dir}`")
        doc.p(
            f"The same pre-registered comparisons in the earlier run (`{previous.run_dir}`, "
            f"{len(previous.cells)} cells) and in this one, both by this version's statistics; "
            "a difference is A minus B in the task's score units."
        )
        doc.table(
            ["comparison", "task", "size", "earlier diff", "earlier verdict", "diff", "verdict"],
            what_changed(data, previous),
        )
    doc.h(2, "Method")
    doc.ul(
        [
            "A seed is one independent run: its own WANN search and its own training of every counterpart.",
            "Statistics across seeds (SciPy's tests): mean +- SD; 95 % CI of the mean by the Student-t interval "
            f"below {stats.T_BELOW} seeds (a BCa bootstrap interval covers only ~83 % at 5 seeds, ~91 % at 20) "
            "and by the BCa bootstrap (9,999 resamples) from "
            f"{stats.T_BELOW} on, n/a for a single seed; IQM for RL; Welch t-test and Mann-Whitney U (exact for up to "
            "8 runs per arm without ties), Cohen's d and Vargha-Delaney A12, Holm correction within a task; paired "
            "t-tests where rows share a parent run (dense -> pruned -> ticket).",
            "Equivalence: two one-sided tests (TOST; Welch, or paired t for paired rows), Holm-corrected within a "
            "task, at a margin fixed before the run: 5 % of an RL task's score range (CartPole-v1 0..500; swing-up "
            "0..932, the best score the WANN paper reports), 0.02 test accuracy for classification (the numbers are "
            "in the Summary).",
            "Gap closed: (score - random individual weights on the champion's topology) / (reference - the same), "
            "means over seeds; the reference is the task's ceiling where it has one (CartPole-v1 500, accuracy 1.0), "
            "else the best mean final score of any trained counterpart on the task; not shown when the reference "
            "is not above the baseline by more than the margin.",
        ]
        + ([power] if (power := power_text(data, comps)) else [])
        + [
            "Landscapes on 5 training episodes (RL) or the training split (classification): shared-weight profile "
            "over -3..3 (weights = sign x w), S(sigma) with per-weight noise N(0, sigma^2 theta^2), a "
            "filter-normalised random direction (Li et al. 2018); SAM sharpness (rho 0.05) and the top Hessian "
            "eigenvalue for classification.",
            "Checkpoint scores below 100 % use 20 held-out episodes (RL); the 100 % point is the final test score.",
        ]
    )
    md = folder / "report.md"
    atomic_write_text(md, doc.markdown())
    atomic_write_text(folder / "report.html", doc.html(f"Study {meta['name']}"))
    atomic_write_text(folder / "comparisons.json", json.dumps(comps, indent=1, default=float))
    return md
