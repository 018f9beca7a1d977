"""`wann report RUN_DIR`: a study's results folder -> `report/report.md`, a self-contained
`report/report.html` (images inlined) and the PNG plots beside them.

The report answers the study's question from the tidy table (`results.parquet`) and the cells'
documents (landscapes, champions): per-task tables (mean +- SD, 95 % bootstrap CI, IQM for RL,
structure and budget columns), the pre-registered comparisons with Welch / Mann-Whitney / paired
tests, effect sizes and Holm correction within each task, score-versus-budget curves, size sweeps,
shared-weight profiles, robustness curves S(sigma), filter-normalised slices, classification
sharpness, drawings of the champions, and a plain-language summary of what held.
"""

from __future__ import annotations

import base64
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wann.analysis import stats
from wann.errors import ConfigError

LABELS = {
    "wann_six_values": "WANN, mean over the six search weights",
    "wann_random_shared": "WANN, random shared weight",
    "wann_random_individual": "WANN, random individual weights",
    "wann_best_shared": "WANN, best shared weight",
    "wann_ensemble": "WANN, weight ensemble",
    "wann_tuned": "WANN, tuned weights",
    "wann_retrained": "WANN topology, random init, trained",
    "dense": "dense, trained",
    "small_dense": "small dense, trained",
    "pruned_magnitude": "dense -> pruned (magnitude)",
    "pruned_taylor": "dense -> pruned (Taylor)",
    "lottery_ticket": "lottery ticket (rewound)",
    "random_sparse": "random sparse, trained",
    "pruned_shared_signed": "pruned mask, one shared weight (signs kept)",
    "pruned_shared_positive": "pruned mask, one shared weight (all positive)",
    "neat": "NEAT",
}
ORDER = list(LABELS)
COLORS = {
    "wann_best_shared": "#1b9e77",
    "wann_tuned": "#66a61e",
    "wann_retrained": "#a6761d",
    "dense": "#d95f02",
    "small_dense": "#e6ab02",
    "pruned_magnitude": "#7570b3",
    "pruned_taylor": "#e7298a",
    "lottery_ticket": "#1f78b4",
    "random_sparse": "#666666",
    "neat": "#17becf",
    "wann_random_shared": "#8dd3c7",
    "wann_random_individual": "#bbbbbb",
    "wann_six_values": "#80b1d3",
    "wann_ensemble": "#386cb0",
}


# ---- loading -------------------------------------------------------------------------------


@dataclass
class StudyData:
    run_dir: Path
    meta: dict[str, Any]
    df: Any  # pandas.DataFrame: every row of results.parquet
    cells: dict[str, dict]

    @property
    def final(self):
        return self.df[self.df["final"]]

    def task_kind(self, task: str) -> str:
        return next(t["kind"] for t in self.meta["tasks"] if t["label"] == task)

    def metric(self, task: str) -> str:
        return "test accuracy" if self.task_kind(task) == "classify" else "mean return"


def load(run_dir: str | Path) -> StudyData:
    import pandas as pd

    from wann.compare import CELL_FORMAT, StudyDir
    from wann.files import read_json

    sd = StudyDir(Path(run_dir))
    if not sd.path.is_dir() or not sd.meta.exists():
        raise ConfigError("RUN_DIR", f"{run_dir} holds no study (no study.json); give a `wann compare` results folder")
    meta = read_json(sd.meta, "RUN_DIR", "study.json")
    if not isinstance(meta, dict) or not all(k in meta for k in ("identity", "name", "seeds", "sizes", "tasks")):
        raise ConfigError("RUN_DIR", f"{sd.meta} is damaged (not a `wann compare` study.json); restore it")
    table = sd.path / "results.parquet"
    if not table.exists():
        raise ConfigError("RUN_DIR", f"{table} does not exist: no cell has finished yet")
    try:
        df = pd.read_parquet(table)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise ConfigError(
            "RUN_DIR", f"{table} is damaged ({type(e).__name__}); rerun `wann compare` on the study to rewrite it"
        ) from None
    missing = [c for c in ("task", "kind", "method", "seed", "final", "score", "episodes") if c not in df.columns]
    if missing:
        raise ConfigError(
            "RUN_DIR", f"{table} lacks columns {missing}; rerun `wann compare` on the study to rewrite it"
        )
    cells = {cid: doc for cid, doc in sd.done(meta["identity"]).items() if doc.get("format") == CELL_FORMAT}
    # training work in one unit per task: RL episodes; classification examples processed (the
    # torch counterparts count examples seen, CMA-ES / NEAT one minibatch of examples per evaluation)
    cls = df["kind"] == "classify"
    df["work"] = np.where(cls & (df["env_steps"] > 0), df["env_steps"], df["episodes"]) + df["parent_episodes"]
    df = _with_probe_rows(df)
    return StudyData(sd.path, meta, df, cells)


def _with_probe_rows(df):
    """The structure probe of each pruned-magnitude net as rows of its own (final only)."""
    import pandas as pd

    base = df[(df["method"] == "pruned_magnitude") & df["final"]]
    extra = []
    for col, name in (("shared_signed", "pruned_shared_signed"), ("shared_positive", "pruned_shared_positive")):
        r = base.copy()
        r["method"] = name
        r["score"] = r[col]
        r["score_sd"] = np.nan
        r["parent"] = base["cell"]
        extra.append(r[r["score"].notna()])
    return pd.concat([df, *extra], ignore_index=True)


# ---- tables --------------------------------------------------------------------------------


def _size_key(s: str) -> tuple:
    if s.endswith("x"):
        return (1, float(s[:-1]))
    if s == "-":
        return (0, 0.0)
    return (2, sum(int(x) for x in s.split("-")))


def method_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    """One summary per (method, size) of a task: statistics across seeds of the final scores."""
    f = data.final[data.final["task"] == task]
    rl = data.task_kind(task) == "rl"
    out = []
    for m in [m for m in ORDER if m in set(f["method"])]:
        fm = f[f["method"] == m]
        for size in sorted(set(fm["size"]), key=_size_key):
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
    for task in _tasks(data):
        f = data.final[data.final["task"] == task]
        dense0 = "-".join(map(str, next(t["dense"][0] for t in data.meta["tasks"] if t["label"] == task)))
        sizes = sorted({s for s in f["size"] if s.endswith("x")}, key=_size_key)
        for name, a, b, sa, sb, paired in COMPARISONS:
            for sz in sizes if "*" in (sa, sb) else [None]:
                ka = sz if sa == "*" else sa
                kb = dense0 if sb == "dense0" else (sz if sb == "*" else sb)
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


def _tasks(data: StudyData) -> list[str]:
    return [t["label"] for t in data.meta["tasks"] if t["label"] in set(data.df["task"])]


# ---- plots ---------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path, dpi: int = 110, **layout) -> Path:
    """Save `fig` as PNG atomically (a killed report leaves the old image or the new one)."""
    import io

    from wann.files import atomic_write_bytes

    fig.tight_layout(**layout)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def plot_budget_curves(data: StudyData, task: str, path: Path) -> Path:
    """Score vs training episodes (checkpoints at 10/25/50/100 %), mean and 95 % CI over seeds."""
    plt = _plt()
    d = data.df[(data.df["task"] == task)]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    from wann.study import RL_STUDY_METHODS

    trained = RL_STUDY_METHODS[RL_STUDY_METHODS.index("wann_tuned") :]  # the methods that train
    for m in trained:
        dm = d[d["method"] == m]
        if dm.empty:
            continue
        size = "1x" if (dm["size"] == "1x").any() else sorted(set(dm["size"]), key=_size_key)[0]
        dm = dm[dm["size"] == size]
        xs, ys, lo, hi = [], [], [], []
        for fr in sorted(set(dm["fraction"])):
            g = dm[dm["fraction"] == fr]
            s = stats.summarize(g["score"].to_numpy())
            xs.append(float(g["work"].mean()))
            ys.append(s["mean"])
            lo.append(s["ci_low"])
            hi.append(s["ci_high"])
        label = LABELS[m] + ("" if size in ("-", "1x") else f" ({size})")
        ax.plot(xs, ys, "o-", color=COLORS.get(m), label=label, ms=3)
        ax.fill_between(xs, lo, hi, color=COLORS.get(m), alpha=0.12)
    f = data.final[(data.final["task"] == task) & (data.final["method"] == "wann_best_shared")]
    if not f.empty:
        ax.axhline(
            f["score"].mean(),
            color=COLORS["wann_best_shared"],
            ls="--",
            label=LABELS["wann_best_shared"] + " (no training)",
        )
    if data.task_kind(task) == "classify":
        ax.set_xscale("log")
        ax.set_xlabel("training examples processed (log; torch: examples seen; CMA-ES/NEAT: examples evaluated)")
    else:
        ax.set_xlabel("training episodes (the dense parent's included for pruned nets)")
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: score vs training budget (sizes at 1x; mean, 95 % CI over seeds)")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def plot_final_scores(data: StudyData, task: str, path: Path) -> Path:
    """Every seed's final score per method (sized methods at 1x), with the mean."""
    plt = _plt()
    f = data.final[data.final["task"] == task]
    methods = [m for m in ORDER if m in set(f["method"])]
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(methods) + 1.2))
    for i, m in enumerate(methods):
        g = f[f["method"] == m]
        if (g["size"] == "1x").any():
            g = g[g["size"] == "1x"]
        elif g["size"].nunique() > 1:
            g = g[g["size"] == sorted(set(g["size"]), key=_size_key)[0]]
        y = np.full(len(g), i) + np.linspace(-0.15, 0.15, len(g)) if len(g) > 1 else np.full(len(g), i)
        ax.scatter(g["score"], y, s=14, color=COLORS.get(m, "#444"), zorder=3)
        ax.plot([g["score"].mean()] * 2, [i - 0.3, i + 0.3], color="k", lw=1.5)
    ax.set_yticks(range(len(methods)))
    ax.set_yticklabels([LABELS[m] for m in methods], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(data.metric(task) + " (dots: seeds; bar: mean; sized methods at 1x)")
    ax.set_title(f"{task}: final scores")
    ax.grid(alpha=0.3, axis="x")
    return _save(plt, fig, path)


def plot_size_sweep(data: StudyData, task: str, path: Path) -> Path:
    """Final score vs connection count: sized methods at every size, dense widths, the WANN."""
    plt = _plt()
    f = data.final[data.final["task"] == task]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for m in [
        "small_dense",
        "pruned_magnitude",
        "pruned_taylor",
        "lottery_ticket",
        "random_sparse",
        "dense",
        "wann_best_shared",
        "wann_tuned",
        "neat",
    ]:
        g = f[f["method"] == m]
        if g.empty:
            continue
        xs, ys, es = [], [], []
        for size in sorted(set(g["size"]), key=_size_key):
            h = g[g["size"] == size]
            xs.append(h["connections"].mean())
            ys.append(h["score"].mean())
            es.append(h["score"].std(ddof=1) if len(h) > 1 else 0.0)
        order = np.argsort(xs)
        xs, ys, es = np.array(xs)[order], np.array(ys)[order], np.array(es)[order]
        ax.errorbar(
            xs, ys, yerr=es, fmt="o-" if len(xs) > 1 else "s", color=COLORS.get(m), label=LABELS[m], ms=4, capsize=2
        )
    ax.set_xscale("log")
    ax.set_xlabel("connections (log scale)")
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: score vs network size (mean +- SD over seeds)")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, which="both")
    return _save(plt, fig, path)


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


def _landscapes(data: StudyData, task: str, method: str, size: str | None = "1x") -> list[dict]:
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
        if method == "dense" and r["size"] != _dense0(data, task):
            continue
        out.append(ls)
    return out


def _dense0(data: StudyData, task: str) -> str:
    return "-".join(map(str, next(t["dense"][0] for t in data.meta["tasks"] if t["label"] == task)))


def plot_landscapes(data: StudyData, task: str, path: Path) -> Path:
    """Shared-weight profiles, robustness S(sigma) and filter-normalised slices, mean over seeds."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.8))
    sigmas = None
    for m in LANDSCAPE_METHODS:
        ls = _landscapes(data, task, m)
        if not ls:
            continue
        c = COLORS.get(m)
        grid = np.asarray(ls[0]["profile"]["grid"])
        prof = np.mean([x["profile"]["scores"] for x in ls], axis=0)
        axes[0].plot(grid, prof, color=c, label=LABELS[m])
        sigmas = np.asarray(ls[0]["robustness"]["sigma"])
        s = np.mean([x["robustness"]["s"] for x in ls], axis=0)
        axes[1].plot(sigmas, s, "o-", color=c, label=LABELS[m], ms=3)
        al = np.asarray(ls[0]["slice"]["alphas"])
        sl = np.mean([x["slice"]["scores"] for x in ls], axis=0)
        axes[2].plot(al, sl, color=c, label=LABELS[m])
    axes[0].set_title("shared-weight profile R(w), weights = sign x w")
    axes[0].set_xlabel("shared weight w")
    axes[1].set_title("robustness S(sigma) = R(theta) - E R(theta + eps)")
    axes[1].set_xlabel("sigma (relative per-weight noise)")
    if sigmas is not None:
        axes[1].set_xticks(list(sigmas))
    axes[2].set_title("filter-normalised 1-D slice")
    axes[2].set_xlabel("alpha")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_ylabel("training-split accuracy" if data.task_kind(task) == "classify" else "return (5 episodes)")
    axes[1].set_ylabel("score lost")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"{task}: landscapes (sized methods at 1x; mean over seeds)")
    return _save(plt, fig, path, dpi=100, rect=(0, 0.12, 1, 1))


def landscape_rows(data: StudyData, task: str) -> list[dict[str, Any]]:
    out = []
    for m in LANDSCAPE_METHODS:
        ls = _landscapes(data, task, m)
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
        if data.task_kind(task) == "classify":
            row["sam"] = mean(lambda x: x.get("sam", {}).get("sharpness"))
            row["hessian_top"] = mean(lambda x: x.get("hessian_top"))
        out.append(row)
    return out


def _at(rob: dict, sigma: float):
    for s, v in zip(rob["sigma"], rob["s"]):
        if abs(s - sigma) < 1e-9:
            return v
    return None


def draw_champions(data: StudyData, task: str, folder: Path) -> list[tuple[str, Path]]:
    """The best and the median seed's champion (by the best-shared-weight score)."""
    from wann.draw import draw
    from wann.genome import Genome

    f = data.final[(data.final["task"] == task) & (data.final["method"] == "wann_best_shared")]
    if f.empty:
        return []
    f = f.sort_values("score", ascending=False)
    picks = [("best", f.iloc[0])]
    if len(f) > 2:
        picks.append(("median", f.iloc[len(f) // 2]))
    out = []
    for tag, row in picks:
        doc = data.cells.get(f"{task}/search/-/s{int(row['seed'])}")
        champ = doc["champion"] if doc else None
        if champ is None:
            wdoc = data.cells.get(row["cell"], {})
            champ = (wdoc.get("networks") or {}).get("wann_best_shared", {}).get("genome")
        if champ is None:
            continue
        g = Genome.from_dict(champ)
        p = folder / f"{task}-champion-{tag}.png"
        title = f"{task} champion, seed {int(row['seed'])}: {row['score']:.3g} at w = {row['shared_weight']:g}"
        draw(g, p, title=title)
        out.append((f"{tag} seed ({int(row['seed'])}), {g.n_connections} connections", p))
    return out


# ---- the summary ---------------------------------------------------------------------------


def gap_closed(data: StudyData, task: str) -> dict[str, float]:
    """How much of the way from random weights (on the champion's topology) to the trained
    dense net each method gets: (score - floor) / (dense - floor), means over seeds."""
    f = data.final[data.final["task"] == task]
    floor = f[f["method"] == "wann_random_individual"]["score"].mean()
    top = f[(f["method"] == "dense") & (f["size"] == _dense0(data, task))]["score"].mean()
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


def summary_lines(data: StudyData, comps: list[dict], gaps: dict[str, dict]) -> list[str]:
    lines = []
    tasks = _tasks(data)
    n_seeds = len(data.meta["seeds"])
    for task in tasks:
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
        a, b = LABELS.get(cs[0]["a"], cs[0]["a"]), LABELS.get(cs[0]["b"], cs[0]["b"])
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
    parts = "; ".join(f"{LABELS[r['method']]} {_fmt(r['s_0.5'])}" for r in rows)
    return (
        f"**{task}** robustness, score lost under 50 % relative weight noise S(0.5), least to most: {parts} "
        "(absolute losses: a network that scores more also has more to lose)."
    )


def where_in_training(data: StudyData, task: str) -> str | None:
    """Tuned WANN vs dense at each checkpoint: where the structure's head start matters."""
    d = data.df[data.df["task"] == task]
    a = d[d["method"] == "wann_tuned"]
    b = d[(d["method"] == "dense") & (d["size"] == _dense0(data, task))]
    if a.empty or b.empty:
        return None
    parts = []
    for fr in sorted(set(a["fraction"]) & set(b["fraction"])):
        ma, mb = a[a["fraction"] == fr]["score"].mean(), b[b["fraction"] == fr]["score"].mean()
        parts.append(f"{fr:.0%}: {ma:.3g} vs {mb:.3g}")
    return (
        f"tuned WANN vs dense ({_dense0(data, task)}) at 10/25/50/100 % of the training budget (the WANN's "
        "search not counted): " + ", ".join(parts)
    )


# ---- rendering -----------------------------------------------------------------------------


def _fmt(v, digits=3) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if not np.isfinite(v):
        return "-"
    if float(v).is_integer() and abs(v) < 1e5:
        return f"{int(v):,}"
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.2e}"
    if a >= 100:
        return f"{v:,.1f}"
    return f"{v:.{digits}g}"


class Doc:
    """Blocks rendered to Markdown and to self-contained HTML."""

    def __init__(self, folder: Path):
        self.blocks: list[tuple[str, Any]] = []
        self.folder = folder

    def h(self, level: int, text: str):
        self.blocks.append(("h", (level, text)))

    def p(self, text: str):
        self.blocks.append(("p", text))

    def ul(self, items: list[str]):
        self.blocks.append(("ul", items))

    def table(self, header: list[str], rows: list[list[Any]]):
        self.blocks.append(("table", (header, [[_fmt(c) for c in r] for r in rows])))

    def img(self, path: Path, caption: str):
        self.blocks.append(("img", (path, caption)))

    def markdown(self) -> str:
        out = []
        for kind, x in self.blocks:
            if kind == "h":
                out.append("#" * x[0] + " " + x[1])
            elif kind == "p":
                out.append(x)
            elif kind == "ul":
                out.append("\n".join(f"- {i}" for i in x))
            elif kind == "table":
                head, rows = x
                lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                lines += ["| " + " | ".join(r) + " |" for r in rows]
                out.append("\n".join(lines))
            elif kind == "img":
                out.append(f"![{x[1]}]({x[0].relative_to(self.folder)})\n\n*{x[1]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        def inline(t: str) -> str:
            import re

            t = html.escape(t)
            t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
            t = re.sub(r"\*(.+?)\*", r"<i>\1</i>", t)
            return re.sub(r"`(.+?)`", r"<code>\1</code>", t)

        out = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title><style>",
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
            "table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;",
            "padding:2px 6px;text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}",
            "img{max-width:100%}figure{margin:1em 0}figcaption{font-size:12px;color:#555}code{background:#f4f4f4}",
            "</style></head><body>",
        ]
        for kind, x in self.blocks:
            if kind == "h":
                out.append(f"<h{x[0]}>{inline(x[1])}</h{x[0]}>")
            elif kind == "p":
                out.append(f"<p>{inline(x)}</p>")
            elif kind == "ul":
                out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in x) + "</ul>")
            elif kind == "table":
                head, rows = x
                out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
                out.append("</table>")
            elif kind == "img":
                b64 = base64.b64encode(Path(x[0]).read_bytes()).decode()
                out.append(
                    f"<figure><img src='data:image/png;base64,{b64}' alt='{html.escape(x[1])}'>"
                    f"<figcaption>{inline(x[1])}</figcaption></figure>"
                )
        out.append("</body></html>")
        return "\n".join(out)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write report.md, report.html and the plots into `out` (default RUN_DIR/report): a new or
    empty folder, or one that holds an earlier report (its files are replaced)."""
    from wann.files import FolderLock

    data = load(run_dir)
    folder = Path(out) if out else data.run_dir / "report"
    lock = FolderLock(folder, "--out", command="wann report")
    lock.check_free(take_stale=True)
    check_report_folder(folder)
    lock.acquire(take_stale=True)
    try:
        check_report_folder(folder)
        return _write_report(data, folder)
    finally:
        lock.release()


#: what a report folder holds (anything else means it is not one)
REPORT_FILES = ("report.md", "report.html", "comparisons.json")


def check_report_folder(folder: Path) -> None:
    from wann.files import check_writable_folder, visible_entries

    check_writable_folder(folder, "--out")
    entries = visible_entries(folder)
    other = [e for e in entries if e not in REPORT_FILES and not e.endswith(".png")]
    if entries and ("report.md" not in entries or other):
        shown = ", ".join((other or entries)[:3])
        raise ConfigError(
            "--out", f"{folder} holds files that are not a wann report ({shown}); give a new or empty folder"
        )


def _write_report(data: StudyData, folder: Path) -> Path:
    from wann.store import atomic_write_text

    doc = Doc(folder)
    meta = data.meta
    tasks = _tasks(data)
    comps = comparisons(data)
    gaps = {t: gap_closed(data, t) for t in tasks}
    n_cells = len(data.cells)
    cpu = sum(float(c.get("wall_s", 0.0)) for c in data.cells.values())

    doc.h(1, f"Study `{meta['name']}`: how much is structure, how much is weights?")
    src = Path(meta.get("source") or "STUDY.toml").name
    doc.p(
        f"Made by `wann compare {meta.get('source') or src}` then `wann report {data.run_dir}`. "
        f"{n_cells} cells, {len(meta['seeds'])} seeds ({', '.join(map(str, meta['seeds']))}), sizes "
        f"{', '.join(f'{s:g}x' for s in meta['sizes'])} of each seed's champion; "
        f"{cpu / 3600:.2f} cell-hours of compute. RL scores are mean returns over {meta['test_episodes']} fresh "
        "episodes (seeds never used in training); classification scores are test-split accuracies."
    )
    doc.h(2, "Summary")
    doc.ul(summary_lines(data, comps, gaps) + [r for t in tasks if (r := robustness_line(data, t))])
    for task in tasks:
        w = where_in_training(data, task)
        if w:
            doc.p(f"*{task}*: {w}.")

    for task in tasks:
        tcfg = next(t for t in meta["tasks"] if t["label"] == task)
        doc.h(2, f"{task} ({tcfg['task']['name']})")
        budget = (
            f"{tcfg['budget']:,} episodes per RL counterpart"
            if tcfg["kind"] == "rl"
            else f"{tcfg['epochs']} Adam epochs per torch counterpart, {tcfg['budget']:,} evaluations for CMA-ES / NEAT"
        )
        src = f"search `{Path(tcfg['search']).name}` per seed" if tcfg.get("search") else "a fixed champion"
        doc.p(f"Budget: {budget}; WANN: {src}; dense widths {', '.join(_dense_label(h) for h in tcfg['dense'])}.")
        rows = method_rows(data, task)
        rl = tcfg["kind"] == "rl"
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
                    LABELS[r["method"]],
                    r["size"],
                    r["n"],
                    r["mean"],
                    r["sd"],
                    f"{_fmt(r['ci_low'])} .. {_fmt(r['ci_high'])}",
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
                    "verdict",
                ],
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
                        verdict(c),
                    ]
                    for c in tc
                ],
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
        lrows = landscape_rows(data, task)
        if lrows:
            doc.h(3, "Landscapes")
            cls = tcfg["kind"] == "classify"
            doc.table(
                ["method", "n", "profile argmax w", "profile width (fraction)", "S(0.1)", "S(0.5)", "slice drop at 0.5"]
                + (["SAM sharpness", "top Hessian eigenvalue"] if cls else []),
                [
                    [
                        LABELS[r["method"]],
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

    doc.h(2, "Method")
    doc.ul(
        [
            "A seed is one independent run: its own WANN search and its own training of every counterpart.",
            "Statistics across seeds: mean +- SD, 95 % percentile bootstrap CI (10,000 resamples), IQM for RL; "
            "Welch t-test and Mann-Whitney U, Cohen's d and Vargha-Delaney A12, Holm correction within a task; "
            "paired t-tests where rows share a parent run (dense -> pruned -> ticket).",
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


def _dense_label(h) -> str:
    return "-".join(map(str, h))
