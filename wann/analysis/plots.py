"""The report's figures, one PNG per call: score versus training budget, every seed's final score,
score versus connection count, the landscapes (shared-weight profile, robustness, 1-D slice), and
drawings of the best and the median seed's champion. Labels, colours and order come from the
registry of methods (`wann.baselines.methods`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from wann.analysis import stats
from wann.analysis.data import PROBE_ROWS, StudyData, size_key
from wann.analysis.tables import LANDSCAPE_METHODS, landscapes
from wann.baselines import methods
from wann.baselines.methods import CLASSIFY

#: the methods that train, in the registry's order (the budget curves)
TRAINED = tuple(m.name for m in methods.METHODS if m.role == methods.TRAINED)


def _color(method: str, default: str | None = None) -> str | None:
    """The registry's colour of a method; the structure-probe rows are drawn in matplotlib's
    default (or `default`) colour, as the report always drew them."""
    return default if method in PROBE_ROWS else methods.get(method).color


def _label(method: str) -> str:
    return methods.get(method).label


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
    for m in TRAINED:
        dm = d[d["method"] == m]
        if dm.empty:
            continue
        size = "1x" if (dm["size"] == "1x").any() else sorted(set(dm["size"]), key=size_key)[0]
        dm = dm[dm["size"] == size]
        xs, ys, lo, hi = [], [], [], []
        for fr in sorted(set(dm["fraction"])):
            g = dm[dm["fraction"] == fr]
            s = stats.summarize(g["score"].to_numpy())
            xs.append(float(g["work"].mean()))
            ys.append(s["mean"])
            lo.append(s["ci_low"])
            hi.append(s["ci_high"])
        label = _label(m) + ("" if size in ("-", "1x") else f" ({size})")
        ax.plot(xs, ys, "o-", color=_color(m), label=label, ms=3)
        ax.fill_between(xs, lo, hi, color=_color(m), alpha=0.12)
    f = data.final[(data.final["task"] == task) & (data.final["method"] == "wann_best_shared")]
    if not f.empty:
        ax.axhline(
            f["score"].mean(),
            color=_color("wann_best_shared"),
            ls="--",
            label=_label("wann_best_shared") + " (no training)",
        )
    if data.task_kind(task) == CLASSIFY:
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
    shown = [m for m in methods.ORDER if m in set(f["method"])]
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(shown) + 1.2))
    for i, m in enumerate(shown):
        g = f[f["method"] == m]
        if (g["size"] == "1x").any():
            g = g[g["size"] == "1x"]
        elif g["size"].nunique() > 1:
            g = g[g["size"] == sorted(set(g["size"]), key=size_key)[0]]
        y = np.full(len(g), i) + np.linspace(-0.15, 0.15, len(g)) if len(g) > 1 else np.full(len(g), i)
        ax.scatter(g["score"], y, s=14, color=_color(m, "#444"), zorder=3)
        ax.plot([g["score"].mean()] * 2, [i - 0.3, i + 0.3], color="k", lw=1.5)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([textwrap.fill(_label(m), 44) for m in shown], fontsize=7)  # long labels on two lines
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
        for size in sorted(set(g["size"]), key=size_key):
            h = g[g["size"] == size]
            xs.append(h["connections"].mean())
            ys.append(h["score"].mean())
            es.append(h["score"].std(ddof=1) if len(h) > 1 else 0.0)
        order = np.argsort(xs)
        xs, ys, es = np.array(xs)[order], np.array(ys)[order], np.array(es)[order]
        ax.errorbar(
            xs, ys, yerr=es, fmt="o-" if len(xs) > 1 else "s", color=_color(m), label=_label(m), ms=4, capsize=2
        )
    ax.set_xscale("log")
    ax.set_xlabel("connections (log scale)")
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: score vs network size (mean +- SD over seeds)")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, which="both")
    return _save(plt, fig, path)


def plot_landscapes(data: StudyData, task: str, path: Path) -> Path:
    """Shared-weight profiles, robustness S(sigma) and filter-normalised slices, mean over seeds."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.8))
    sigmas = None
    for m in LANDSCAPE_METHODS:
        ls = landscapes(data, task, m)
        if not ls:
            continue
        c = _color(m)
        grid = np.asarray(ls[0]["profile"]["grid"])
        prof = np.mean([x["profile"]["scores"] for x in ls], axis=0)
        axes[0].plot(grid, prof, color=c, label=_label(m))
        sigmas = np.asarray(ls[0]["robustness"]["sigma"])
        s = np.mean([x["robustness"]["s"] for x in ls], axis=0)
        axes[1].plot(sigmas, s, "o-", color=c, label=_label(m), ms=3)
        al = np.asarray(ls[0]["slice"]["alphas"])
        sl = np.mean([x["slice"]["scores"] for x in ls], axis=0)
        axes[2].plot(al, sl, color=c, label=_label(m))
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
        ax.set_ylabel(
            "training-split accuracy"
            if data.task_kind(task) == CLASSIFY
            else f"return ({data.meta.get('landscape_episodes', 5)} episodes)"
        )
    axes[1].set_ylabel("score lost")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"{task}: landscapes (sized methods at 1x; mean over seeds)")
    return _save(plt, fig, path, dpi=100, rect=(0, 0.12, 1, 1))


def _input_names(data: StudyData, task: str, g) -> list[str] | None:
    """The recorded task's input names (so the drawing names them, and maps image inputs on
    their grid), or None when the task cannot be built here or does not fit the genome."""
    from wann.errors import WannError
    from wann.tasks import task_from_spec

    spec = next((t.get("task") for t in data.meta.get("tasks", []) if t.get("label") == task), None)
    if not isinstance(spec, dict):
        return None
    try:
        t = task_from_spec(spec)
    except (WannError, ImportError, OSError):
        return None
    names = list(getattr(t, "input_names", None) or [])
    return names if len(names) == g.n_inputs else None


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
        draw(g, p, title=title, input_names=_input_names(data, task, g))
        out.append((f"{tag} seed ({int(row['seed'])}), {g.n_connections} connections", p))
    return out


# --------------------------------------------------------------------------- the study's axes

#: the colour of each claim verdict
VERDICT_COLORS = {"supported": "#1b9e77", "refuted": "#d62728", "equivalent": "#386cb0", "inconclusive": "#999999"}


def plot_claims(rows: list[dict], path: Path) -> Path:
    """Forest plot of the claims: per (claim, task), the standardised paired difference d_z =
    mean(A - B) / SD(A - B) with its 95 % CI (the CI of the mean difference over the same SD),
    the margin in the same unit as ticks; a second panel, for variance claims, the structure share
    minus the initialisation share with its bootstrap CI. Coloured by verdict."""
    plt = _plt()
    paired = [r for r in rows if r["test"] != "variance" and np.isfinite(r.get("d_z", np.nan))]
    var = [r for r in rows if r["test"] == "variance" and np.isfinite(r.get("diff", np.nan))]
    panels = [p for p in (paired, var) if p]
    if not panels:
        panels = [[]]
    heights = [max(1.5, 0.32 * len(p) + 0.9) for p in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights) + 0.6), height_ratios=heights, squeeze=False)
    for ax, group in zip(axes[:, 0], panels):
        is_var = group is var and bool(var)
        for i, r in enumerate(group):
            c = VERDICT_COLORS.get(r["verdict"], "#999999")
            if is_var:
                x, lo, hi = r["diff"], r["ci_low"], r["ci_high"]
            else:
                sd = r["sd_diff"]
                x = r["d_z"]
                lo, hi = (r["ci_low"] / sd, r["ci_high"] / sd) if sd > 0 else (x, x)
                mg = r.get("margin", np.nan)
                if np.isfinite(mg) and sd > 0 and abs(mg / sd) < 50:
                    ax.plot([-mg / sd, mg / sd], [i, i], "|", color="k", ms=9, mew=1)
            if np.isfinite(lo) and np.isfinite(hi):
                ax.plot([lo, hi], [i, i], color=c, lw=2)
            ax.plot([x], [i], "o", color=c, ms=6)
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_yticks(range(len(group)))
        ax.set_yticklabels(
            [textwrap.shorten(f"{r['claim']} · {r['task']}" + (f" · {r['a']}" if is_var else ""), 60) for r in group],
            fontsize=7,
        )
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
        if is_var:
            ax.set_xlim(-1.05, 1.05)
            ax.set_xlabel("structure share - initialisation share of the score variance (95 % bootstrap CI over seeds)")
        else:
            ax.set_xlabel("d_z = mean(A - B) / SD(A - B) (95 % CI; ticks: the equivalence margin in the same unit)")
    handles = [plt.Line2D([], [], marker="o", color=c, ls="-", label=k) for k, c in VERDICT_COLORS.items()]
    axes[0, 0].legend(handles=handles, fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=4, frameon=False)
    axes[0, 0].set_title("Claims: paired difference per task, coloured by verdict", pad=22)
    return _save(plt, fig, path)


def plot_prune_times(data: StudyData, task: str, rows: list[dict], refs: dict[str, float], path: Path) -> Path:
    """Final score versus prune time (fraction of the dense parent's training done when the mask
    is chosen), mean and 95 % CI over seeds; t = 0: random mask and SNIP, then one-shot magnitude
    pruning fine-tuned from the parent's weights and rewound to its initial weights."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    at0 = [r for r in rows if r["t"] == 0.0 and r["method"] in ("random_sparse", "snip")]
    for j, r in enumerate(at0):
        x = -0.012 + 0.024 * j
        ax.errorbar(
            [100 * x],
            [r["mean"]],
            yerr=[[r["mean"] - r["ci_low"]], [r["ci_high"] - r["mean"]]] if np.isfinite(r["ci_low"]) else None,
            fmt="s",
            color=_color(r["method"]),
            label=_label(r["method"]) + " (t = 0)",
            capsize=3,
        )
    for m in ("pruned_at", "pruned_at_rewind"):
        g = [r for r in rows if r["method"] == m]
        if not g:
            continue
        xs = np.array([100 * r["t"] for r in g])
        ys = np.array([r["mean"] for r in g])
        lo = np.array([r["ci_low"] for r in g])
        hi = np.array([r["ci_high"] for r in g])
        ax.plot(xs, ys, "o-", color=_color(m), label=_label(m), ms=4)
        ax.fill_between(xs, lo, hi, color=_color(m), alpha=0.15)
    for m, v in refs.items():
        ax.axhline(v, color=_color(m), ls="--", lw=1, label=f"{_label(m)} (mean)")
    ax.set_xlabel("pruned after % of the parent's training (0 = at initialisation)")
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: time in training (size 1x; mean, 95 % CI over seeds)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def plot_inits(data: StudyData, task: str, rows: list[dict], path: Path) -> Path:
    """Final score per method under each init scheme (grouped: mean and 95 % CI over seeds, one
    colour per scheme); the WANN topology also under its own shared-weight solution."""
    plt = _plt()
    shown = list(dict.fromkeys(r["method"] for r in rows))
    inits = list(dict.fromkeys(r["init"] for r in rows))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.4 * len(shown) + 3), 4.8))
    width = 0.8 / max(1, len(inits))
    for j, init in enumerate(inits):
        xs, ys, err = [], [], [[], []]
        for i, m in enumerate(shown):
            r = next((r for r in rows if r["method"] == m and r["init"] == init), None)
            if r is None:
                continue
            xs.append(i - 0.4 + width * (j + 0.5))
            ys.append(r["mean"])
            ok = np.isfinite(r["ci_low"])
            err[0].append(r["mean"] - r["ci_low"] if ok else 0.0)
            err[1].append(r["ci_high"] - r["mean"] if ok else 0.0)
        ax.errorbar(xs, ys, yerr=err, fmt="o", ms=6, capsize=3, color=palette[j % len(palette)], label=init)
    for i in range(1, len(shown)):
        ax.axvline(i - 0.5, color="#ddd", lw=0.8)
    ax.set_xticks(range(len(shown)))
    sizes = {r["method"]: r["size"] for r in rows}
    ax.set_xticklabels(
        [textwrap.fill(_label(m) + ("" if sizes[m] == "-" else f" ({sizes[m]})"), 22) for m in shown], fontsize=6.5
    )
    ax.set_xlim(-0.5, len(shown) - 0.5)
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: initialisation (mean, 95 % CI over seeds)")
    ax.legend(title="init scheme", fontsize=7, title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, axis="y")
    return _save(plt, fig, path)


def plot_compute(data: StudyData, task: str, rows: list[dict], unit: str, path: Path) -> Path:
    """Final score against total compute (log x): each method's mean over seeds with its 95 % CI;
    the WANN rows at both search budgets joined by a line (the half budget labelled once, at its
    highest point: the WANN rows share its x)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4.8))
    halves = [r for r in rows if r["variant"] == "half" and np.isfinite(r["mean"])]
    top_half = max(halves, key=lambda r: r["mean"]) if halves else None  # labelled once: they share an x
    for m in dict.fromkeys(r["method"] for r in rows):
        g = [r for r in rows if r["method"] == m]
        xs = np.array([r["compute"] for r in g])
        ys = np.array([r["mean"] for r in g])
        lo = np.array([r["ci_low"] for r in g])
        hi = np.array([r["ci_high"] for r in g])
        yerr = np.where(np.isfinite([lo, hi]), [ys - lo, hi - ys], 0.0)
        joined = m.startswith("wann") and any(r["variant"] == "half" for r in g)
        ax.errorbar(xs, ys, yerr=yerr, fmt="o-" if joined else "o", color=_color(m), ms=4, capsize=2, label=_label(m))
        for r in g:
            if r["variant"] not in ("-", "1x") and (r["variant"] != "half" or r is top_half):
                tag = "half search" if r["variant"] == "half" else r["variant"]
                ax.annotate(tag, (r["compute"], r["mean"]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel(f"total {unit} (log): own training + parents' + the WANN search for WANN rows")
    ax.set_ylabel(data.metric(task))
    ax.set_title(f"{task}: score vs total compute (sized methods at 1x; mean, 95 % CI over seeds)")
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, which="both")
    return _save(plt, fig, path)


def plot_variance(data: StudyData, task: str, splits: list[dict], path: Path) -> Path:
    """Per fixed structure, the variance of the final score split into structure (between
    seeds), initialisation (between re-drawn initial weights of one structure) and evaluation
    noise (the test set's sampling variance), as a stacked bar of shares."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(splits) + 1.6))
    parts = (
        ("structure", "structure (between seeds)", "#1b9e77"),
        ("init_only", "initialisation (between reps)", "#d95f02"),
        ("eval_share", "evaluation noise (test set)", "#bbbbbb"),
    )
    for i, s in enumerate(splits):
        left = 0.0
        for key, label, c in parts:
            v = s.get(key, np.nan)
            if key == "init_only" and not np.isfinite(v):
                v = s.get("init", np.nan)
            if not np.isfinite(v):
                continue
            ax.barh(i, v, left=left, color=c, label=label if i == 0 else None)
            left += v
    ax.set_yticks(range(len(splits)))
    ax.set_yticklabels(
        [
            textwrap.fill(f"{_label(s['arm'].split('/')[0])} ({s['k']} seeds x {s['r']} initialisations)", 40)
            for s in splits
        ],
        fontsize=7,
    )
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of the variance of the final {data.metric(task)}")
    ax.set_title(f"{task}: where the spread comes from (one-way random-effects ANOVA)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3, axis="x")
    return _save(plt, fig, path)
