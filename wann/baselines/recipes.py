"""Recipes: how each method of the registry (`wann.baselines.methods`) makes its network.

A recipe is ``recipe(ctx: Context) -> list[TrainResult]``: the method's own result first, then
the parents it had to train itself (a pruned net returns [pruned, dense]). `wann train` calls a
recipe with no parents, so it trains them; a study passes the parents its other cells trained
(`Context.parents`, e.g. the seed's dense net for an RL pruned net), so each is trained once.

Budgets (`Context.budget`, `Context.epochs`): RL counterparts train for ``budget`` episodes
(CMA-ES, NEAT); classification counterparts trained with torch run ``epochs`` epochs of Adam,
while CMA-ES and NEAT on a classification task count ``budget`` minibatch evaluations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wann.baselines.common import Budget, TrainResult
from wann.baselines.methods import CLASSIFY, REGISTRY
from wann.genome import Genome
from wann.measures.assess import Assessment


@dataclass
class Context:
    """Everything a recipe may use. `hidden`: the dense shape (the dense net itself, and the
    parent shape of pruned and sparse nets; default: the task's reference shape). `target`: the
    connection count of sized methods. `parents`: trained parents by method name."""

    task: Any
    executor: Any
    seed: int
    budget: int
    epochs: int
    champion: Genome | None = None
    target: int | None = None
    hidden: list[int] | None = None
    parents: dict[str, TrainResult] = field(default_factory=dict)
    test_episodes: int = 100
    progress: Callable[[str], None] | None = None

    @property
    def classify(self) -> bool:
        return self.task.kind == CLASSIFY

    @property
    def kw(self) -> dict[str, Any]:
        """Keyword arguments of every RL recipe function."""
        return {"test_episodes": self.test_episodes, "progress": self.progress}

    def shape(self) -> list[int]:
        if self.hidden is not None:
            return list(self.hidden)
        if self.classify:
            return classify_hidden(self.task)
        from wann.baselines.rl import dense_layout

        return dense_layout(self.task.name, self.task.n_inputs, self.task.n_outputs)["dense"]


def classify_hidden(task) -> list[int]:
    """The reference hidden width of a classification counterpart (one hidden layer)."""
    return [128] if task.n_inputs >= 32 else [32]


# ---- the WANN conditions --------------------------------------------------------------------


def assessed(ctx: Context) -> tuple[list[TrainResult], Assessment]:
    """Every assessed condition of the champion (`wann.measures.assess`), one result each, in
    registry order (wann_six_values, wann_random_shared, wann_random_individual,
    wann_best_shared, and wann_ensemble for classification), and the assessment itself. The
    best-shared row's network carries the chosen weight; the others carry 1.0 (their weights
    vary per episode)."""
    from wann.measures.assess import assess
    from wann.weighted import WeightedNetwork

    champion, n = ctx.champion, ctx.test_episodes
    a = assess(champion, None, episodes=n)
    rows = {
        "wann_six_values": (a.search_values_mean, a.search_values_sd),
        "wann_random_shared": (a.random_shared["mean"], a.random_shared["sd"]),
        "wann_random_individual": (a.random_individual["mean"], a.random_individual["sd"]),
        "wann_best_shared": (a.best_shared["mean"], a.best_shared["sd"]),
    }
    if ctx.classify:
        rows["wann_ensemble"] = (a.ensemble_accuracy, 0.0)
    w, C = a.best_shared["weight"], len(champion.connections)
    out = []
    for m, (mean, sd) in rows.items():
        net = WeightedNetwork(champion, np.full(C, w if m == "wann_best_shared" else 1.0))
        out.append(TrainResult(m, net, {"mean": mean, "sd": sd, "n": n}, Budget()))
    return out, a


def _assessed_one(name: str):
    def recipe(ctx: Context) -> list[TrainResult]:
        return [next(r for r in assessed(ctx)[0] if r.method == name)]

    recipe.__name__ = name
    return recipe


def best_shared(ctx: Context) -> list[TrainResult]:
    """`wann train wann_best_shared`: the shared weight chosen by a grid search on training
    episodes (its episodes are the budget); a study assesses it with the other conditions."""
    from wann.baselines import rl

    return [rl.best_shared(ctx.executor, ctx.task, ctx.champion, test_episodes=ctx.test_episodes)]


def tuned(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl

    return [rl.tune_wann(ctx.executor, ctx.task, ctx.champion, ctx.budget, ctx.seed, **ctx.kw)]


def retrained(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl

    return [rl.retrain_topology(ctx.executor, ctx.task, ctx.champion, ctx.budget, ctx.seed, **ctx.kw)]


# ---- dense and sparse counterparts ----------------------------------------------------------


def dense(ctx: Context, method: str = "dense") -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    if ctx.classify:
        return [sv.train_dense(ctx.task, ctx.shape(), ctx.epochs, ctx.seed)[0]]
    return [rl.train_dense(ctx.executor, ctx.task, ctx.shape(), ctx.budget, ctx.seed, method=method, **ctx.kw)]


def small_dense(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    h = rl.small_dense_width(ctx.task.n_inputs, ctx.task.n_outputs, ctx.target)
    if ctx.classify:
        return [sv.train_dense(ctx.task, [h], ctx.epochs, ctx.seed, method="small_dense")[0]]
    return [rl.train_dense(ctx.executor, ctx.task, [h], ctx.budget, ctx.seed, method="small_dense", **ctx.kw)]


def _rl_parent(ctx: Context) -> TrainResult:
    """The seed's dense net: given by the study, else trained here."""
    if "dense" in ctx.parents:
        return ctx.parents["dense"]
    from wann.baselines import rl

    return rl.train_dense(ctx.executor, ctx.task, ctx.shape(), ctx.budget, ctx.seed, **ctx.kw)


def _pruned(criterion: str):
    def recipe(ctx: Context) -> list[TrainResult]:
        from wann.baselines import rl
        from wann.baselines import supervised as sv

        if ctx.classify:  # torch parents are cheap and deterministic: always retrained here
            parent, model, _ = sv.train_dense(ctx.task, ctx.shape(), ctx.epochs, ctx.seed)
            pruned, _ = sv.prune(
                ctx.task, ctx.shape(), copy.deepcopy(model), ctx.target, criterion, ctx.epochs, ctx.seed
            )
            return [pruned, parent]
        parent = _rl_parent(ctx)
        pruned = rl.prune(ctx.executor, ctx.task, parent, ctx.target, criterion, ctx.budget, ctx.seed, **ctx.kw)
        return [pruned] if "dense" in ctx.parents else [pruned, parent]

    recipe.__name__ = f"pruned_{criterion}"
    return recipe


def lottery_ticket(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    if ctx.classify:
        parent, model, init = sv.train_dense(ctx.task, ctx.shape(), ctx.epochs, ctx.seed)
        pruned, mask = sv.prune(
            ctx.task, ctx.shape(), copy.deepcopy(model), ctx.target, "magnitude", ctx.epochs, ctx.seed
        )
        return [
            sv.retrain_masked(ctx.task, ctx.shape(), mask, init, ctx.epochs, ctx.seed, "lottery_ticket"),
            pruned,
            parent,
        ]
    parent = _rl_parent(ctx)
    if "pruned_magnitude" in ctx.parents:
        pruned = ctx.parents["pruned_magnitude"]
        return [rl.lottery_ticket(ctx.executor, ctx.task, parent, pruned, ctx.budget, ctx.seed, **ctx.kw)]
    pruned = rl.prune(ctx.executor, ctx.task, parent, ctx.target, "magnitude", ctx.budget, ctx.seed, **ctx.kw)
    return [rl.lottery_ticket(ctx.executor, ctx.task, parent, pruned, ctx.budget, ctx.seed, **ctx.kw), pruned, parent]


def random_sparse(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    if ctx.classify:
        return [sv.random_sparse(ctx.task, ctx.shape(), ctx.target, ctx.epochs, ctx.seed)]
    return [rl.random_sparse(ctx.executor, ctx.task, ctx.shape(), ctx.target, ctx.budget, ctx.seed, **ctx.kw)]


def neat(ctx: Context) -> list[TrainResult]:
    from wann.baselines.neat_baseline import train_neat

    return [train_neat(ctx.executor, ctx.task, ctx.budget, ctx.seed, **ctx.kw)]


#: method name -> recipe (every selectable method of the registry has one)
RECIPES: dict[str, Callable[[Context], list[TrainResult]]] = {
    "wann_random_shared": _assessed_one("wann_random_shared"),
    "wann_random_individual": _assessed_one("wann_random_individual"),
    "wann_best_shared": best_shared,
    "wann_ensemble": _assessed_one("wann_ensemble"),
    "wann_tuned": tuned,
    "wann_retrained": retrained,
    "dense": dense,
    "small_dense": small_dense,
    "pruned_magnitude": _pruned("magnitude"),
    "pruned_taylor": _pruned("taylor"),
    "lottery_ticket": lottery_ticket,
    "random_sparse": random_sparse,
    "neat": neat,
}


def run(name: str, ctx: Context) -> list[TrainResult]:
    """Run the recipe of `name`; a probed method's result gets its structure probe (the sparse
    mask with one shared weight, signs kept / all positive) in info["shared_weight_probe"]."""
    results = RECIPES[name](ctx)
    if REGISTRY[name].probed and "shared_weight_probe" not in results[0].info:
        from wann.baselines.rl import shared_weight_probe

        results[0].info["shared_weight_probe"] = shared_weight_probe(
            ctx.executor, results[0].network, episodes=10, test_episodes=ctx.test_episodes
        )
    return results
