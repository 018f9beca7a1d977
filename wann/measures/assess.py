"""`wann evaluate`: a genome under the paper's weight conditions, over fresh episodes.

Conditions (Gaier & Ha 2019, table 1), each reported as mean +- SD over `episodes` episodes whose
reset seeds were never used by the search:

- each search value: every connection carries that shared weight (the six search values);
- random shared weight: one w ~ U(-2, 2) drawn per episode;
- random individual weights: every connection its own w_e ~ U(-2, 2), per episode;
- best shared weight: the best value of a grid over [-2, 2] (step 0.1, 0 excluded, plus the
  search values), *chosen* on separate selection episodes, then scored on the fresh episodes.

Classification tasks (``task.kind == "classify"``) report test-split accuracies (fractions in
[0, 1]) under the same keys: each search value and the best shared weight are deterministic
(sd 0; the best weight is chosen by accuracy on the training split, ties to the lower training
cross-entropy), random shared / random individual weights give mean +- SD over `episodes` draws,
and ``ensemble_accuracy`` is the accuracy of the softmax outputs averaged over the search values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from wann.errors import GenomeError
from wann.genome import Genome
from wann.limits import MAX_ABS_WEIGHT
from wann.network import compile_genomes
from wann.seeds import DEFAULT_SHARED_WEIGHTS, SELECTION_OFFSET, TEST_SEED
from wann.tasks import make_task, task_from_spec
from wann.tasks.base import TaskKind


@dataclass
class Assessment:
    """A genome under the paper's weight conditions (see the module docstring).

    Scores are episode returns (RL, ``metric`` "return") or test-split accuracies in [0, 1]
    (classification, ``metric`` "accuracy"); each condition is ``{"mean", "sd"}`` over `episodes`
    episodes (or weight draws). search_values: one ``{"weight", "mean", "sd"}`` per search value;
    best_shared: ``{"weight", "mean", "sd", "selection_mean", ...}`` with the weight chosen on
    selection episodes (RL) or the training split (classification); weight_profile: the grid and
    its selection scores. `to_dict` / `from_dict` give the JSON form `wann evaluate --json`
    prints and study cells store."""

    task: dict[str, Any]
    episodes: int
    seed: int
    connections: int
    nodes: int
    search_values: list[dict[str, float]]
    search_values_mean: float
    search_values_sd: float
    best_shared: dict[str, Any]
    random_shared: dict[str, float]
    random_individual: dict[str, float]
    weight_profile: dict[str, list[float]]
    metric: str = "return"
    ensemble_accuracy: float | None = None  # classification: softmax outputs averaged over the search values
    train_samples: int | None = None
    test_samples: int | None = None

    _FIRST = ("task", "metric", "episodes", "seed", "train_samples", "test_samples", "connections", "nodes")

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        head = {k: d[k] for k in self._FIRST if not (k == "metric" and d[k] == "return") and d[k] is not None}
        rest = {k: v for k, v in d.items() if k not in self._FIRST and v is not None}
        if self.ensemble_accuracy is not None:  # after random_individual, as before
            rest = {k: v for k, v in rest.items() if k != "weight_profile"}
            rest.pop("ensemble_accuracy")
            rest.update(ensemble_accuracy=self.ensemble_accuracy, weight_profile=self.weight_profile)
        return {**head, **rest}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Assessment:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _search_values(v: Any) -> tuple[float, ...]:
    """The shared weights a genome file records (meta.shared_weights), checked: a genome file is
    user input, and NaN or huge weights would print nonsense."""
    ok = (
        isinstance(v, (list, tuple))
        and 0 < len(v) <= 100
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)
        and all(abs(x) <= MAX_ABS_WEIGHT for x in v)
        and len(set(v)) == len(v)
    )
    if not ok:
        raise GenomeError(
            f"genome meta.shared_weights: must be 1-100 distinct finite numbers in [-{MAX_ABS_WEIGHT:g}, "
            f"{MAX_ABS_WEIGHT:g}], got {v!r}; fix or delete the key (default: the paper's six values)"
        )
    return tuple(float(x) for x in v)


def _stats(x: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(x)), "sd": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0}


def weight_grid(search_values) -> np.ndarray:
    grid = np.round(np.arange(-20, 21) / 10.0, 1)
    grid = grid[grid != 0.0]
    return np.unique(np.concatenate([grid, np.asarray(search_values, dtype=np.float64)]))


def assess(
    genome: Genome,
    task_name: str | None = None,
    episodes: int = 100,
    seed: int = TEST_SEED,
    selection_episodes: int | None = None,
) -> Assessment:
    """Score `genome` under every condition (an `Assessment`; see the module docstring); its
    fields include search_values, search_values_mean, best_shared, random_shared,
    random_individual, connections."""
    if task_name:
        task = make_task(task_name)
    elif isinstance(genome.meta.get("task"), dict):
        spec = genome.meta["task"]
        if not isinstance(spec.get("name"), str):
            raise GenomeError('genome meta.task: must be a table with name = "<task id>"; or pass --task')
        task = task_from_spec(spec)
    else:
        task = make_task("wann/CartPoleSwingUp-v0")
    if (task.n_inputs, task.n_outputs) != (genome.n_inputs, genome.n_outputs):
        from wann.errors import ConfigError

        raise ConfigError(
            "task",
            f"{task.name} needs {task.n_inputs} inputs and {task.n_outputs} outputs; "
            f"the genome has {genome.n_inputs} and {genome.n_outputs}",
        )
    search_values = _search_values(genome.meta.get("shared_weights", DEFAULT_SHARED_WEIGHTS))
    if task.kind == TaskKind.CLASSIFY:
        return _assess_classify(task, genome, search_values, episodes, seed)
    batch = compile_genomes([genome])
    test_seeds = seed + np.arange(episodes)
    rng = np.random.default_rng(np.random.SeedSequence([seed, episodes]))
    n_sel = selection_episodes or max(10, episodes // 2)
    sel_seeds = seed + SELECTION_OFFSET + np.arange(n_sel)

    def run(weights, seeds, edge_weights=None):
        weights = np.asarray(weights, dtype=np.float64)
        ret, _ = task.run_episodes(
            batch, np.zeros(len(seeds), dtype=np.int64), weights, np.asarray(seeds, dtype=np.int64), edge_weights
        )
        return ret

    # each search value, and the grid on the selection seeds: one kernel call each
    sv = np.repeat(search_values, episodes)
    per_value = run(sv, np.tile(test_seeds, len(search_values))).reshape(len(search_values), episodes)
    grid = weight_grid(search_values)
    sel = run(np.repeat(grid, n_sel), np.tile(sel_seeds, len(grid))).reshape(len(grid), n_sel).mean(axis=1)
    best_w = float(grid[int(np.argmax(sel))])
    best = run(np.full(episodes, best_w), test_seeds)
    rand_shared = run(rng.uniform(-2, 2, episodes), test_seeds)
    n_edges = int(batch.edge_ptr[1] - batch.edge_ptr[0])
    ew = rng.uniform(-2, 2, size=(episodes, max(n_edges, 1)))
    rand_ind = run(np.zeros(episodes), test_seeds, ew)

    return Assessment(
        task=task.spec(),
        episodes=episodes,
        seed=seed,
        connections=genome.n_connections,
        nodes=genome.n_nodes,
        search_values=[{"weight": float(w), **_stats(r)} for w, r in zip(search_values, per_value)],
        search_values_mean=float(per_value.mean()),
        search_values_sd=float(per_value.mean(axis=1).std(ddof=0)),
        best_shared={
            "weight": best_w,
            **_stats(best),
            "selection_episodes": n_sel,
            "selection_mean": float(sel.max()),
        },
        random_shared=_stats(rand_shared),
        random_individual=_stats(rand_ind),
        weight_profile={"weights": [float(w) for w in grid], "selection_mean": [float(x) for x in sel]},
    )


def _assess_classify(task, genome: Genome, search_values, draws: int, seed: int) -> Assessment:
    """Test-split accuracies of a classification genome (see the module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, draws]))
    sv = np.asarray(search_values, dtype=np.float64)
    per_value = task.accuracy(genome, sv)
    grid = weight_grid(search_values)
    train_acc = task.accuracy(genome, grid, split="train")
    train_ce = task.cross_entropy(genome, grid, split="train")
    best_i = int(np.lexsort((train_ce, -train_acc))[0])  # highest accuracy, then lowest cross-entropy
    best_w = float(grid[best_i])
    best = task.accuracy(genome, best_w)
    rand_shared = task.accuracy(genome, rng.uniform(-2, 2, draws))
    conn = rng.uniform(-2, 2, size=(draws, max(len(genome.connections), 1)))
    rand_ind = task.accuracy(genome, conn_weights=conn)
    return Assessment(
        task=task.spec(),
        metric="accuracy",
        episodes=draws,
        seed=seed,
        train_samples=len(task.y_train),
        test_samples=len(task.y_test),
        connections=genome.n_connections,
        nodes=genome.n_nodes,
        search_values=[{"weight": float(w), "mean": float(a), "sd": 0.0} for w, a in zip(search_values, per_value)],
        search_values_mean=float(per_value.mean()),
        search_values_sd=float(per_value.std(ddof=0)),
        best_shared={
            "weight": best_w,
            "mean": best,
            "sd": 0.0,
            "selection": "train split",
            "selection_mean": float(train_acc[best_i]),
        },
        random_shared=_stats(rand_shared),
        random_individual=_stats(rand_ind),
        ensemble_accuracy=task.ensemble_accuracy(genome, sv),
        weight_profile={"weights": [float(w) for w in grid], "train_accuracy": [float(x) for x in train_acc]},
    )


def _format_classify(r: dict[str, Any]) -> str:
    def pct(x):
        return f"{100 * x:6.2f} %"

    lines = [
        f"task {r['task']['name']}, {r['connections']} connections, accuracy on the {r['test_samples']} held-out "
        f"test samples ({r['train_samples']} training samples)"
    ]
    for v in r["search_values"]:
        lines.append(f"  shared weight {v['weight']:+5.2f}: {pct(v['mean'])}")
    lines.append(f"  mean over search values: {pct(r['search_values_mean'])}")
    lines.append(f"  ensemble of the search values: {pct(r['ensemble_accuracy'])}")
    b = r["best_shared"]
    lines.append(
        f"  best shared weight {b['weight']:+5.2f} (chosen on the training split, {pct(b['selection_mean'])} there): "
        f"{pct(b['mean'])}"
    )
    n = r["episodes"]
    rs, ri = r["random_shared"], r["random_individual"]
    lines.append(f"  random shared weight U(-2,2), {n} draws: {pct(rs['mean'])} +- {100 * rs['sd']:.2f}")
    lines.append(f"  random individual weights U(-2,2), {n} draws: {pct(ri['mean'])} +- {100 * ri['sd']:.2f}")
    return "\n".join(lines)


def format_assessment(a: Assessment | dict[str, Any]) -> str:
    """The assessment as the text `wann evaluate` prints."""
    r = a.to_dict() if isinstance(a, Assessment) else a
    if r.get("metric") == "accuracy":
        return _format_classify(r)
    lines = [
        f"task {r['task']['name']}, {r['connections']} connections, {r['episodes']} fresh episodes "
        f"(seeds {r['seed']}..{r['seed'] + r['episodes'] - 1})"
    ]
    for v in r["search_values"]:
        lines.append(f"  shared weight {v['weight']:+5.2f}: {v['mean']:9.2f} +- {v['sd']:.2f}")
    lines.append(f"  mean over search values: {r['search_values_mean']:9.2f}")
    b = r["best_shared"]
    lines.append(
        f"  best shared weight {b['weight']:+5.2f} (chosen on {b['selection_episodes']} other episodes): "
        f"{b['mean']:9.2f} +- {b['sd']:.2f}"
    )
    lines.append(f"  random shared weight U(-2,2): {r['random_shared']['mean']:9.2f} +- {r['random_shared']['sd']:.2f}")
    lines.append(
        f"  random individual weights U(-2,2): {r['random_individual']['mean']:9.2f} +- "
        f"{r['random_individual']['sd']:.2f}"
    )
    return "\n".join(lines)
