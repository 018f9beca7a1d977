"""Recipes: how each method of the registry (`wann.baselines.methods`) makes its network.

A recipe is ``recipe(ctx: Context) -> list[TrainResult]``: the method's own result first, then
the parents it had to train itself (a pruned net returns [pruned, dense]). `wann train` calls a
recipe with no parents, so it trains them; a study passes the parents its other cells trained
(`Context.parents`, e.g. the seed's dense net for an RL pruned net), so each is trained once.

Budgets (`Context.budget`, `Context.epochs`): RL counterparts train for exactly ``budget``
episodes (CMA-ES, NEAT); every trained classification counterpart (the tuned and retrained WANN
included: `genome_adam`) runs the one Adam recipe for exactly ``epochs x`` the training split in
examples, while NEAT on a classification task counts ``budget`` minibatch evaluations. Pruned
nets, tickets and the ticket control spend that budget over their rounds (the same schedule for
all); their parents' training comes on top, and `run` records the whole cost (own + every
ancestor) in ``info["cost"]``. A net pruned after a fraction t of its parent's training
(`pruned_at`, `pruned_at_rewind`) is charged t of the parent's cost: the prefix it needed.

Initialisation (`Context.init`, `Context.init_seed`): every recipe that draws initial weights
draws them by the scheme of `wann.baselines.inits` from ``init_seed`` (default: ``seed``); a
pruned net or ticket inherits its parent's init (the parent is trained at the same scheme).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from wann.baselines.common import Budget, TrainResult
from wann.baselines.methods import CLASSIFY, DERIVED, REGISTRY
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
    #: initialisation scheme of the network's initial weights (`wann.baselines.inits.SCHEMES`)
    init: str = "default"
    #: seed of the initial weights (None: `seed`); a study's replicates re-draw only these
    init_seed: int | None = None
    #: timed methods: the fraction of the parent's training after which it is pruned, in (0, 1]
    at: float | None = None

    @property
    def classify(self) -> bool:
        return self.task.kind == CLASSIFY

    @property
    def kw(self) -> dict[str, Any]:
        """Keyword arguments of every RL recipe function."""
        return {"test_episodes": self.test_episodes, "progress": self.progress}

    @property
    def pk(self) -> dict[str, Any]:
        """The progress keyword of every classification (torch Adam) recipe function."""
        return {"progress": self.progress}

    @property
    def init_kw(self) -> dict[str, Any]:
        """The initialisation keywords of every recipe function that draws initial weights."""
        return {"init": self.init, "init_seed": self.init_seed}

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
    """Individual weights from the best shared weight: classification, ``epochs`` of the dense
    nets' Adam recipe (`genome_adam`); RL, CMA-ES for ``budget`` episodes, like every RL method."""
    if ctx.classify:
        from wann.baselines.genome_adam import tune_wann_adam

        return [tune_wann_adam(ctx.task, ctx.champion, ctx.epochs, ctx.seed, ctx.progress)]
    from wann.baselines import rl

    return [rl.tune_wann(ctx.executor, ctx.task, ctx.champion, ctx.budget, ctx.seed, **ctx.kw)]


def retrained(ctx: Context) -> list[TrainResult]:
    """The champion's topology from a fresh random init, trained with the task kind's optimiser
    (classification: Adam for ``epochs``, `genome_adam`; RL: CMA-ES for ``budget`` episodes)."""
    if ctx.classify:
        from wann.baselines.genome_adam import retrain_topology_adam

        return [retrain_topology_adam(ctx.task, ctx.champion, ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)]
    from wann.baselines import rl

    return [rl.retrain_topology(ctx.executor, ctx.task, ctx.champion, ctx.budget, ctx.seed, **ctx.kw, **ctx.init_kw)]


# ---- dense and sparse counterparts ----------------------------------------------------------


def dense(ctx: Context, method: str = "dense") -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    if ctx.classify:
        return [sv.train_dense(ctx.task, ctx.shape(), ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)[0]]
    return [
        rl.train_dense(
            ctx.executor, ctx.task, ctx.shape(), ctx.budget, ctx.seed, method=method, **ctx.kw, **ctx.init_kw
        )
    ]


def small_dense(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl
    from wann.baselines import supervised as sv

    h = rl.small_dense_width(ctx.task.n_inputs, ctx.task.n_outputs, ctx.target)
    if ctx.classify:
        return [
            sv.train_dense(ctx.task, [h], ctx.epochs, ctx.seed, method="small_dense", **ctx.pk, **ctx.init_kw)[0]
        ]
    return [
        rl.train_dense(ctx.executor, ctx.task, [h], ctx.budget, ctx.seed, method="small_dense", **ctx.kw, **ctx.init_kw)
    ]


def _rl_parent(ctx: Context) -> TrainResult:
    """The seed's dense net: given by the study, else trained here."""
    if "dense" in ctx.parents:
        return ctx.parents["dense"]
    from wann.baselines import rl

    return rl.train_dense(ctx.executor, ctx.task, ctx.shape(), ctx.budget, ctx.seed, **ctx.kw, **ctx.init_kw)


def _classify_parent(ctx: Context):
    """The seed's dense torch parent (at the cell's init scheme), retrained here: cheap and
    deterministic."""
    from wann.baselines import supervised as sv

    return sv.train_parent(ctx.task, ctx.shape(), ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)


def _own_parents(ctx: Context, trained: list[TrainResult]) -> list[TrainResult]:
    """The parents a recipe trained itself (not given by the study), for its result list."""
    return [r for r in trained if r.method not in ctx.parents]


def _pruned(criterion: str):
    def recipe(ctx: Context) -> list[TrainResult]:
        from wann.baselines import rl_pruning as rlp
        from wann.baselines import supervised_pruning as svp

        if ctx.classify:  # torch parents are cheap and deterministic: always retrained here
            parent = _classify_parent(ctx)
            pruned, _ = svp.prune(
                ctx.task, ctx.shape(), parent.model, ctx.target, criterion, ctx.epochs, ctx.seed, parent, **ctx.pk
            )
            return [pruned, parent.result]
        parent = _rl_parent(ctx)
        pruned = rlp.prune(ctx.executor, ctx.task, parent, ctx.target, criterion, ctx.budget, ctx.seed, **ctx.kw)
        return [pruned, *_own_parents(ctx, [parent])]

    recipe.__name__ = f"pruned_{criterion}"
    return recipe


def _ticket(rewind: str):
    """lottery_ticket (rewind='init') and ticket_late_rewind (rewind='early'): iterative magnitude
    pruning of the dense net with rewinding, on the pruned nets' schedule and budget."""

    def recipe(ctx: Context) -> list[TrainResult]:
        from wann.baselines import rl_pruning as rlp
        from wann.baselines import supervised_pruning as svp

        if ctx.classify:
            parent = _classify_parent(ctx)
            t = svp.ticket(ctx.task, ctx.shape(), parent, ctx.target, ctx.epochs, ctx.seed, rewind, **ctx.pk)
            return [t, parent.result]
        parent = _rl_parent(ctx)
        t = rlp.ticket(ctx.executor, ctx.task, parent, ctx.target, ctx.budget, ctx.seed, rewind, **ctx.kw)
        return [t, *_own_parents(ctx, [parent])]

    recipe.__name__ = "lottery_ticket" if rewind == "init" else "ticket_late_rewind"
    return recipe


lottery_ticket = _ticket("init")
ticket_late_rewind = _ticket("early")


def ticket_random_init(ctx: Context) -> list[TrainResult]:
    """The ticket's control: the lottery ticket's masks from a fresh random initialisation, on
    the identical schedule and budget (returns [control, ticket, dense] less the given parents)."""
    from wann.baselines import rl_pruning as rlp
    from wann.baselines import supervised_pruning as svp

    if ctx.classify:
        parent = _classify_parent(ctx)
        t = svp.ticket(ctx.task, ctx.shape(), parent, ctx.target, ctx.epochs, ctx.seed, "init", **ctx.pk)
        c = svp.ticket_control(ctx.task, ctx.shape(), parent, t, ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)
        return [c, t, parent.result]
    parent = _rl_parent(ctx)
    t = ctx.parents.get("lottery_ticket")
    if t is None or "masks" not in t.network.meta:
        t = rlp.ticket(ctx.executor, ctx.task, parent, ctx.target, ctx.budget, ctx.seed, "init", **ctx.kw)
    c = rlp.ticket_control(ctx.executor, ctx.task, parent, t, ctx.budget, ctx.seed, **ctx.kw, **ctx.init_kw)
    return [c, *_own_parents(ctx, [t, parent])]


def random_sparse(ctx: Context) -> list[TrainResult]:
    from wann.baselines import rl_pruning as rlp
    from wann.baselines import supervised_pruning as svp

    if ctx.classify:
        return [
            svp.random_sparse(ctx.task, ctx.shape(), ctx.target, ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)
        ]
    return [
        rlp.random_sparse(
            ctx.executor, ctx.task, ctx.shape(), ctx.target, ctx.budget, ctx.seed, **ctx.kw, **ctx.init_kw
        )
    ]


def snip(ctx: Context) -> list[TrainResult]:
    """Pruned at initialisation by connection sensitivity (SNIP, Lee et al. 2019) to the target
    count, then trained from its init for the whole budget (no parent: the mask needs only the
    init)."""
    from wann.baselines import rl_pruning as rlp
    from wann.baselines import supervised_pruning as svp

    if ctx.classify:
        return [svp.snip(ctx.task, ctx.shape(), ctx.target, ctx.epochs, ctx.seed, **ctx.pk, **ctx.init_kw)]
    return [rlp.snip(ctx.executor, ctx.task, ctx.shape(), ctx.target, ctx.budget, ctx.seed, **ctx.kw, **ctx.init_kw)]


def _pruned_at(rewind: bool):
    """pruned_at (rewind=False) and pruned_at_rewind: one-shot magnitude pruning of the dense
    parent after ``ctx.at`` of its training, then fine-tuned from those weights or rewound to the
    parent's init, trained for the whole budget; the parent's cost is charged at ``at`` of it."""

    def recipe(ctx: Context) -> list[TrainResult]:
        from wann.baselines import rl_pruning as rlp
        from wann.baselines import supervised_pruning as svp

        if ctx.at is None:
            raise ValueError("a timed method needs Context.at, the prune time in (0, 1]")
        if ctx.classify:
            parent = _classify_parent(ctx)
            r = svp.oneshot(
                ctx.task, ctx.shape(), parent, ctx.target, ctx.at, rewind, ctx.epochs, ctx.seed, **ctx.pk
            )
            return [r, parent.result]
        parent = _rl_parent(ctx)
        r = rlp.oneshot(ctx.executor, ctx.task, parent, ctx.target, ctx.at, rewind, ctx.budget, ctx.seed, **ctx.kw)
        return [r, *_own_parents(ctx, [parent])]

    recipe.__name__ = "pruned_at_rewind" if rewind else "pruned_at"
    return recipe


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
    "pruned_taylor_unit": _pruned("taylor_unit"),
    "lottery_ticket": lottery_ticket,
    "ticket_late_rewind": ticket_late_rewind,
    "ticket_random_init": ticket_random_init,
    "random_sparse": random_sparse,
    "snip": snip,
    "pruned_at": _pruned_at(False),
    "pruned_at_rewind": _pruned_at(True),
    "neat": neat,
}


def run(name: str, ctx: Context) -> list[TrainResult]:
    """Run the recipe of `name`. A probed method's result gets its structure probe (the sparse
    mask with one shared weight, `rl.PROBE_VARIANTS`) in info["shared_weight_probe"], and every
    result its total cost in info["cost"] (`total_cost`)."""
    results = RECIPES[name](ctx)
    if REGISTRY[name].probed and "shared_weight_probe" not in results[0].info:
        from wann.baselines.rl import shared_weight_probe

        results[0].info["shared_weight_probe"] = shared_weight_probe(
            ctx.executor, results[0].network, episodes=10, test_episodes=ctx.test_episodes
        )
    results[0].info["cost"] = total_cost(name, ctx, results)
    return results


def budget_unit(name: str, ctx: Context, result: TrainResult) -> str:
    """What a result's Budget.episodes counts: RL episodes; classification examples (torch Adam)
    or minibatch evaluations (CMA-ES, NEAT)."""
    if not ctx.classify:
        return "episodes"
    return result.info.get("budget_unit", "minibatch evaluations")


def total_cost(name: str, ctx: Context, results: list[TrainResult]) -> dict[str, Any]:
    """The full cost of a method's network: its own training plus that of every ancestor in the
    registry (`Method.parent`, e.g. a ticket control: the ticket and the dense net), whether the
    study gave them (`Context.parents`) or the recipe trained them. The WANN search behind the
    champion is not included (a study reports it apart). Returns {"unit", "own", "parents":
    {method: budget}, "total"}, each budget {"episodes", "env_steps", "cpu_s"}; classification
    with torch counts examples in "episodes"."""
    own = results[0].budget
    chain, m = [], REGISTRY[name].parent
    while m is not None and REGISTRY[m].role != DERIVED:
        chain.append(m)
        m = REGISTRY[m].parent
    by_method = {r.method: r for r in results[1:]}
    # a net pruned after a fraction of its parent's training needed only that prefix of it
    share = float(results[0].info.get("parent_fraction", 1.0))
    parents = {}
    for m in chain:
        r = ctx.parents.get(m) or by_method.get(m)
        if r is not None:
            b = asdict(r.budget)
            parents[m] = {k: round(v * share) if isinstance(v, int) else v * share for k, v in b.items()}
    total = asdict(own)
    for b in parents.values():
        total = {k: total[k] + b[k] for k in total}
    return {"unit": budget_unit(name, ctx, results[0]), "own": asdict(own), "parents": parents, "total": total}
