"""Trained and pruned counterparts on RL tasks: the recipes, scored with the project's own evaluators.

Each recipe builds a network, trains it with the CMA-ES engine (`wann.baselines.cmaes`, where the
budget in episodes and the weight-vector shapes are defined) and scores it on fresh test episodes:
- dense / small dense: an MLP (tanh hidden, linear outputs) from small random weights;
- WANN champion: best shared weight (grid search), individually tuned weights (CMA-ES offsets
  from the best shared value), or the topology retrained from fresh random weights;
- pruned: a trained dense net pruned to a target count a round at a time (magnitude or Taylor
  criterion, `wann.baselines.pruning`), each round followed by CMA-ES fine-tuning of the kept
  weights;
- lottery ticket: the final magnitude mask, kept weights rewound to their initial values and
  retrained; random sparse: a connectivity-checked random mask of the same count, trained.
"""

from __future__ import annotations

import numpy as np

from wann import activations
from wann.baselines.cmaes import Progress, cmaes, fit_masked, init_weights, score
from wann.baselines.common import Budget, CpuClock, TrainResult
from wann.baselines.pruning import layer_ids, normalise_per_layer, output_sensitivity, prune_to, random_mask
from wann.genome import Genome
from wann.seeds import DEFAULT_SHARED_WEIGHTS
from wann.weighted import WeightedNetwork, mlp_genome, with_mask


def small_dense_width(n_in: int, n_out: int, target_connections: int) -> int:
    """Hidden width of a one-layer MLP whose connection count (biases included) is closest to
    the target: h (n_in + 1) + n_out (h + 1)."""
    return max(1, round((target_connections - n_out) / (n_in + 1 + n_out)))


def train_dense(
    executor,
    task,
    hidden: list[int],
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
    method: str = "dense",
) -> TrainResult:
    """An MLP (tanh hidden, linear outputs) trained with CMA-ES from small random weights."""
    g = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    C = len(g.connections)
    x0 = init_weights(C, seed)
    w, budget, ck = cmaes(
        executor,
        g,
        np.zeros(C),
        np.ones(C, bool),
        x0,
        budget_episodes,
        seed,
        progress=progress,
        label=f"{method} {task.n_inputs}-{'-'.join(map(str, hidden))}-{task.n_outputs}",
    )
    net = WeightedNetwork(g, w, {"method": method, "hidden": hidden, "init": x0.tolist()})
    return TrainResult(
        method, net, score(executor, net, test_episodes), budget, ck, {"hidden": hidden, "parameters": C}
    )


def best_shared(
    executor, task, champion: Genome, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> TrainResult:
    """Grid search of the shared weight on training episodes (-2..2 step 0.1, 0 excluded)."""
    from wann.measures.assess import weight_grid

    clock = CpuClock(executor)
    grid = weight_grid(DEFAULT_SHARED_WEIGHTS)
    C = len(champion.connections)
    rows = np.repeat(grid[:, None], C, axis=1)
    r, st = executor.evaluate_weights(champion, rows, list(range(seed, seed + episodes)))
    budget = Budget()
    budget.add(r.size, st.sum(), clock.lap())
    w = float(grid[int(np.argmax(r.mean(axis=1)))])
    net = WeightedNetwork(champion, np.full(C, w), {"method": "wann_best_shared", "shared_weight": w})
    return TrainResult(
        "wann_best_shared",
        net,
        score(executor, net, test_episodes),
        budget,
        info={"shared_weight": w, "profile": r.mean(axis=1).tolist(), "grid": grid.tolist()},
    )


def tune_wann(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Individual weights tuned by CMA-ES as offsets from the best shared value."""
    start = best_shared(executor, task, champion)
    w0 = start.network.weights
    free = np.array([c.enabled for c in champion.connections])
    w, budget, ck = cmaes(
        executor,
        champion,
        w0,
        free,
        w0[free],
        budget_episodes,
        seed,
        budget=start.budget,
        progress=progress,
        label="wann_tuned",
        sigma0=0.1,  # fine-tuning offsets around w*, the step size the pruned nets are fine-tuned with
    )
    net = WeightedNetwork(champion, w, {"method": "wann_tuned", "from_shared": start.info["shared_weight"]})
    return TrainResult(
        "wann_tuned", net, score(executor, net, test_episodes), budget, ck, {"from_shared": start.info["shared_weight"]}
    )


def retrain_topology(
    executor,
    task,
    champion: Genome,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """The champion's topology with fresh random weights, trained: is the graph a good ticket?"""
    mask = np.array([c.enabled for c in champion.connections])
    return fit_masked(
        executor,
        champion,
        mask,
        init_weights(len(mask), seed),
        budget_episodes,
        seed,
        "wann_retrained",
        test_episodes,
        progress,
    )


def prune(
    executor,
    task,
    dense: TrainResult,
    target: int,
    criterion: str,
    budget_episodes: int,
    seed: int,
    rounds: int = 3,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """Iterative pruning of a trained dense net to `target` connections ('magnitude' or 'taylor'),
    each round fine-tuned by CMA-ES over the kept weights."""
    g0 = dense.network.genome
    w = dense.network.weights.copy()
    mask = dense.network.mask.copy()
    layers = layer_ids(g0)
    n0 = int(mask.sum())
    budget = Budget()
    ck_all: list[dict] = []
    for r in range(1, rounds + 1):
        count = max(target, round(n0 * (target / n0) ** (r / rounds)))
        net = WeightedNetwork(with_mask(g0, mask), w)
        raw = np.abs(w) if criterion == "magnitude" else output_sensitivity(task, net)
        s = normalise_per_layer(raw, layers, mask)
        mask = prune_to(g0, mask, s, count)
        g = with_mask(g0, mask)
        w, budget, ck = cmaes(
            executor,
            g,
            np.where(mask, w, 0.0),
            mask,
            w[mask],
            budget_episodes // rounds,
            seed + r,
            sigma0=0.1,
            budget=budget,
            progress=progress,
            label=f"{criterion} round {r}/{rounds} ({int(mask.sum())} connections)",
            span=((r - 1) * (budget_episodes // rounds), rounds * (budget_episodes // rounds)),
        )
        ck_all += ck
    net = WeightedNetwork(with_mask(g0, mask), np.where(mask, w, 0.0), {"method": f"pruned_{criterion}"})
    return TrainResult(
        f"pruned_{criterion}",
        net,
        score(executor, net, test_episodes),
        budget,
        ck_all,
        {"target": target, "rounds": rounds, "from": dense.method},
    )


def lottery_ticket(
    executor,
    task,
    dense: TrainResult,
    pruned: TrainResult,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """The pruned mask with kept weights rewound to the dense net's initial values, retrained."""
    init = np.asarray(dense.network.meta["init"])
    return fit_masked(
        executor,
        pruned.network.genome,
        pruned.network.mask,
        init,
        budget_episodes,
        seed,
        "lottery_ticket",
        test_episodes,
        progress,
    )


def random_sparse(
    executor,
    task,
    hidden: list[int],
    target: int,
    budget_episodes: int,
    seed: int,
    test_episodes: int = 100,
    progress: Progress | None = None,
) -> TrainResult:
    """A random connectivity-checked mask of `target` connections on the dense shape, trained."""
    g0 = mlp_genome(task.n_inputs, hidden, task.n_outputs, activations.TANH)
    mask = random_mask(g0, target, seed)
    return fit_masked(
        executor,
        with_mask(g0, mask),
        mask,
        init_weights(len(mask), seed),
        budget_episodes,
        seed,
        "random_sparse",
        test_episodes,
        progress,
    )


def shared_weight_probe(
    executor, net: WeightedNetwork, episodes: int = 20, seed: int = 5_000_000, test_episodes: int = 100
) -> dict:
    """A (pruned) mask evaluated WANN-style: every kept weight = sign(w) * one shared value (signs
    kept), and all positive. Returns both shared-weight profiles and the best value's test score."""
    from wann.measures.assess import weight_grid

    grid = weight_grid(DEFAULT_SHARED_WEIGHTS)
    sign = np.sign(net.weights)
    sign[sign == 0] = 1.0
    out = {}
    for name, base in (("signed", sign), ("positive", np.ones_like(sign))):
        rows = grid[:, None] * base[None, :]
        r, _ = executor.evaluate_weights(net.genome, rows, list(range(seed, seed + episodes)))
        prof = r.mean(axis=1)
        best = int(np.argmax(prof))
        test = score(executor, WeightedNetwork(net.genome, rows[best]), test_episodes)
        out[name] = {"grid": grid.tolist(), "profile": prof.tolist(), "best_weight": float(grid[best]), "test": test}
    return out


def dense_layout(task_name: str, n_in: int, n_out: int) -> dict[str, list[int]]:
    """The reference shapes: swing-up 5-10-1 and 5-32-32-1; biped 24-40-40-4; others 1 x 32."""
    if "SwingUp" in task_name:
        return {"dense": [10], "dense_large": [32, 32]}
    if "Bipedal" in task_name:
        return {"dense": [40, 40]}
    return {"dense": [32]}


__all__ = [
    "score",
    "small_dense_width",
    "train_dense",
    "best_shared",
    "tune_wann",
    "retrain_topology",
    "prune",
    "lottery_ticket",
    "random_sparse",
    "shared_weight_probe",
    "dense_layout",
]
