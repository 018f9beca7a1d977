"""Per-generation plots of search runs (`wann plot`): fitness, size and cost from metrics.csv.

A run folder is the ``--out`` of `wann search`: its ``metrics.csv`` has one row per finished
generation (`wann.search.rundir`), and its ``experiment.toml`` names the task. One figure shows
any number of runs, one colour per run (legend by run name), in four panels against the
generation:

- fitness: the best genome's and the population's mean fitness (the mean over shared weights
  and rollouts: an episode return on RL tasks, minus the cross-entropy in nats on
  classification tasks);
- the best genome of each generation at each shared weight (columns ``best_at_w<value>``), one
  marker per weight;
- connections: the best genome's and the population mean's enabled connections;
- episodes evaluated per generation (and, on the right axis, the run's total so far: budgets
  compare at equal episodes).

An island run (`[islands]`: one metrics row per island per generation, an ``island`` column)
is drawn as one line per island, side by side (`split_islands`; labelled ``<run> island K``).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wann.errors import ConfigError
from wann.files import read_text

#: columns every plot needs
REQUIRED = ("generation", "best_fitness", "mean_fitness", "best_connections", "mean_connections", "episodes")
WEIGHT_PREFIX = "best_at_w"
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")


@dataclass(frozen=True)
class RunMetrics:
    """One run's metrics.csv as float columns (NaN where a value is not a number), in
    generation order; task: the task name its experiment.toml records (None if it has none)."""

    name: str
    path: Path
    task: str | None
    columns: dict[str, np.ndarray]

    @property
    def weights(self) -> list[tuple[float, str]]:
        """(shared weight, column) of every best_at_w column, by weight."""
        out = []
        for c in self.columns:
            if c.startswith(WEIGHT_PREFIX):
                try:
                    out.append((float(c[len(WEIGHT_PREFIX) :]), c))
                except ValueError:
                    continue
        return sorted(out)

    @property
    def classification(self) -> bool:
        from wann.tasks.classify import DATASETS

        return self.task in DATASETS


def _metrics_file(run: Path) -> Path:
    if run.is_file():
        return run
    f = run / "metrics.csv"
    if f.is_file():
        return f
    if not run.exists():
        raise ConfigError("RUN", f"{run} does not exist; give a run folder (the --out of `wann search`)")
    hint = "a run folder is the --out of `wann search` and holds metrics.csv"
    if (run / "searches").is_dir():
        hint = f"this looks like a study's results folder: its searches are {run}/searches/*"
    raise ConfigError("RUN", f"{run} holds no metrics.csv; {hint}")


def read_run(run: str | Path, name: str | None = None) -> RunMetrics:
    """The finished generations of a run folder (or of a metrics.csv file given directly);
    ConfigError("RUN") when it has none or lacks a column the plot needs."""
    run = Path(run)
    f = _metrics_file(run)
    text = read_text(f, "RUN", "metrics file")
    try:
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ConfigError("RUN", f"{f} is not a readable CSV file ({e})") from None
    header = list(rows[0]) if rows else []
    missing = [c for c in REQUIRED if c not in header]
    if rows and missing:
        raise ConfigError("RUN", f"{f} has no column {missing[0]!r}; is it the metrics.csv of `wann search`?")
    rows = [r for r in rows if None not in r.values() and None not in r]  # a row cut short by a kill
    if not rows:
        raise ConfigError("RUN", f"{f} has no finished generation yet; plot it after the first one")
    columns = {c: np.array([_number(r[c]) for r in rows]) for c in header}
    folder = f.parent
    return RunMetrics(name or folder.name or str(folder), folder, _task_name(folder), columns)


def split_islands(run: RunMetrics) -> list[RunMetrics]:
    """One `RunMetrics` per island of an island run (rows of each ``island`` value, in order;
    named ``<run> island K``), or [run] itself when it has no island column."""
    isl = run.columns.get("island")
    if isl is None or not np.isfinite(isl).any():
        return [run]
    out = []
    for k in sorted({int(v) for v in isl[np.isfinite(isl)]}):
        rows = isl == k
        cols = {c: v[rows] for c, v in run.columns.items()}
        out.append(RunMetrics(f"{run.name} island {k}", run.path, run.task, cols))
    return out


def _number(s: str) -> float:
    try:
        return float(s)
    except (TypeError, ValueError):
        return float("nan")


def _task_name(folder: Path) -> str | None:
    try:
        name = tomllib.loads((folder / "experiment.toml").read_text())["task"]["name"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) else None


def run_names(paths: Sequence[str | Path]) -> list[str]:
    """A short label per run: its folder's name, with parent folders added until different
    folders get different labels (two runs both called .../run)."""
    folders = [(p if p.is_dir() else p.parent).resolve() for p in map(Path, paths)]
    distinct = len(set(folders))
    depth = 1
    while True:
        names = ["/".join(f.parts[-depth:]) for f in folders]
        if len(set(names)) == distinct or depth >= max(len(f.parts) for f in folders):
            return names
        depth += 1


def fitness_label(runs: Sequence[RunMetrics]) -> str:
    kinds = {r.classification for r in runs}
    if kinds == {True}:
        return "fitness: minus cross-entropy (nats per sample)"
    if kinds == {False}:
        return "fitness: mean episode return"
    return "fitness (episode return; classification: minus cross-entropy, nats)"


def plot_runs(runs: Sequence[str | Path], out: str | Path, title: str | None = None) -> Path:
    """Draw the runs' metrics (see the module docstring) to the PNG `out`; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not runs:
        raise ConfigError("RUN", "give at least one run folder")
    data = [part for p, n in zip(runs, run_names(runs)) for part in split_islands(read_run(p, n))]
    colors = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), sharex=False)
    (a_fit, a_w), (a_conn, a_ep) = axes
    a_total = a_ep.twinx()
    for k, r in enumerate(data):
        col = colors[k % len(colors)]
        gen = r.columns["generation"]
        every = max(1, len(gen) // 12)
        a_fit.plot(gen, r.columns["best_fitness"], color=col, lw=1.6)
        a_fit.plot(gen, r.columns["mean_fitness"], color=col, lw=1.0, ls="--")
        for j, (_w, c) in enumerate(r.weights):
            a_w.plot(
                gen, r.columns[c], color=col, lw=0.8, alpha=0.8, marker=MARKERS[j % len(MARKERS)], ms=4, markevery=every
            )
        a_conn.plot(gen, r.columns["best_connections"], color=col, lw=1.6)
        a_conn.plot(gen, r.columns["mean_connections"], color=col, lw=1.0, ls="--")
        a_ep.plot(gen, r.columns["episodes"], color=col, lw=1.4)
        if "total_episodes" in r.columns:
            a_total.plot(gen, r.columns["total_episodes"], color=col, lw=1.0, ls=":")
    grey = "#555555"
    styles = [
        Line2D([], [], color=grey, lw=1.6, label="best genome"),
        Line2D([], [], color=grey, ls="--", label="population mean"),
    ]
    a_fit.legend(handles=styles, fontsize=8, loc="lower right")
    a_conn.legend(handles=styles, fontsize=8, loc="upper left")
    weights = sorted({w for r in data for w, _ in r.weights})
    marker_of = {w: MARKERS[j % len(MARKERS)] for j, w in enumerate(weights)}
    if weights:
        a_w.legend(
            handles=[
                Line2D([], [], color=grey, marker=marker_of[w], lw=0.8, ms=4, label=f"w = {w:+g}") for w in weights
            ],
            fontsize=8,
            ncol=2,
            loc="lower right",
            title="shared weight",
            title_fontsize=8,
        )
    else:
        a_w.text(0.5, 0.5, "no best_at_w columns in these runs", ha="center", va="center", transform=a_w.transAxes)
    label = fitness_label(data)
    a_fit.set(title="Fitness per generation", ylabel=label)
    a_w.set(
        title="Best genome at each shared weight",
        ylabel=label.replace("fitness: ", "score: ").replace("fitness (", "score ("),
    )
    a_conn.set(title="Network size", ylabel="enabled connections")
    a_ep.set(title="Evaluation cost", ylabel="episodes per generation")
    for a in axes.flat:
        a.set_xlabel("generation")
        a.grid(alpha=0.3)
    a_ep.set_ylim(bottom=0)
    a_total.set_ylim(bottom=0)
    a_total.set_ylabel("total episodes so far (dotted)")
    a_ep.legend(
        handles=[
            Line2D([], [], color=grey, lw=1.4, label="per generation"),
            Line2D([], [], color=grey, ls=":", label="total so far (right axis)"),
        ],
        fontsize=8,
        loc="center right",
    )
    handles = [Line2D([], [], color=colors[k % len(colors)], lw=2.5) for k in range(len(data))]
    labels = [r.name + (f" ({r.task})" if r.task else "") for r in data]
    fig.legend(
        handles,
        labels,
        loc="upper center",
        ncol=min(4, len(data)),
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 0.965),
    )
    fig.suptitle(
        title or f"{len(data)} run{'s' if len(data) > 1 else ''}: metrics per generation", fontsize=12, y=0.995
    )
    rows_of_legend = (len(data) + 3) // 4
    fig.tight_layout(rect=(0, 0, 1, 0.94 - 0.03 * (rows_of_legend - 1)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
